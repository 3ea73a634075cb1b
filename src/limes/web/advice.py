"""Which unit to send to an incident, ranked, for the map's assign dialog.

By default the map shows the live dispatch advice of `limes.ops.dispatch` (one source of truth
with `/api/incidents/{id}/advice`); a caller of `mount_web` may pass another `AdviceSource`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from limes.ops.dispatch import DispatchConfig, advise
from limes.scenario.model import Scenario
from limes.store.database import Database


@dataclass(frozen=True)
class Proposal:
    """One proposed unit: its estimated time to the incident and the route it would take."""

    unit_id: str
    label: str
    eta_s: float | None
    distance_m: float | None
    route: list[tuple[float, float]] | None  # lon/lat
    source: str  # "advice" for the dispatch advice, else the name of the AdviceSource


#: (incident lon, lat, {unit id: (lon, lat) last reported}) -> ranked advice, best first.
AdviceSource = Callable[[float, float, dict[str, tuple[float, float]]], Sequence[Proposal]]


def dispatch_advice(scenario: Scenario, db: Database, incident_id: int) -> list[Proposal]:
    """The live dispatch advice for an incident (`limes.ops.dispatch`), ranked, for the map."""
    # Imported here: the service assembles the app and mounts the map, not the other way round.
    from limes.service.dispatch_routes import incident_target, situations

    target, _ = incident_target(db, scenario, incident_id, DispatchConfig().lead_s)
    labels = {u.id: u.label or u.id for u in scenario.spec.units}
    return [
        Proposal(
            a.unit_id,
            labels.get(a.unit_id, a.unit_id),
            a.total_s,
            a.distance_m,
            list(a.route) or None,
            "advice",
        )
        for a in advise(scenario, target, situations(db))
    ]

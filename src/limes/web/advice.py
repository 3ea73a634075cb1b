"""Which unit to send to an incident, ranked, for the map's assign dialog.

By default the map shows the live dispatch advice of `limes.ops.dispatch` (one source of truth
with `/api/incidents/{id}/advice`), answered from the kept travel fields
(`ops.dispatch_fields.AdviceCache`) so the dialog opens at once. Each unit's time is set against
the group's time to the strip's inner edge: "can intercept" when it gets there first, "too
late" otherwise. Units already committed (on a dispatch or busy) are listed apart, so an empty
ranking says why it is empty. A caller of `mount_web` may pass another `AdviceSource`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from limes.api.routes.dispatch import incident_target, situations
from limes.ops.dispatch import (
    DispatchConfig,
    advise,
    committed,
)
from limes.ops.dispatch_fields import AdviceCache
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
    intercept: str | None = None  # "can_intercept", "too_late", None (cannot tell)
    margin_s: float | None = None  # group's time to the inner edge minus the unit's


@dataclass(frozen=True)
class AdviceAnswer:
    """The assign dialog's content: free units best first, committed units, the group's time."""

    source: str
    units: list[Proposal]
    committed: list[dict[str, Any]] = field(default_factory=list)
    group_s: float | None = None  # seconds until the group reaches the inner edge


#: (incident lon, lat, {unit id: (lon, lat) last reported}) -> ranked advice, best first.
AdviceSource = Callable[[float, float, dict[str, tuple[float, float]]], Sequence[Proposal]]


def verdict(unit_s: float | None, group_s: float | None) -> tuple[str | None, float | None]:
    """("can_intercept" | "too_late" | None, margin seconds) for a unit's time to the group."""
    if unit_s is None or group_s is None:
        return None, None
    margin = group_s - unit_s
    return ("can_intercept" if margin >= 0 else "too_late"), margin


def dispatch_advice(
    scenario: Scenario, db: Database, incident_id: int, cache: AdviceCache | None = None
) -> AdviceAnswer:
    """The live dispatch advice for an incident, ranked, with intercept verdicts."""
    cfg = cache.config if cache is not None else DispatchConfig()
    target, _, group_s = incident_target(db, scenario, incident_id, cfg.lead_s)
    units = situations(db)
    ranked = cache.advise(target, units) if cache is not None else advise(scenario, target, units)
    labels = {u.id: u.label or u.id for u in scenario.spec.units}
    out = []
    for a in ranked:
        call, margin = verdict(a.total_s, group_s)
        out.append(
            Proposal(
                a.unit_id,
                labels.get(a.unit_id, a.unit_id),
                a.total_s,
                a.distance_m,
                list(a.route) or None,
                "advice",
                call,
                margin,
            )
        )
    busy = [
        {
            "unit_id": s.unit_id,
            "label": labels.get(s.unit_id, s.unit_id),
            "incident_id": s.incident_id,
            "status": s.status,
        }
        for s in committed(scenario, units)
    ]
    return AdviceAnswer("advice", out, busy, group_s)

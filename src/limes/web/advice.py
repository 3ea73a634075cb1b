"""Which unit to send to an incident, ranked, for the map's assign dialog.

`limes serve` may pass the live dispatch advice as an `AdviceSource`; without one, the map ranks
the available units by a straight-line estimate from the scenario's own numbers: mean readiness
plus the distance from the unit's last reported position (else its base) at its off-road speed
(air speed for units that fly). The answer says which of the two it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from limes.scenario.model import Scenario


@dataclass(frozen=True)
class Advice:
    """One proposed unit: its estimated time to the incident and the route it would take."""

    unit_id: str
    label: str
    eta_s: float | None
    distance_m: float | None
    route: list[tuple[float, float]] | None  # lon/lat
    source: str  # "advice" (the dispatch advice) or "distance" (straight-line estimate)


#: (incident lon, lat, {unit id: (lon, lat) last reported}) -> ranked advice, best first.
AdviceSource = Callable[[float, float, dict[str, tuple[float, float]]], Sequence[Advice]]


def straight_line_advice(
    scenario: Scenario,
    lon: float,
    lat: float,
    positions: dict[str, tuple[float, float]],
    busy: set[str],
) -> list[Advice]:
    """Available, not dispatched units ranked by readiness + straight-line travel time."""
    units = [u for u in scenario.spec.units if u.available and u.id not in busy]
    if not units:
        return []
    starts = [positions.get(u.id) or scenario.position_lonlat(u.base) for u in units]
    lonlat = np.asarray(starts, dtype=float)
    sx, sy = scenario.frame.to_xy(lonlat[:, 0], lonlat[:, 1])
    tx, ty = scenario.frame.to_xy(lon, lat)
    dist = np.hypot(np.asarray(sx) - tx, np.asarray(sy) - ty)
    out = []
    for u, start, d in zip(units, starts, dist, strict=True):
        kmh = u.speeds.air_kmh or u.speeds.off_road_kmh or u.speeds.road_kmh
        eta = None if not kmh else u.readiness.mean_s + float(d) / (kmh / 3.6)
        out.append(Advice(u.id, u.label or u.id, eta, float(d), [start, (lon, lat)], "distance"))
    return sorted(out, key=lambda a: (a.eta_s is None, a.eta_s or 0.0, a.distance_m or 0.0))

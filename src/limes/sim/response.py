"""Response units in the exercise: dispatch on a report, travel at scenario speeds, intercept.

The automatic dispatcher acts on the first report of each crossing group (nuisance groups and
false alarms send nobody): after the scenario's alert handling (normal, mean and sd) it orders
the unit with the least mean response to the reported place, among those not out on another
call (`units_exclusive`; otherwise every call finds every unit at home, as the plan assumes).
The unit gets moving after its readiness (normal) and travels to the reported place: ground
units over the same road/off-road Dijkstra the analysis uses (`analysis.response.ground_travel`,
over a window of `unit_reach_km` round the base at `response_cell_m`), helicopters straight at
air speed. The group is interrupted when the unit arrives before the group reaches the goal
(the plan's — EASI's — criterion); it stops there. After `on_scene_s` the unit drives home and
is free again when it gets there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from limes.analysis.response import UnitGroup, ground_travel, road_mask
from limes.geo.grid import Grid
from limes.scenario.model import Scenario
from limes.scenario.schema import Unit
from limes.sensing.movement import pace_s_per_m
from limes.sim.actors import Actor
from limes.sim.config import SimConfig
from limes.sim.emission import Reports

FloatArray = NDArray[np.float64]


@dataclass
class SimUnit:
    """One available unit: base in the frame and, for ground units, its travel field."""

    unit: Unit
    x: float
    y: float
    field: tuple[Grid, FloatArray] | None = None
    free_at_s: float = 0.0

    @property
    def id(self) -> str:
        return self.unit.id


class UnitTravel:
    """Travel seconds from each unit's base to a place (readiness not included)."""

    def __init__(self, scenario: Scenario, cfg: SimConfig) -> None:
        self.scenario = scenario
        self.cfg = cfg
        self.units = [
            SimUnit(u, *scenario.position_xy(u.base)) for u in scenario.spec.units if u.available
        ]

    def seconds(self, unit: SimUnit, x: float, y: float) -> float:
        """Travel time to a frame point; inf where the unit cannot come."""
        sp = unit.unit.speeds
        if sp.air_kmh is not None:
            return float(math.hypot(x - unit.x, y - unit.y) * pace_s_per_m(sp.air_kmh))
        if unit.field is None:
            unit.field = self._ground_field(unit)
        grid, secs = unit.field
        r, c = grid.rowcol(x, y)
        ri, ci = math.floor(float(r)), math.floor(float(c))
        if not (0 <= ri < grid.height and 0 <= ci < grid.width):
            return math.inf
        return float(secs[ri, ci])

    def _ground_field(self, unit: SimUnit) -> tuple[Grid, FloatArray]:
        cell = self.cfg.response_cell_m
        reach = self.cfg.unit_reach_km * 1000.0
        x0 = math.floor((unit.x - reach) / cell) * cell
        y0 = math.floor((unit.y - reach) / cell) * cell
        x1 = math.ceil((unit.x + reach) / cell) * cell
        y1 = math.ceil((unit.y + reach) / cell) * cell
        grid = Grid.north_up(x0, y0, x1, y1, cell)
        sp = unit.unit.speeds
        group = UnitGroup((unit.unit,), None, sp.road_kmh, sp.off_road_kmh, 0.0)
        travel = ground_travel(self.scenario, [group], grid, road_mask(self.scenario, grid))
        # The field starts each base at its readiness mean; the dispatcher draws readiness.
        return grid, travel.seconds[0] - unit.unit.readiness.mean_s


@dataclass(frozen=True)
class Dispatch:
    """One call: which group, which unit, when ordered, off, there, home; and the outcome."""

    actor_id: str
    unit_id: str | None
    ordered_s: float
    depart_s: float
    arrive_s: float
    home_s: float
    target_x: float
    target_y: float
    interrupted: bool


@dataclass
class UnitTrack:
    """A unit's positions over the run: base, out to each call, back (frame metres)."""

    unit_id: str
    times_s: list[float] = field(default_factory=list)
    xy: list[tuple[float, float]] = field(default_factory=list)


def first_reports(reports: Reports, actors: Sequence[Actor]) -> dict[int, int]:
    """Index (into `reports`, in sending order) of the first report of each crossing group."""
    out: dict[int, int] = {}
    for i in np.flatnonzero(reports.actor >= 0):
        a = int(reports.actor[i])
        if a not in out and actors[a].crossing:
            out[a] = int(i)
    return out


def dispatch(
    scenario: Scenario,
    travel: UnitTravel,
    actors: Sequence[Actor],
    reports: Reports,
    cfg: SimConfig,
    rng: np.random.Generator,
    calls: Mapping[int, tuple[float, float, float]] | None = None,
) -> list[Dispatch]:
    """Send units to each crossing group, in the order the calls come.

    `calls`: per actor index, (time s, x, y) of the live system's first alert on the group
    (the watch floor's response); None: the referee's, from ground truth, to the group's
    first report as it arrives.
    """
    out: list[Dispatch] = []
    if not cfg.dispatch:
        return out
    handling = scenario.spec.response.alert_handling
    queue: list[tuple[float, int, float, float, float]]  # order, actor, when, x, y
    if calls is None:
        queue = [
            (r, a, float(reports.send_s[r]), float(reports.x[r]), float(reports.y[r]))
            for a, r in first_reports(reports, actors).items()
        ]
    else:
        queue = [(t, a, t, x, y) for a, (t, x, y) in calls.items()]
    for _, a_idx, ordered, tx, ty in sorted(queue, key=lambda q: (q[0], q[1])):
        actor = actors[a_idx]
        # Draws happen for every call, dispatched or not, so one call's outcome does not shift
        # the random numbers of the next.
        alert_s = max(0.0, float(rng.normal(handling.mean_s, handling.sd_s)))
        z_ready = float(rng.standard_normal())
        best: tuple[float, SimUnit, float] | None = None
        for unit in travel.units:
            if cfg.units_exclusive and unit.free_at_s > ordered:
                continue
            secs = travel.seconds(unit, tx, ty)
            if not math.isfinite(secs):
                continue
            expect = unit.unit.readiness.mean_s + secs
            if best is None or expect < best[0]:
                best = (expect, unit, secs)
        if best is None:
            out.append(Dispatch(actor.id, None, ordered, math.inf, math.inf, math.inf, tx, ty,
                                False))  # fmt: skip
            continue
        _, unit, secs = best
        ready = unit.unit.readiness
        depart = ordered + alert_s + max(0.0, ready.mean_s + ready.sd_s * z_ready)
        arrive = depart + secs
        caught = (
            not actor.blocked
            and actor.goal_s is not None
            and arrive < actor.goal_s
            and (actor.stop_s is None or arrive < actor.stop_s)
        )
        if caught:
            actor.stop_s = arrive
        home = arrive + cfg.on_scene_s + secs
        unit.free_at_s = home
        out.append(Dispatch(actor.id, unit.id, ordered, depart, arrive, home, tx, ty, caught))
    return out


def unit_tracks(travel: UnitTravel, dispatches: Sequence[Dispatch]) -> list[UnitTrack]:
    """Each unit's way points: at base, leaving, arriving, leaving the scene, home."""
    tracks = {u.id: UnitTrack(u.id, [0.0], [(u.x, u.y)]) for u in travel.units}
    base = {u.id: (u.x, u.y) for u in travel.units}
    for d in sorted(dispatches, key=lambda d: d.depart_s):
        if d.unit_id is None:
            continue
        tr = tracks[d.unit_id]
        there = (d.target_x, d.target_y)
        leave = d.arrive_s + (d.home_s - d.arrive_s) - (d.arrive_s - d.depart_s)
        for t, p in ((d.depart_s, base[d.unit_id]), (d.arrive_s, there), (leave, there),
                     (d.home_s, base[d.unit_id])):  # fmt: skip
            tr.times_s.append(t)
            tr.xy.append(p)
    return list(tracks.values())


class RouteMove:
    """A unit moving along a frame polyline at its scenario speeds, then chasing a point.

    Ground units go at road speed over road cells (`road_mask` on a grid of `cell_m` round the
    route) and at off-road speed elsewhere (a road-only unit crosses off-road stretches at its
    road speed, as dispatch advice assumes for end cells); helicopters fly at air speed. Past
    the route's end the unit heads straight for whatever point `advance` is given to chase, at
    its off-road (ground) or air pace.
    """

    def __init__(
        self, scenario: Scenario, unit: Unit, route_xy: FloatArray, cell_m: float = 100.0
    ) -> None:
        self.unit = unit
        pts = np.asarray(route_xy, dtype=float).reshape(-1, 2)
        if len(pts) == 0:
            raise ValueError(f"unit {unit.id}: an empty route")
        self.x, self.y = float(pts[0, 0]), float(pts[0, 1])
        self.points = pts[1:]
        sp = unit.speeds
        if sp.air_kmh is not None:
            self.road_pace = self.off_pace = float(pace_s_per_m(sp.air_kmh))
        else:
            # The schema gives every unit a speed; a ground unit has one of the two.
            road = sp.road_kmh or sp.off_road_kmh or 0.0
            off = sp.off_road_kmh or sp.road_kmh or 0.0
            self.road_pace, self.off_pace = float(pace_s_per_m(road)), float(pace_s_per_m(off))
        self.paces = self._segment_paces(scenario, pts, cell_m)

    def _segment_paces(self, scenario: Scenario, pts: FloatArray, cell_m: float) -> FloatArray:
        n = len(pts) - 1
        if n <= 0 or self.road_pace == self.off_pace or not scenario.spec.roads:
            return np.full(max(n, 0), self.off_pace)
        lo, hi = pts.min(axis=0) - cell_m, pts.max(axis=0) + cell_m
        grid = Grid.north_up(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]), cell_m)
        roads = road_mask(scenario, grid)
        mid = (pts[1:] + pts[:-1]) / 2.0
        r, c = grid.rowcol(mid[:, 0], mid[:, 1])
        ri = np.clip(np.floor(r).astype(int), 0, grid.height - 1)
        ci = np.clip(np.floor(c).astype(int), 0, grid.width - 1)
        return np.where(roads[ri, ci], self.road_pace, self.off_pace)

    @property
    def on_route(self) -> bool:
        """The unit has route left to travel."""
        return len(self.points) > 0

    def advance(self, seconds: float, chase: tuple[float, float] | None = None) -> None:
        """Move on for `seconds`: along the route, then (time left) toward `chase`."""
        left = float(seconds)
        while left > 0 and len(self.points):
            tx, ty = self.points[0]
            pace = float(self.paces[0])
            d = math.hypot(tx - self.x, ty - self.y)
            if d * pace <= left:
                left -= d * pace
                self.x, self.y = float(tx), float(ty)
                self.points, self.paces = self.points[1:], self.paces[1:]
            else:
                f = left / (d * pace)
                self.x += (tx - self.x) * f
                self.y += (ty - self.y) * f
                left = 0.0
        if left > 0 and chase is not None and math.isfinite(self.off_pace):
            d = math.hypot(chase[0] - self.x, chase[1] - self.y)
            step = min(d, left / self.off_pace)
            if d > 0:
                self.x += (chase[0] - self.x) * step / d
                self.y += (chase[1] - self.y) * step / d

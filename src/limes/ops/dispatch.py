"""Dispatch advice: which available unit can be at an incident first, and by which route.

The travel model is the analysis' (`limes.analysis.response`), called, not rewritten: ground
units move over a raster where road cells (`road_mask`) go at the unit's road speed and the
rest at its off-road speed (`pace_s_per_m`), on the 8-connected compiled Dijkstra
(`half_steps`, `shortest_paths`, `trace`); helicopters fly straight at air speed. A unit's time
to the target is its readiness mean plus its travel. One Dijkstra per ground movement class
runs *from the target* (edges are symmetric), so every unit of the class is timed and routed
by one search, and each unit's route is its cell's predecessor chain to the target.

As in the analysis, a unit leaves from its cell even when that cell is off its roads; here it
also arrives at the target cell even when that is off its roads (a road-only unit crosses
those end cells at its road speed), so a target beside a road is not unreachable.

Units are candidates when the scenario has them available, they report no status or
`available`/`returning`, and no running dispatch holds them: assigning a unit to an incident
(a dispatch) takes it out of the ranking until the dispatch ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from limes.analysis.response import road_mask
from limes.analysis.shortest_path import half_steps, shortest_paths, trace
from limes.errors import OpsError
from limes.geo.grid import Grid
from limes.scenario.model import Scenario
from limes.scenario.schema import Unit
from limes.sensing.movement import pace_s_per_m

#: Unit statuses that leave a unit free to be sent (the store's `UnitStatus` values).
FREE_STATUSES: frozenset[str] = frozenset({"available", "returning"})


class DispatchError(OpsError):
    """Dispatch advice cannot be given as asked (the message says what is wrong)."""


@dataclass(frozen=True)
class DispatchConfig:
    """How advice is computed; defaults documented per field.

    - `cell_m` (100 m): travel raster cell; routes and ground times are exact on its centres.
    - `margin_m` (3 km): the raster covers the target and the candidate units plus this margin,
      room for a road that bends outside their bounding box.
    - `lead_s` (300 s): how far ahead a track's position is predicted for the target.
    - `max_ground_km` (150 km): ground units farther than this in a straight line are not
      routed (no road network doubles a distance that large into a useful response).
    - `near_km` (20 km) / `far_cell_m` (500 m) / `field_window_s` (1 h) / `field_reuse_m`
      (3 km): the kept travel fields of `dispatch_fields.AdviceCache`: exact at `cell_m`
      within `near_km` of a unit, at `far_cell_m` beyond (out to `max_ground_km`); rebuilt
      when the unit moves to another cell or the window ends, answered meanwhile from the kept
      field when the unit is within `field_reuse_m` of where it was built.
    """

    cell_m: float = 100.0
    margin_m: float = 3000.0
    lead_s: float = 300.0
    max_ground_km: float = 150.0
    near_km: float = 20.0
    far_cell_m: float = 500.0
    field_window_s: float = 3600.0
    field_reuse_m: float = 3000.0

    def __post_init__(self) -> None:
        for name in ("cell_m", "margin_m", "max_ground_km", "near_km", "far_cell_m",
                     "field_window_s", "field_reuse_m"):  # fmt: skip
            if not getattr(self, name) > 0:
                raise DispatchError(f"DispatchConfig.{name} must be positive")
        if self.lead_s < 0:
            raise DispatchError("DispatchConfig.lead_s must not be negative")


@dataclass(frozen=True, slots=True)
class UnitSituation:
    """What a unit last reported: status, position (None: at its base), running dispatch."""

    unit_id: str
    status: str | None = None
    lon: float | None = None
    lat: float | None = None
    incident_id: int | None = None


@dataclass(frozen=True, slots=True)
class Advice:
    """One unit's answer: seconds to the target (readiness + travel) and its route (lon/lat)."""

    unit_id: str
    kind: str
    mode: str  # "ground" or "air"
    readiness_s: float
    travel_s: float
    total_s: float
    distance_m: float
    route: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Target:
    """Where units are sent: a frame point (and its lon/lat)."""

    x: float
    y: float
    lon: float
    lat: float


def predict_target(
    scenario: Scenario, x: float, y: float, vx: float, vy: float, lead_s: float
) -> Target:
    """A track's straight-course position `lead_s` seconds ahead (frame metres, m/s)."""
    px, py = x + vx * lead_s, y + vy * lead_s
    lon, lat = scenario.frame.to_lonlat(px, py)
    return Target(px, py, float(lon), float(lat))


def target_at_lonlat(scenario: Scenario, lon: float, lat: float) -> Target:
    """A fixed place as a target."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise DispatchError(f"target lon/lat ({lon}, {lat}) is not a WGS84 position")
    x, y = scenario.frame.to_xy(lon, lat)
    if not (math.isfinite(float(x)) and math.isfinite(float(y))):
        raise DispatchError(f"target lon/lat ({lon}, {lat}) lies outside the scenario's frame")
    return Target(float(x), float(y), lon, lat)


def candidates(
    scenario: Scenario, situations: Mapping[str, UnitSituation] | None = None
) -> list[tuple[Unit, float, float]]:
    """Units free to be sent, each with its frame position (reported, else its base)."""
    out = []
    for unit in scenario.spec.units:
        s = (situations or {}).get(unit.id)
        if not unit.available:
            continue
        if s is not None and (s.incident_id is not None or s.status not in (None, *FREE_STATUSES)):
            continue
        if s is not None and s.lon is not None and s.lat is not None:
            x, y = scenario.frame.to_xy(s.lon, s.lat)
            out.append((unit, float(x), float(y)))
        else:
            out.append((unit, *scenario.position_xy(unit.base)))
    return out


def advise(
    scenario: Scenario,
    target: Target,
    situations: Mapping[str, UnitSituation] | None = None,
    config: DispatchConfig | None = None,
) -> list[Advice]:
    """The free units ranked by time to the target (quickest first; unreachable ones left out)."""
    cfg = config or DispatchConfig()
    units = candidates(scenario, situations)
    out = [air_advice(scenario, target, u, x, y) for u, x, y in units if u.speeds.air_kmh]
    reach = cfg.max_ground_km * 1e3
    ground = [
        (u, x, y)
        for u, x, y in units
        if not u.speeds.air_kmh and math.hypot(x - target.x, y - target.y) <= reach
    ]
    if ground:
        out += _by_ground(scenario, target, ground, cfg)
    return sorted(out, key=lambda a: (a.total_s, a.unit_id))


def air_advice(scenario: Scenario, target: Target, unit: Unit, x: float, y: float) -> Advice:
    """A helicopter's answer: readiness, then straight at air speed."""
    assert unit.speeds.air_kmh is not None
    distance = math.hypot(target.x - x, target.y - y)
    travel = distance * float(pace_s_per_m(unit.speeds.air_kmh))
    ready = unit.readiness.mean_s
    lon, lat = scenario.frame.to_lonlat(x, y)
    route = [(float(lon), float(lat)), (target.lon, target.lat)]
    return Advice(unit.id, unit.kind.value, "air", ready, travel, ready + travel, distance, route)


def travel_grid(target: Target, points: Iterable[tuple[float, float]], cfg: DispatchConfig) -> Grid:
    """A north-up raster over the target and the points, edges on multiples of the cell."""
    xs = [target.x, *(p[0] for p in points)]
    ys = [target.y, *(p[1] for p in points)]
    c, m = cfg.cell_m, cfg.margin_m
    x0, y0 = math.floor((min(xs) - m) / c) * c, math.floor((min(ys) - m) / c) * c
    x1, y1 = math.ceil((max(xs) + m) / c) * c, math.ceil((max(ys) + m) / c) * c
    return Grid.north_up(x0, y0, x1, y1, c)


def _by_ground(
    scenario: Scenario,
    target: Target,
    units: list[tuple[Unit, float, float]],
    cfg: DispatchConfig,
) -> list[Advice]:
    grid = travel_grid(target, [(x, y) for _, x, y in units], cfg)
    roads = road_mask(scenario, grid)
    t_cell = _cell(grid, target.x, target.y)
    classes: dict[tuple[float | None, float | None], list[tuple[Unit, float, float]]] = {}
    for u, x, y in units:
        classes.setdefault((u.speeds.road_kmh, u.speeds.off_road_kmh), []).append((u, x, y))
    out = []
    for (road_kmh, off_kmh), members in classes.items():
        # The same pace raster as `analysis.response.ground_travel` builds for a unit group.
        road_v = road_kmh if road_kmh is not None else off_kmh
        pace = np.where(roads, pace_s_per_m(road_v or 0.0), pace_s_per_m(off_kmh or 0.0))
        ends = [t_cell, *(_cell(grid, x, y) for _, x, y in members)]
        for r, c in ends:
            if not np.isfinite(pace[r, c]):
                pace[r, c] = pace_s_per_m(road_v or off_kmh or 0.0)
        ho, hd = half_steps(pace, grid.cell_m)
        seed = np.array([t_cell[0] * grid.width + t_cell[1]], dtype=np.int64)
        dist, pred = shortest_paths(ho, hd, seed)
        for (u, x, y), (r, c) in zip(members, ends[1:], strict=True):
            travel = float(dist[r, c])
            if not np.isfinite(travel):
                continue
            route_xy = route_points(
                grid, trace(pred, r * grid.width + c), (x, y), (target.x, target.y)
            )
            lon, lat = scenario.frame.to_lonlat(route_xy[:, 0], route_xy[:, 1])
            length = float(np.hypot(*np.diff(route_xy, axis=0).T).sum())
            ready = u.readiness.mean_s
            out.append(
                Advice(u.id, u.kind.value, "ground", ready, travel, ready + travel, length,
                       list(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist(), strict=True)))
            )  # fmt: skip
    return out


def _cell(grid: Grid, x: float, y: float) -> tuple[int, int]:
    r, c = grid.rowcol(x, y)
    return math.floor(float(r)), math.floor(float(c))


def route_points(
    grid: Grid,
    cells: NDArray[np.int64],
    origin: tuple[float, float],
    goal: tuple[float, float],
) -> NDArray[np.float64]:
    """The unit's position, the centres of its path's cells (flat indices, unit to target),
    the target; straight runs merged."""
    rows, cols = np.divmod(cells, grid.width)
    cx, cy = grid.xy(rows + 0.5, cols + 0.5)
    pts = np.column_stack([np.r_[origin[0], cx, goal[0]], np.r_[origin[1], cy, goal[1]]])
    # Drop repeated points and the middle of collinear runs: a 10 km road is 2 points, not 100.
    keep = np.r_[True, np.hypot(*np.diff(pts, axis=0).T) > 1e-6 * grid.cell_m]
    pts = pts[keep]
    if len(pts) <= 2:
        return pts
    d = np.diff(pts, axis=0)
    cross = d[:-1, 0] * d[1:, 1] - d[:-1, 1] * d[1:, 0]
    dot = (d[:-1] * d[1:]).sum(axis=1)
    turn = ~((np.abs(cross) < 1e-9 * grid.cell_m**2) & (dot > 0))
    return pts[np.r_[True, turn, True]]


def time_to_inner_edge(
    scenario: Scenario, x: float, y: float, vx: float, vy: float
) -> float | None:
    """Seconds until a track moving straight at (vx, vy) m/s reaches the strip's inner edge
    (`strip.inside_m` in from the line): 0 when already past it, None when not heading in."""
    chainage, offset = scenario.border.locate(x, y)
    inner = scenario.spec.strip.inside_m
    if float(offset) >= inner:
        return 0.0
    nx, ny = scenario.border.inside_normal_at(chainage)
    v_in = vx * float(nx) + vy * float(ny)
    if v_in <= 1e-3:
        return None
    return (inner - float(offset)) / v_in


def committed(
    scenario: Scenario, situations: Mapping[str, UnitSituation] | None
) -> list[UnitSituation]:
    """Units of the scenario that are not free to send (on a dispatch or busy), by id."""
    free = {u.id for u, _, _ in candidates(scenario, situations)}
    out = []
    for unit in scenario.spec.units:
        if unit.id in free or not unit.available:
            continue
        out.append((situations or {}).get(unit.id) or UnitSituation(unit.id))
    return out

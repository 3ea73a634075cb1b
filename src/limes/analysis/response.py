"""Response time: how long after a detection the nearest unit can be at each place.

For a unit u the response to a place is its readiness mean, plus its travel time there, plus the
alert-handling mean. Ground units travel over a cost raster (roads at road speed, off road
elsewhere; one Dijkstra from all bases of a group at once, each base starting at its readiness);
helicopters fly straight at air speed. Units are grouped by how they move and by their readiness
spread; within a group only the quickest matters. A group's spread is the readiness sd and the
alert-handling sd in quadrature. A detection at a place with T seconds of adversary time left
is timely with probability

    P_timely = max over groups g of Φ((T − μ_g) / σ_g),

the best single group's chance. Taking the maximum (not a combination) keeps the result exactly
monotone: adding a unit, or moving one closer, can only raise it. Units do not slow down for
terrain or our own barriers; they travel on our side, where gates and tracks are assumed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from limes.analysis.shortest_path import half_steps, shortest_paths
from limes.geo.grid import Grid
from limes.scenario.model import Scenario
from limes.scenario.schema import Unit
from limes.sensing.barrier import polyline_cells
from limes.sensing.movement import pace_s_per_m

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class UnitGroup:
    """Units that move alike and share a readiness spread; the quickest of them answers."""

    units: tuple[Unit, ...]
    air_kmh: float | None
    road_kmh: float | None
    off_road_kmh: float | None
    sd_s: float

    @property
    def by_air(self) -> bool:
        return self.air_kmh is not None


def unit_groups(units: Sequence[Unit], alert_sd_s: float) -> list[UnitGroup]:
    """Available units grouped by movement and spread (readiness sd ⊕ alert-handling sd)."""
    groups: dict[tuple[object, ...], list[Unit]] = {}
    for u in units:
        if not u.available:
            continue
        sp = u.speeds
        key = (
            (sp.air_kmh, None, None)
            if sp.air_kmh is not None
            else (None, sp.road_kmh, sp.off_road_kmh)
        ) + (u.readiness.sd_s,)
        groups.setdefault(key, []).append(u)
    return [
        UnitGroup(tuple(us), k[0], k[1], k[2], math.hypot(float(k[3]), alert_sd_s))  # type: ignore[arg-type]
        for k, us in groups.items()
    ]


@dataclass(frozen=True)
class GroundTravel:
    """Travel-plus-readiness seconds of each ground group over one response grid."""

    grid: Grid
    seconds: list[FloatArray]  # one per ground group, inf where unreachable


def response_grid(scenario: Scenario, cell_m: float, margin_m: float = 2000.0) -> Grid:
    """A north-up grid covering the strip, the unit bases and the roads near them."""
    x0, y0, x1, y1 = scenario.strip_polygon().bounds
    for u in scenario.spec.units:
        if u.available:
            bx, by = scenario.position_xy(u.base)
            x0, y0, x1, y1 = min(x0, bx), min(y0, by), max(x1, bx), max(y1, by)
    # Cell edges on multiples of the cell size: a unit added inside the box changes no cell.
    x0 = math.floor((x0 - margin_m) / cell_m) * cell_m
    y0 = math.floor((y0 - margin_m) / cell_m) * cell_m
    x1 = math.ceil((x1 + margin_m) / cell_m) * cell_m
    y1 = math.ceil((y1 + margin_m) / cell_m) * cell_m
    return Grid.north_up(x0, y0, x1, y1, cell_m)


def road_mask(scenario: Scenario, grid: Grid) -> NDArray[np.bool_]:
    """Cells of a grid that a road passes through."""
    mask = np.zeros(grid.shape, dtype=bool)
    for road in scenario.spec.roads:
        x, y = scenario.frame.to_xy(*np.asarray(road.path, dtype=float).T)
        rows, cols = polyline_cells(grid, np.column_stack([x, y]))
        mask[rows, cols] = True
    return mask


def corridor_mask(scenario: Scenario, grid: Grid, margin_m: float = 5000.0) -> NDArray[np.bool_]:
    """Cells near enough to the line to matter: the strip, the bases' distance, and a margin.

    Travel is computed only there, so a long diagonal border does not pay for its whole
    bounding box.
    """
    from rasterio.features import rasterize

    reach = max(scenario.spec.strip.outside_m, scenario.spec.strip.inside_m)
    for u in scenario.spec.units:
        if u.available:
            _, off = scenario.locate(*scenario.position_xy(u.base))
            reach = max(reach, float(np.abs(off)))
    poly = scenario.border.line.buffer(reach + margin_m)
    return rasterize(
        [poly],
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        default_value=1,
        dtype="uint8",
    ).astype(bool)


def ground_travel(
    scenario: Scenario, groups: Sequence[UnitGroup], grid: Grid, roads: NDArray[np.bool_]
) -> GroundTravel:
    """One Dijkstra per ground group from its bases, each seeded with its readiness mean."""
    out: list[FloatArray] = []
    corridor = corridor_mask(scenario, grid)
    for g in groups:
        if g.by_air:
            continue
        road_v = g.road_kmh if g.road_kmh is not None else g.off_road_kmh
        off_v = g.off_road_kmh if g.off_road_kmh is not None else 0.0
        pace = np.where(roads, pace_s_per_m(road_v or 0.0), pace_s_per_m(off_v))
        pace = np.where(corridor, pace, np.inf)
        seeds, cost = [], []
        for u in g.units:
            r, c = grid.rowcol(*scenario.position_xy(u.base))
            ri, ci = math.floor(r), math.floor(c)
            if 0 <= ri < grid.height and 0 <= ci < grid.width:
                # A unit leaves its base even when the base cell itself is off its roads.
                if not np.isfinite(pace[ri, ci]):
                    pace[ri, ci] = pace_s_per_m(road_v or off_v or 0.0)
                seeds.append(ri * grid.width + ci)
                cost.append(u.readiness.mean_s)
        ho, hd = half_steps(pace, grid.cell_m)
        dist, _ = shortest_paths(ho, hd, np.asarray(seeds, dtype=np.int64), np.asarray(cost))
        out.append(dist)
    return GroundTravel(grid, out)


@dataclass(frozen=True)
class ResponseField:
    """Mean response time (s) per group on one grid, and the groups' spreads."""

    means: FloatArray  # (groups, rows, cols), inf where no unit of the group can come
    sds: FloatArray  # (groups,)

    def fastest(self) -> FloatArray:
        """The quickest mean response at each cell (inf where no unit can come)."""
        if self.means.shape[0] == 0:
            return np.full(self.means.shape[1:], np.inf)
        return np.asarray(self.means.min(axis=0))

    def p_timely(self, remaining_s: FloatArray) -> FloatArray:
        """max over groups of Φ((T − μ_g)/σ_g) at each cell, T the adversary's time left."""
        out = np.zeros(np.shape(remaining_s))
        for mu, sd in zip(self.means, self.sds, strict=True):
            out = np.maximum(out, timely(remaining_s, mu, float(sd)))
        return out


def timely(remaining_s: FloatArray | float, mean_s: FloatArray | float, sd_s: float) -> FloatArray:
    """Φ((T − μ)/σ): the chance a response of mean μ and spread σ beats T; a step if σ = 0."""
    diff = np.asarray(remaining_s, dtype=float) - np.asarray(mean_s, dtype=float)
    with np.errstate(invalid="ignore"):
        if sd_s > 0:
            p = ndtr(diff / sd_s)
        else:
            p = np.where(diff > 0, 1.0, np.where(diff == 0, 0.5, 0.0))
    return np.nan_to_num(np.asarray(p, dtype=float), nan=0.0)


def response_on(
    scenario: Scenario,
    groups: Sequence[UnitGroup],
    travel: GroundTravel,
    x: FloatArray,
    y: FloatArray,
    alert_mean_s: float,
) -> ResponseField:
    """Each group's mean response time at frame points (any grid's cell centres)."""
    means = []
    ground = iter(travel.seconds)
    r, c = travel.grid.rowcol(x, y)
    ri, ci = np.floor(r).astype(np.intp), np.floor(c).astype(np.intp)
    on = (ri >= 0) & (ri < travel.grid.height) & (ci >= 0) & (ci < travel.grid.width)
    for g in groups:
        if g.by_air:
            assert g.air_kmh is not None
            best = np.full(x.shape, np.inf)
            for u in g.units:
                bx, by = scenario.position_xy(u.base)
                t = u.readiness.mean_s + np.hypot(x - bx, y - by) * pace_s_per_m(g.air_kmh)
                best = np.minimum(best, t)
        else:
            field = next(ground)
            best = np.full(x.shape, np.inf)
            best[on] = field[ri[on], ci[on]]
        means.append(best + alert_mean_s)
    shape = (len(means), *x.shape)
    arr = np.stack(means) if means else np.zeros(shape)
    return ResponseField(arr, np.array([g.sd_s for g in groups], dtype=float))

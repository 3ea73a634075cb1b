"""Barriers as obstacles: the delay each imposes per adversary mode, and its cells on a grid.

A barrier lies along a chainage interval at an offset from the line. On foot it delays by its
`delay[foot]` (mean, sd). A vehicle is stopped by a barrier that `blocks_vehicles` unless the
barrier gives a `breach` time, which is then its delay; a barrier that does not block vehicles
delays them by `delay[vehicle]` when given, else not at all (a vehicle drives over a wire).
Only what stands counts: a built barrier whole, one under construction over the first
`progress_pct` of its interval (building proceeds from `from_km`), a planned one not at all.

On a grid a barrier becomes the cells its line passes through, 4-connected (a supercover of
the line), so that no 8-connected path can slip between two of its cells diagonally. Where
barriers share a cell their delays add (means and variances).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limes.geo.border import BorderLine
from limes.geo.grid import Grid
from limes.scenario.schema import Barrier, BarrierStatus, Mode

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Crossing:
    """What a barrier costs one adversary mode: passable or not, and the delay (s)."""

    passable: bool
    mean_s: float
    sd_s: float


def crossing(barrier: Barrier, mode: Mode) -> Crossing:
    """The delay (or the block) a barrier imposes on an adversary mode."""
    if mode is Mode.VEHICLE and barrier.blocks_vehicles:
        if barrier.breach is None:
            return Crossing(False, math.inf, 0.0)
        return Crossing(True, barrier.breach.mean_s, barrier.breach.sd_s)
    d = barrier.delay.get(mode)
    if d is None:
        return Crossing(True, 0.0, 0.0)
    return Crossing(True, d.mean_s, d.sd_s)


def standing_interval_km(barrier: Barrier) -> tuple[float, float] | None:
    """The chainage interval of a barrier that stands today, or None when nothing stands."""
    if barrier.status is BarrierStatus.BUILT:
        return barrier.from_km, barrier.to_km
    if barrier.status is BarrierStatus.UNDER_CONSTRUCTION and barrier.progress_pct:
        span = (barrier.to_km - barrier.from_km) * barrier.progress_pct / 100.0
        return barrier.from_km, barrier.from_km + span
    return None


def barrier_xy(
    border: BorderLine, from_km: float, to_km: float, offset_m: float, step_m: float
) -> FloatArray:
    """Frame x/y vertices of a barrier's line, sampled every `step_m` along the chainage."""
    s0, s1 = from_km * 1000.0, to_km * 1000.0
    n = max(2, math.ceil((s1 - s0) / step_m) + 1)
    s = np.linspace(s0, s1, n)
    # Keep the line's own vertices so the barrier follows its bends exactly.
    vc = border.vertex_chainage_m
    s = np.union1d(s, vc[(vc > s0) & (vc < s1)])
    x, y = border.point_at(s, offset_m)
    return np.column_stack([x, y])


def polyline_cells(grid: Grid, xy: FloatArray) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows and columns of the cells a polyline passes through, 4-connected, on the grid only.

    The line is sampled at a third of a cell; where two successive samples fall in diagonal
    neighbours, the cell between them that the line enters (the column boundary crossed first
    gives the cell beside, the row boundary the cell below or above) is added, so the cells
    form a 4-connected chain (a supercover of the sampled line) and no 8-connected path can
    cross it without entering one of them.
    """
    pts = np.asarray(xy, dtype=float)
    step = grid.cell_m / 3.0
    # Only the segments whose box (in rows and columns) meets the grid's matter: a long barrier
    # crosses many tiles, and a tile rasterises only its own stretch.
    r_all, c_all = grid.rowcol(pts[:, 0], pts[:, 1])
    r0, r1 = np.minimum(r_all[:-1], r_all[1:]), np.maximum(r_all[:-1], r_all[1:])
    c0, c1 = np.minimum(c_all[:-1], c_all[1:]), np.maximum(c_all[:-1], c_all[1:])
    seg_near = (r1 > -2) & (r0 < grid.height + 2) & (c1 > -2) & (c0 < grid.width + 2)
    seg = np.diff(pts, axis=0)[seg_near]
    start = pts[:-1][seg_near]
    if seg.shape[0] == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    # Every segment cut into n pieces of at most a third of a cell (its ends included), all
    # segments at once; where the line leaves the grid and comes back, the two runs of points
    # are not neighbours and nothing is inserted between them (below).
    n = np.maximum(1, np.ceil(lengths / step).astype(np.intp))
    owner = np.repeat(np.arange(n.size), n + 1)
    k = np.arange(owner.size) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)  # 0 … n
    dense = start[owner] + (k / n[owner])[:, None] * seg[owner]
    r, c = grid.rowcol(dense[:, 0], dense[:, 1])
    ri = np.floor(r).astype(np.intp)
    ci = np.floor(c).astype(np.intp)
    diag = (np.abs(ri[1:] - ri[:-1]) == 1) & (np.abs(ci[1:] - ci[:-1]) == 1)
    # Fraction of the way to the next sample at which the column and the row boundary are met.
    dr, dc = r[1:][diag] - r[:-1][diag], c[1:][diag] - c[:-1][diag]
    t_col = (np.maximum(ci[1:], ci[:-1])[diag] - c[:-1][diag]) / dc
    t_row = (np.maximum(ri[1:], ri[:-1])[diag] - r[:-1][diag]) / dr
    beside = t_col < t_row
    mid_r = np.where(beside, ri[:-1][diag], ri[1:][diag])
    mid_c = np.where(beside, ci[1:][diag], ci[:-1][diag])
    rows = np.concatenate([ri, mid_r])
    cols = np.concatenate([ci, mid_c])
    on = (rows >= 0) & (rows < grid.height) & (cols >= 0) & (cols < grid.width)
    flat = np.unique(rows[on] * grid.width + cols[on])
    return flat // grid.width, flat % grid.width


@dataclass(frozen=True)
class BarrierField:
    """Barrier delays on a grid for one mode: mean and variance added on crossing, and blocks."""

    delay_mean_s: FloatArray
    delay_var_s2: FloatArray
    blocked: NDArray[np.bool_]


def barrier_field(
    grid: Grid, border: BorderLine, barriers: Iterable[Barrier], mode: Mode
) -> BarrierField:
    """Rasterise the standing barriers onto a grid with the delays they impose on `mode`."""
    mean = np.zeros(grid.shape)
    var = np.zeros(grid.shape)
    blocked = np.zeros(grid.shape, dtype=bool)
    for b in barriers:
        interval = standing_interval_km(b)
        if interval is None:
            continue
        xy = barrier_xy(border, *interval, b.offset_m, grid.cell_m / 2.0)
        rows, cols = polyline_cells(grid, xy)
        cr = crossing(b, mode)
        if not cr.passable:
            blocked[rows, cols] = True
            continue
        mean[rows, cols] += cr.mean_s
        var[rows, cols] += cr.sd_s**2
    return BarrierField(mean, var, blocked)

"""The weakest crossing of each km: one backward Dijkstra over that km's lateral window.

A crossing *of km k* starts on the outer edge of the strip opposite km k and reaches the goal
edge without straying more than `lateral_m` of chainage beyond the km's ends. Its start cells
are the km's outermost cells: those whose foot point on the line lies in the km and that lie on
the outer edge (`Motion.start`) or within half a cell of the most outside such cell. On a
straight line they are the cells on the outer edge; where a sharp bend swallows the outer edge
opposite a km (the nearest point of the line from there is another km), they are the
farthest-out cells the km still has, so every km of the line gets starts. A km narrower than
a cell (the line's last, partial km) takes the cells within a cell of its middle.

The window bounds how far the adversary walks along the border, whatever the tiling: the
per-km figure answers "how strong is the line *here*", and the weakest km is the adversary's
best crossing anywhere. Each window's Dijkstra runs on the bounding box of its cells, with
everything outside the window impassable; the cost of every cell in its own km's window is kept
for the map (P of the best way on from there, under the same lateral limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limes.analysis.interruption import CostHalves
from limes.analysis.shortest_path import shortest_paths, trace
from limes.analysis.tiles import Tile

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]


@dataclass(frozen=True)
class KmCrossing:
    """The weakest crossing of one km: its start cell, cost and cells (flat tile indices)."""

    km: int
    start: int
    cost: float
    path: IndexArray


@dataclass(frozen=True)
class Crossings:
    """Every km's weakest crossing in a tile's core, and each core cell's cost in its window."""

    per_km: list[KmCrossing]
    cost: FloatArray


def km_crossings(
    tile: Tile,
    start: NDArray[np.bool_],
    goal: NDArray[np.bool_],
    halves: CostHalves,
    lateral_m: float,
    length_m: float,
) -> Crossings:
    """The weakest crossing of each km in the tile's core, each within its lateral window."""
    ch, off, strip = tile.chainage_m, tile.offset_m, tile.in_strip
    cell = tile.cell_m
    width = tile.grid.width
    col_lo = np.where(strip, ch, np.inf).min(axis=0)
    col_hi = np.where(strip, ch, -np.inf).max(axis=0)
    cost_out = np.full(tile.grid.shape, np.inf)
    out: list[KmCrossing] = []
    c_start, c_end = tile.core_m
    last_km = math.ceil(length_m / 1000.0 - 1e-9) - 1
    for k in range(math.floor(c_start / 1000.0), math.ceil(c_end / 1000.0 - 1e-9)):
        lo, hi = k * 1000.0, min((k + 1) * 1000.0, length_m)
        if hi <= lo:
            continue
        w0, w1 = lo - lateral_m, hi + lateral_m
        cols = np.flatnonzero((col_hi >= w0) & (col_lo <= w1))
        if cols.size == 0:
            continue
        c0, c1 = int(cols[0]), int(cols[-1]) + 1
        sub_ch = ch[:, c0:c1]
        win = strip[:, c0:c1] & (sub_ch >= w0) & (sub_ch <= w1)
        rows = np.flatnonzero(win.any(axis=1))
        if rows.size == 0:
            continue
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        box = (slice(r0, r1), slice(c0, c1))
        win = win[r0:r1]
        sub_ch = sub_ch[r0:r1]
        dist, pred = shortest_paths(
            np.where(win, halves.orth[box], np.inf),
            np.where(win, halves.diag[box], np.inf),
            goal[box] & win,
            ties=(halves.tie_orth[box], halves.tie_diag[box]),
            corners=True,
        )
        own = win & (sub_ch >= lo) & ((sub_ch < hi) | (k == last_km))
        cost_out[box][own] = dist[own]
        # Starts are where one can stand, reached or not: a km no start of which reaches the
        # goal is held (infinite cost), not judged from cells behind its barrier.
        standing = win & np.isfinite(halves.orth[box])
        cand = standing & (sub_ch >= lo) & (sub_ch <= hi)
        if not cand.any():
            mid = 0.5 * (lo + hi)
            cand = standing & (np.abs(sub_ch - mid) <= cell)
        if not cand.any():
            continue
        sub_off = off[box]
        outermost = float(sub_off[cand].min())
        edge = start[box] | (sub_off <= outermost + 0.5 * cell)
        starts = np.flatnonzero((cand & edge).ravel())
        j = int(starts[np.argmin(dist.ravel()[starts])])
        bw = c1 - c0
        local = trace(pred, j)
        path = (local // bw + r0) * width + (local % bw + c0)
        out.append(KmCrossing(k, int(path[0]), float(dist.ravel()[j]), path))
    return Crossings(out, cost_out)

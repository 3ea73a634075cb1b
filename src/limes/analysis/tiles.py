"""Tiles along the line: rotated grids over ~30 km of chainage each, with overlapping margins.

The whole border is analysed tile by tile so memory stays bounded and each shortest-path pass
stays small. A tile's grid runs along the chord of its stretch of line; it reports only the
kilometres of its *core*, while adversary paths may wander into its *margins* on both ends, so
a path near a core's end is not cut short by the tile's edge. Each cell knows its chainage and
signed offset, measured on the stretch of line near the tile (nearest point, as
`BorderLine.locate` does), and whether it lies in the analysed strip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limes.geo.border import BorderLine
from limes.geo.grid import Grid

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Tile:
    """One rotated grid along the line with the chainage/offset of every cell."""

    index: int
    grid: Grid
    core_m: tuple[float, float]
    span_m: tuple[float, float]
    chainage_m: FloatArray
    offset_m: FloatArray
    in_strip: NDArray[np.bool_]

    @property
    def cell_m(self) -> float:
        return self.grid.cell_m


def plan_spans(
    length_m: float, core_m: float, margin_m: float
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """(core, span) chainage intervals covering a line of `length_m`, cores end to end."""
    n = max(1, math.ceil(length_m / core_m - 1e-9))
    out = []
    for i in range(n):
        c0, c1 = i * core_m, min((i + 1) * core_m, length_m)
        out.append(((c0, c1), (max(0.0, c0 - margin_m), min(length_m, c1 + margin_m))))
    return out


def window_spans(
    length_m: float, core_m: float, margin_m: float, from_m: float, to_m: float
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Like `plan_spans`, but only over whole km from `from_m` to `to_m` (a what-if's reach)."""
    a = max(0.0, math.floor(from_m / 1000.0) * 1000.0)
    b = min(length_m, math.ceil(to_m / 1000.0) * 1000.0)
    out = []
    c0 = a
    while c0 < b - 1e-9:
        c1 = min(c0 + core_m, b)
        out.append(((c0, c1), (max(0.0, c0 - margin_m), min(length_m, c1 + margin_m))))
        c0 = c1
    return out


def make_tile(
    index: int,
    border: BorderLine,
    core_m: tuple[float, float],
    span_m: tuple[float, float],
    outside_m: float,
    inside_m: float,
    cell_m: float,
) -> Tile:
    """The grid of one tile covering the strip between the span's chainages."""
    s0, s1 = span_m
    # Sample the strip's outline over the span (and the line's own vertices) to size the grid.
    vc = border.vertex_chainage_m
    s = np.union1d(
        np.linspace(s0, s1, max(2, math.ceil((s1 - s0) / 1000.0) + 1)), vc[(vc > s0) & (vc < s1)]
    )
    pts = []
    for edge in (-outside_m, 0.0, inside_m):
        x, y = border.point_at(s, edge)
        pts.append(np.column_stack([x, y]))
    p = np.concatenate(pts)
    a0 = np.column_stack(border.point_at(np.array([s0]), 0.0))[0]
    a1 = np.column_stack(border.point_at(np.array([s1]), 0.0))[0]
    u = a1 - a0
    norm = float(np.hypot(*u))
    u = u / norm if norm > 0 else np.array([1.0, 0.0])
    left = np.array([-u[1], u[0]])
    pa, pb = p @ u, p @ left
    pad = 2.0 * cell_m
    amin, amax = pa.min() - pad, pa.max() + pad
    bmin, bmax = pb.min() - pad, pb.max() + pad
    origin = amin * u + bmin * left
    grid = Grid.aligned(
        float(origin[0]),
        float(origin[1]),
        float(u[0]),
        float(u[1]),
        amax - amin,
        bmax - bmin,
        cell_m,
    )
    x, y = grid.cell_centres()
    reach = max(outside_m, inside_m) + 4.0 * cell_m
    ch, off, beyond = locate_near(
        border, x, y, max(0.0, s0 - 2 * reach), min(border.length_m, s1 + 2 * reach)
    )
    in_strip = (ch >= s0) & (ch <= s1) & (off >= -outside_m) & (off <= inside_m) & ~beyond
    return Tile(index, grid, core_m, span_m, ch, off, in_strip)


def locate_near(
    border: BorderLine, x: FloatArray, y: FloatArray, s0: float, s1: float
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Chainage, signed offset and 'beyond the line's ends' of points, on the stretch [s0, s1].

    The nearest point of that stretch of line is taken, so points whose nearest point on the
    whole line lies elsewhere are measured wrongly; callers keep to points near the stretch.
    """
    vc = border.vertex_chainage_m
    sc = np.union1d([s0, s1], vc[(vc > s0) & (vc < s1)])
    vx, vy = border.point_at(sc, 0.0)
    best = np.full(x.shape, np.inf)
    ch = np.zeros(x.shape)
    side = np.zeros(x.shape)
    beyond = np.zeros(x.shape, dtype=bool)
    last = len(sc) - 2
    for i in range(len(sc) - 1):
        ax, ay, dx, dy = vx[i], vy[i], vx[i + 1] - vx[i], vy[i + 1] - vy[i]
        seg2 = dx * dx + dy * dy
        if seg2 <= 0:
            continue
        t_raw = ((x - ax) * dx + (y - ay) * dy) / seg2
        t = np.clip(t_raw, 0.0, 1.0)
        d = np.hypot(x - (ax + t * dx), y - (ay + t * dy))
        better = d < best
        best = np.where(better, d, best)
        ch = np.where(better, sc[i] + t * (sc[i + 1] - sc[i]), ch)
        side = np.where(better, dx * (y - ay) - dy * (x - ax), side)
        # The flat caps: past the first or last vertex of the whole line is outside the strip.
        out = np.zeros(x.shape, dtype=bool)
        if i == 0 and s0 <= 0.0:
            out |= t_raw < 0.0
        if i == last and s1 >= border.length_m:
            out |= t_raw > 1.0
        beyond = np.where(better, out, beyond)
    sign = np.where(side >= 0, 1.0, -1.0) * (1.0 if border.inside_left else -1.0)
    return ch, sign * best, beyond

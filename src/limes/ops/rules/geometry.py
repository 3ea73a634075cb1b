"""Where and when tracks meet the line, and how far they are from barriers: vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from limes.geo.border import BorderLine
from limes.scenario.schema import Barrier, BarrierStatus

FloatArray = NDArray[np.float64]


def predict_crossings(
    border: BorderLine,
    x: FloatArray,
    y: FloatArray,
    vx: FloatArray,
    vy: FloatArray,
    horizon_s: float,
) -> tuple[FloatArray, FloatArray]:
    """Time (s) and chainage (m) at which each straight-line course first meets the line.

    Each track is moved on at its constant velocity for `horizon_s`; the first point where
    that segment meets the border polyline is the predicted crossing (exact for a polyline,
    bends included). NaN where the course does not reach the line within the horizon.
    """
    n = x.size
    eta = np.full(n, np.nan)
    chain = np.full(n, np.nan)
    speed = np.hypot(vx, vy)
    moving = np.flatnonzero(speed > 0)
    if moving.size == 0:
        return eta, chain
    x0, y0 = x[moving], y[moving]
    x1, y1 = x0 + vx[moving] * horizon_s, y0 + vy[moving] * horizon_s
    coords = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
    rays = shapely.linestrings(coords)
    hits = shapely.intersection(rays, border.line)
    parts, owner = shapely.get_parts(hits, return_index=True)
    keep = shapely.get_type_id(parts) == 0  # points; a collinear overlap is no crossing
    parts, owner = parts[keep], owner[keep]
    if parts.size == 0:
        return eta, chain
    px, py = shapely.get_x(parts), shapely.get_y(parts)
    dist = np.hypot(px - x0[owner], py - y0[owner])
    # The first meeting along each course: smallest distance per owner.
    order = np.lexsort((dist, owner))
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
    who = moving[owner[first]]
    eta[who] = dist[first] / speed[who]
    chain[who] = shapely.line_locate_point(border.line, parts[first])
    return eta, chain


def interpolate_crossing(
    prev_chainage: FloatArray,
    prev_offset: FloatArray,
    chainage: FloatArray,
    offset: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Chainage where offset reaches zero between two states, and the fraction of the way.

    Linear in (chainage, offset) between the two states: exact for a straight stretch of line
    and a straight course between them.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip(-prev_offset / (offset - prev_offset), 0.0, 1.0)
    return prev_chainage + frac * (chainage - prev_chainage), frac


@dataclass(frozen=True)
class BarrierIndex:
    """The barriers that exist on the ground (built or being built), as lines in the frame.

    Planned barriers are left out: a track cannot loiter at a trench not yet dug.
    """

    barriers: tuple[Barrier, ...]
    lines: NDArray[np.object_]
    tree: shapely.STRtree

    @classmethod
    def build(
        cls, border: BorderLine, barriers: list[Barrier], *, vehicles_only: bool = False
    ) -> BarrierIndex:
        """The index of `barriers` (optionally only those that block vehicles)."""
        kept = tuple(
            b
            for b in barriers
            if b.status is not BarrierStatus.PLANNED and (b.blocks_vehicles or not vehicles_only)
        )
        lines = np.array([barrier_line(border, b) for b in kept], dtype=object)
        return cls(kept, lines, shapely.STRtree(lines))

    def __len__(self) -> int:
        return len(self.barriers)

    def nearest(
        self, x: FloatArray, y: FloatArray, max_distance_m: float
    ) -> tuple[NDArray[np.intp], FloatArray]:
        """Index of the nearest barrier within `max_distance_m` of each point (−1: none), and
        the distance (inf: none)."""
        idx = np.full(x.size, -1, dtype=np.intp)
        dist = np.full(x.size, np.inf)
        if not len(self) or x.size == 0:
            return idx, dist
        pts = shapely.points(x, y)
        (which, tree_i), d = self.tree.query_nearest(
            pts, max_distance=max_distance_m, return_distance=True, all_matches=False
        )
        within = d <= max_distance_m
        idx[which[within]] = tree_i[within]
        dist[which[within]] = d[within]
        return idx, dist


def barrier_line(border: BorderLine, barrier: Barrier) -> shapely.LineString:
    """A barrier as a line in the frame: the border between its chainages, moved to its offset."""
    lo, hi = barrier.from_km * 1000.0, min(barrier.to_km * 1000.0, border.length_m)
    lo = min(lo, hi)
    vertices = border.vertex_chainage_m
    inner = vertices[(vertices > lo) & (vertices < hi)]
    chain = np.concatenate([[lo], inner, [hi]])
    if hi - lo <= 0:
        chain = np.array([lo, lo])
    bx, by = border.point_at(chain, barrier.offset_m)
    return shapely.linestrings(np.column_stack([bx, by]))


class LineLocator:
    """Chainage and signed offset of many points at once, for lines of few segments.

    The same answer as `BorderLine.locate` (nearest point on the line, sign from the segment
    holding it), computed as one (points × segments) numpy projection instead of one GEOS call
    per point: several times faster for the lines borders are drawn with (tens of vertices).
    Lines of more than `max_segments` segments fall back to `BorderLine.locate`.
    """

    def __init__(self, border: BorderLine, max_segments: int = 64) -> None:
        xy = border.xy
        self.border = border
        self.ax, self.ay = xy[:-1, 0], xy[:-1, 1]
        self.dx, self.dy = np.diff(xy[:, 0]), np.diff(xy[:, 1])
        self.len2 = self.dx**2 + self.dy**2
        self.seg_len = np.sqrt(self.len2)
        self.start_m = border.vertex_chainage_m[:-1]
        self.side = 1.0 if border.inside_left else -1.0
        self.fast = self.dx.size <= max_segments

    def locate(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Chainage (m) and signed offset (m, + inside) of frame points (1-d arrays)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if not self.fast:
            return self.border.locate(x, y)
        px = x[:, None] - self.ax[None, :]
        py = y[:, None] - self.ay[None, :]
        t = np.clip((px * self.dx + py * self.dy) / self.len2, 0.0, 1.0)
        ex = px - t * self.dx
        ey = py - t * self.dy
        d2 = ex * ex + ey * ey
        j = d2.argmin(axis=1)
        rows = np.arange(x.size)
        chain = self.start_m[j] + t[rows, j] * self.seg_len[j]
        cross = self.dx[j] * py[rows, j] - self.dy[j] * px[rows, j]
        sign = np.where(cross >= 0, 1.0, -1.0) * self.side
        return chain, sign * np.sqrt(d2[rows, j])

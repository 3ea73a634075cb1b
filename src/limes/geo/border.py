"""The border line in the local frame: chainage (metres along it) and signed offset from it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class BorderLine:
    """A polyline in frame metres with an inside: offsets are positive on the inside.

    `inside_left` says whether the inside lies to the left when walking from the first vertex to
    the last. Chainage is measured from the first vertex; a point's chainage is that of its
    nearest point on the line, its offset the distance to it, signed by side.
    """

    xy: FloatArray
    inside_left: bool
    _line: shapely.LineString = field(init=False, repr=False, compare=False)
    _cum: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        xy = np.asarray(self.xy, dtype=float)
        if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 2:
            raise ValueError("a border line needs an (n ≥ 2, 2) array of vertices")
        seg = np.hypot(*np.diff(xy, axis=0).T)
        if np.any(seg <= 0):
            raise ValueError("a border line may not repeat a vertex")
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "_line", shapely.LineString(xy))
        object.__setattr__(self, "_cum", np.concatenate([[0.0], np.cumsum(seg)]))

    @property
    def length_m(self) -> float:
        """Length of the line in frame metres."""
        return float(self._cum[-1])

    @property
    def line(self) -> shapely.LineString:
        """The line as a shapely geometry in the frame."""
        return self._line

    @property
    def vertex_chainage_m(self) -> FloatArray:
        """Chainage of each vertex."""
        return self._cum.copy()

    def is_simple(self) -> bool:
        """True when the line does not cross or touch itself."""
        return bool(self._line.is_simple)

    def _segment_of(self, chainage_m: FloatArray) -> NDArray[np.intp]:
        idx = np.searchsorted(self._cum, chainage_m, side="right") - 1
        return np.clip(idx, 0, len(self.xy) - 2)

    def tangent_at(self, chainage_m: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Unit direction of travel along the line at each chainage."""
        s = np.asarray(chainage_m, dtype=float)
        i = self._segment_of(s)
        d = self.xy[i + 1] - self.xy[i]
        n = np.hypot(d[..., 0], d[..., 1])
        return d[..., 0] / n, d[..., 1] / n

    def inside_normal_at(self, chainage_m: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Unit normal pointing inside at each chainage."""
        tx, ty = self.tangent_at(chainage_m)
        return (-ty, tx) if self.inside_left else (ty, -tx)

    def point_at(
        self, chainage_m: ArrayLike, offset_m: ArrayLike = 0.0
    ) -> tuple[FloatArray, FloatArray]:
        """Frame x/y of the point at a chainage and signed offset (positive inside)."""
        s = np.clip(np.asarray(chainage_m, dtype=float), 0.0, self.length_m)
        i = self._segment_of(s)
        t = (s - self._cum[i]) / (self._cum[i + 1] - self._cum[i])
        p0, p1 = self.xy[i], self.xy[i + 1]
        bx = p0[..., 0] + t * (p1[..., 0] - p0[..., 0])
        by = p0[..., 1] + t * (p1[..., 1] - p0[..., 1])
        nx, ny = self.inside_normal_at(s)
        off = np.asarray(offset_m, dtype=float)
        return bx + off * nx, by + off * ny

    def locate(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Chainage and signed offset (positive inside) of frame points."""
        px = np.asarray(x, dtype=float)
        py = np.asarray(y, dtype=float)
        shape = np.broadcast_shapes(px.shape, py.shape)
        px, py = np.broadcast_to(px, shape).ravel(), np.broadcast_to(py, shape).ravel()
        pts = shapely.points(px, py)
        s = np.asarray(shapely.line_locate_point(self._line, pts), dtype=float)
        fx, fy = self.point_at(s)
        dist = np.hypot(px - fx, py - fy)
        # Side from the segment holding the foot; at a vertex both neighbours agree on the sign.
        i = self._segment_of(s)
        d = self.xy[i + 1] - self.xy[i]
        cross = d[:, 0] * (py - self.xy[i, 1]) - d[:, 1] * (px - self.xy[i, 0])
        sign = np.where(cross >= 0, 1.0, -1.0) * (1.0 if self.inside_left else -1.0)
        return s.reshape(shape), (sign * dist).reshape(shape)

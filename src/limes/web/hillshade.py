"""Shaded relief of the scenario terrain, served as Web Mercator PNG tiles for the offline map.

The shade is computed once on the terrain's own grid (Horn's 3×3 gradient, the sun given by
azimuth and altitude, as `gdaldem hillshade` does) and tinted by elevation; a tile is then a
bilinear read of that raster at the frame position of each tile pixel. Tiles are cached in
memory (a border's tiles at the zooms served are a few thousand at most).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limes.geo.frame import Frame
from limes.geo.hillshade import hillshade
from limes.geo.terrain import Dem
from limes.web.mercator import pixel_lonlat, tile_range
from limes.web.png import encode_png

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class HillshadeStyle:
    """How the relief is lit and tinted (cartographic choices, not world numbers).

    `azimuth_deg` is where the light comes from, clockwise from north (315: north-west, the
    convention that makes ridges read as ridges); `altitude_deg` the sun's height;
    `z_factor` exaggerates relief on flat desert. `low_rgb` / `high_rgb` tint the lowest and
    highest ground of the scenario; `ambient` is the light a slope facing away still gets.
    """

    azimuth_deg: float = 315.0
    altitude_deg: float = 45.0
    z_factor: float = 3.0
    low_rgb: tuple[int, int, int] = (58, 66, 60)
    high_rgb: tuple[int, int, int] = (140, 128, 104)
    ambient: float = 0.35
    alpha: int = 255


class HillshadeTiles:
    """PNG tiles of the shaded, tinted terrain of one scenario (thread-safe, cached)."""

    def __init__(
        self,
        dem: Dem,
        frame: Frame,
        style: HillshadeStyle | None = None,
        cache_tiles: int = 4096,
    ) -> None:
        self.style = style or HillshadeStyle()
        self.frame = frame
        s = self.style
        shade = hillshade(dem.elevation, dem.grid.cell_m, s.azimuth_deg, s.altitude_deg, s.z_factor)
        elev = dem.elevation.astype(np.float64)
        finite = elev[np.isfinite(elev)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self._height = Dem(dem.grid, ((elev - lo) / max(hi - lo, 1e-9)).astype(np.float32))
        self._shade = Dem(dem.grid, shade.astype(np.float32))
        lon, lat = self._footprint(dem, frame)
        self.bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        self._cache: OrderedDict[tuple[int, int, int], bytes] = OrderedDict()
        self._cache_tiles = cache_tiles
        self._lock = threading.Lock()

    @staticmethod
    def _footprint(dem: Dem, frame: Frame) -> tuple[FloatArray, FloatArray]:
        xmin, ymin, xmax, ymax = dem.bounds()
        t = np.linspace(0.0, 1.0, 33)
        xs = np.concatenate([xmin + (xmax - xmin) * t, np.full(33, xmax),
                             xmax - (xmax - xmin) * t, np.full(33, xmin)])  # fmt: skip
        ys = np.concatenate([np.full(33, ymin), ymin + (ymax - ymin) * t,
                             np.full(33, ymax), ymax - (ymax - ymin) * t])  # fmt: skip
        lon, lat = frame.to_lonlat(xs, ys)
        return np.asarray(lon), np.asarray(lat)

    def covers(self, z: int, x: int, y: int) -> bool:
        """Whether tile (z, x, y) meets the terrain's footprint."""
        cols, rows = tile_range(z, self.bounds)
        return x in cols and y in rows

    def rgba(self, z: int, x: int, y: int) -> NDArray[np.uint8]:
        """The tile as an RGBA array (transparent off the terrain)."""
        lon, lat = pixel_lonlat(z, x, y)
        fx, fy = self.frame.to_xy(lon.ravel(), lat.ravel())
        shade = self._shade.sample(fx, fy).reshape(lon.shape)
        height = self._height.sample(fx, fy).reshape(lon.shape)
        s = self.style
        known = np.isfinite(shade) & np.isfinite(height)
        light = s.ambient + (1.0 - s.ambient) * np.nan_to_num(shade)
        t = np.clip(np.nan_to_num(height), 0.0, 1.0)[..., None]
        tint = np.asarray(s.low_rgb, float) * (1.0 - t) + np.asarray(s.high_rgb, float) * t
        out = np.zeros((*lon.shape, 4), dtype=np.uint8)
        out[..., :3] = np.clip(tint * light[..., None] * 1.6, 0, 255).astype(np.uint8)
        out[..., 3] = np.where(known, s.alpha, 0).astype(np.uint8)
        return out

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The PNG of tile (z, x, y), or None when the tile lies off the terrain."""
        if not self.covers(z, x, y):
            return None
        key = (z, x, y)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        png = encode_png(self.rgba(z, x, y))
        with self._lock:
            self._cache[key] = png
            while len(self._cache) > self._cache_tiles:
                self._cache.popitem(last=False)
        return png

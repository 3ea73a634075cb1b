"""Web Mercator tiles (the XYZ scheme every web map uses): tile pixels to lon/lat and back."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

TILE_PX = 256
MAX_LAT = 85.0511287798066  # where Web Mercator's square world ends


def pixel_lonlat(z: int, x: int, y: int, size: int = TILE_PX) -> tuple[FloatArray, FloatArray]:
    """Lon/lat of the centre of every pixel of tile (z, x, y), as (size, size) arrays."""
    n = float(2**z)
    u = (x + (np.arange(size) + 0.5) / size) / n  # 0..1 west to east
    v = (y + (np.arange(size) + 0.5) / size) / n  # 0..1 north to south
    lon = u * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * v))))
    return np.broadcast_to(lon[None, :], (size, size)), np.broadcast_to(lat[:, None], (size, size))


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile in degrees."""
    n = 2.0**z

    def lat(v: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * v))))

    return x / n * 360.0 - 180.0, lat((y + 1) / n), (x + 1) / n * 360.0 - 180.0, lat(y / n)


def tile_range(z: int, bounds: tuple[float, float, float, float]) -> tuple[range, range]:
    """The tile columns and rows at zoom z that meet lon/lat bounds (west, south, east, north)."""
    west, south, east, north = bounds
    n = 2**z

    def col(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

    def row(lat: float) -> int:
        s = math.sin(math.radians(max(-MAX_LAT, min(MAX_LAT, lat))))
        v = 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
        return min(n - 1, max(0, int(v * n)))

    return range(col(west), col(east) + 1), range(row(north), row(south) + 1)

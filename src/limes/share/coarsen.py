"""Coarsening positions to a grid, so a partner learns the cell and nothing finer.

The grid is fixed on the globe (not centred on the point): every position in one cell maps to
the same cell centre, so repeated releases of a moving object cannot be averaged back to its
true place within a cell. Cells are `precision_m` tall (latitude) and, along the parallel of the
cell's centre, `precision_m` wide; the largest displacement is half the cell's diagonal, about
0.71 × `precision_m`.
"""

from __future__ import annotations

import math
from typing import Any

#: Metres per degree of latitude (mean; the grid needs a fixed scale, not geodesic accuracy).
M_PER_DEG = 111_320.0


def coarsen(lon: float, lat: float, precision_m: float) -> tuple[float, float]:
    """The centre of the grid cell of `precision_m` metres holding (lon, lat)."""
    step_lat = precision_m / M_PER_DEG
    row = math.floor((lat + 90.0) / step_lat)
    lat_c = min(-90.0 + (row + 0.5) * step_lat, 90.0)
    step_lon = min(precision_m / (M_PER_DEG * max(math.cos(math.radians(lat_c)), 1e-6)), 360.0)
    col = math.floor((lon + 180.0) / step_lon)
    lon_c = -180.0 + (col + 0.5) * step_lon
    if lon_c > 180.0:
        lon_c -= 360.0
    return round(lon_c, 7), round(lat_c, 7)


def coarsen_any(value: Any, precision_m: float) -> Any:
    """Every [lon, lat] pair inside nested lists, tuples and dicts, coarsened."""
    if _is_pair(value):
        return list(coarsen(float(value[0]), float(value[1]), precision_m))
    if isinstance(value, dict):
        return {k: coarsen_any(v, precision_m) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [coarsen_any(v, precision_m) for v in value]
    return value


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )

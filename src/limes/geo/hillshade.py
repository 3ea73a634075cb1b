"""Hillshade: how lit each cell of a north-up elevation grid is, as `gdaldem hillshade` computes it.

One algorithm for every picture of the terrain (the map's relief tiles, the assessment report's
basemap): Horn's 3×3 gradient and the cosine between the ground's normal and the sun. It is
tested against GDAL's own `gdaldem hillshade`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def hillshade(
    elevation: NDArray[np.floating],
    cell_m: float,
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
) -> FloatArray:
    """Illumination (0–1) of a north-up elevation grid: the cosine between ground normal and sun.

    Horn's gradient over each 3×3 window, as GDAL's `gdaldem hillshade`; the outermost rows and
    columns take their neighbours' window (edge values repeated), NaN stays NaN.
    """
    z = np.pad(np.asarray(elevation, dtype=np.float64), 1, mode="edge") * z_factor
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    # Rows run north to south: dz/dx east-positive, dz/dy north-positive.
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8.0 * cell_m)
    dzdy = ((a + 2 * b + c) - (g + 2 * h + i)) / (8.0 * cell_m)
    az = math.radians(azimuth_deg)
    alt = math.radians(altitude_deg)
    sun_e, sun_n, sun_u = math.sin(az) * math.cos(alt), math.cos(az) * math.cos(alt), math.sin(alt)
    shade = (sun_u - dzdx * sun_e - dzdy * sun_n) / np.sqrt(1.0 + dzdx**2 + dzdy**2)
    return np.clip(shade, 0.0, 1.0)

"""Day and night at a place: local mean solar time from UTC and longitude.

Day is within [day_start_h, day_end_h) of local solar time; everything else is night. The
exercise (what sensors see by each light) and the alert rules (what they ask for by night) take
light from here, so both sides mean the same hours.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def solar_hour_utc(posix_s: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Local mean solar hour [0, 24) at a longitude (or one per time) for POSIX seconds."""
    utc_h = (np.asarray(posix_s, dtype=float) % 86400.0) / 3600.0
    h = (utc_h + np.asarray(lon, dtype=float) / 15.0) % 24.0
    # A sum a hair below zero wraps to 24.0 in floating point: that hour is 0.
    return np.asarray(np.where(h >= 24.0, 0.0, h), dtype=float)


def is_day_utc(
    posix_s: ArrayLike, lon: ArrayLike, day_start_h: float, day_end_h: float
) -> NDArray[np.bool_]:
    """Whether each POSIX second is daytime at its longitude (local solar time)."""
    h = solar_hour_utc(posix_s, lon)
    return np.asarray((h >= day_start_h) & (h < day_end_h), dtype=bool)

"""Daylight in an exercise: local mean solar time at a longitude.

Day is within [day_start_h, day_end_h) of local solar time; everything else is night.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from limes.scenario.schema import Light


def solar_hour(start: datetime, sim_s: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Local mean solar hour [0, 24) at a longitude (or one per time) for simulated seconds
    since `start`."""
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    utc_s = (start - midnight).total_seconds() + np.asarray(sim_s, dtype=float)
    return np.asarray(((utc_s / 3600.0) + np.asarray(lon, dtype=float) / 15.0) % 24.0, dtype=float)


def is_day(
    start: datetime, sim_s: ArrayLike, lon: ArrayLike, day_start_h: float, day_end_h: float
) -> NDArray[np.bool_]:
    """Whether each simulated second is daytime at a longitude (local solar time)."""
    h = solar_hour(start, sim_s, lon)
    return np.asarray((h >= day_start_h) & (h < day_end_h), dtype=bool)


def light_of(day: bool) -> Light:
    """The light condition of a day flag."""
    return Light.DAY if day else Light.NIGHT

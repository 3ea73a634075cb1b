"""Daylight in an exercise: local mean solar time at a longitude, in simulated seconds.

Day is within [day_start_h, day_end_h) of local solar time; everything else is night
(`limes.geo.daylight`, which the alert rules use on UTC times).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from limes.geo.daylight import is_day_utc, solar_hour_utc
from limes.scenario.schema import Light


def solar_hour(start: datetime, sim_s: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Local mean solar hour [0, 24) at a longitude (or one per time) for simulated seconds
    since `start`."""
    return solar_hour_utc(_utc_s(start, sim_s), lon)


def is_day(
    start: datetime, sim_s: ArrayLike, lon: ArrayLike, day_start_h: float, day_end_h: float
) -> NDArray[np.bool_]:
    """Whether each simulated second is daytime at a longitude (local solar time)."""
    return is_day_utc(_utc_s(start, sim_s), lon, day_start_h, day_end_h)


def _utc_s(start: datetime, sim_s: ArrayLike) -> NDArray[np.float64]:
    """Seconds since the UTC midnight before `start` (the day's phase is all that counts)."""
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    return (start - midnight).total_seconds() + np.asarray(sim_s, dtype=float)


def light_of(day: bool) -> Light:
    """The light condition of a day flag."""
    return Light.DAY if day else Light.NIGHT

"""The exercise clock: simulated seconds since the start, paced against the wall clock.

Simulated time is the only time the simulator's content depends on: every position, detection
and report time is a function of the scenario, the configuration and the seed. The wall clock
only decides *when* reports leave (real time ×1, accelerated up to ×600, or as fast as
possible), so two runs with the same seed send the same bytes whatever the pacing. Light is
local solar time at a longitude: day within [day_start_h, day_end_h).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import ArrayLike, NDArray

from limes.errors import SimError
from limes.scenario.schema import Light

MAX_SPEED = 600.0
"""Fastest acceleration offered: ten simulated minutes per wall-clock second."""


class ClockError(SimError, ValueError):
    """A clock asked to run at a speed it does not offer."""


@dataclass
class SimClock:
    """Maps simulated seconds to datetimes and paces sending against the wall clock.

    `speed` is simulated seconds per wall second (1 = real time, 60 = a minute a second);
    None runs as fast as possible. `sleep` and `monotonic` are injectable for tests.
    """

    start: datetime
    speed: float | None = None
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    _wall0: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ClockError("the exercise start must be timezone-aware (UTC)")
        if self.speed is not None and not (1.0 <= self.speed <= MAX_SPEED):
            raise ClockError(
                f"speed must be within ×1 … ×{MAX_SPEED:g} (or None: as fast as possible), "
                f"got {self.speed}"
            )

    def at(self, sim_s: float) -> datetime:
        """The datetime of a simulated second."""
        return self.start + timedelta(seconds=float(sim_s))

    def now(self) -> datetime:
        """The simulated present, for a receiving system that shares the exercise clock."""
        if self._wall0 is None or self.speed is None:
            return self.start
        return self.at((self.monotonic() - self._wall0) * self.speed)

    def begin(self) -> None:
        """Start pacing: simulated second 0 is now on the wall clock."""
        self._wall0 = self.monotonic()

    def wait_until(self, sim_s: float) -> None:
        """Block until the wall clock reaches a simulated second (at once when unpaced)."""
        if self.speed is None:
            return
        if self._wall0 is None:
            self.begin()
        assert self._wall0 is not None
        due = self._wall0 + sim_s / self.speed
        left = due - self.monotonic()
        if left > 0:
            self.sleep(left)


def solar_hour(start: datetime, sim_s: ArrayLike, lon: float) -> NDArray[np.float64]:
    """Local mean solar hour [0, 24) at a longitude for simulated seconds since `start`."""
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    utc_s = (start - midnight).total_seconds() + np.asarray(sim_s, dtype=float)
    return np.asarray(((utc_s / 3600.0) + lon / 15.0) % 24.0, dtype=float)


def is_day(
    start: datetime, sim_s: ArrayLike, lon: float, day_start_h: float, day_end_h: float
) -> NDArray[np.bool_]:
    """Whether each simulated second is daytime at a longitude (local solar time)."""
    h = solar_hour(start, sim_s, lon)
    return np.asarray((h >= day_start_h) & (h < day_end_h), dtype=bool)


def light_of(day: bool) -> Light:
    """The light condition of a day flag."""
    return Light.DAY if day else Light.NIGHT

"""The exercise clock: simulated seconds since a start, paced against the wall clock.

Low in the stack so that the simulator (which paces its reports by it) and the live service
(whose every stamp reads it during an exercise) share one clock without knowing each other.

Simulated time is the only time the simulator's content depends on: every position, detection
and report time is a function of the scenario, the configuration and the seed. The wall clock
only decides *when* reports leave (real time ×1, accelerated up to ×600, or as fast as
possible), so two runs with the same seed send the same bytes whatever the pacing.

- `SimClock`: one process's pacing clock (simulated second 0 is when it begins).
- `ExerciseClock`: the clock shared by processes, from a start and a speed alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from limes.errors import LimesError

MAX_SPEED = 600.0
"""Fastest acceleration offered: ten simulated minutes per wall-clock second."""


class ClockError(LimesError, ValueError):
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


@dataclass
class ExerciseClock(SimClock):
    """The exercise clock shared by processes: the simulated present from a start and a speed.

    Simulated time is `start` at the wall-clock instant `epoch` (default: `start` itself) and
    runs `speed` times as fast as the wall clock: now = start + (wall − epoch) × speed. Any
    process given the same start and speed (`limes serve --exercise-start/--exercise-speed`,
    `limes simulate --start/--speed`) reads the same present without talking to the other, to
    the accuracy of their wall clocks. An `epoch` later than `start` paces a run whose first
    simulated hour(s) lie before the shared present (`limes demo`'s run-in).
    """

    speed: float | None = 1.0
    monotonic: Callable[[], float] = field(default=time.time, repr=False)
    epoch: datetime | None = None

    def __post_init__(self) -> None:
        if self.speed is None:
            raise ClockError("an exercise clock needs a speed (1 = real time)")
        if self.epoch is not None and self.epoch.tzinfo is None:
            raise ClockError("the exercise clock's epoch must be timezone-aware (UTC)")
        super().__post_init__()
        self.begin()

    def begin(self) -> None:
        """Simulated second 0 is the wall-clock instant `epoch`, whenever this is called."""
        self._wall0 = (self.epoch or self.start).timestamp()

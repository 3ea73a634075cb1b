"""The live tracks of one partition, column by column, with free slots reused."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.config import HIDDEN_CLASSES

TENTATIVE, CONFIRMED, COASTING, DELETED = 0, 1, 2, 3


class TrackTable:
    """Struct-of-arrays store of track posteriors (at each track's last update) and bookkeeping.

    Tracks live in slots; `alive` marks the used ones. Sensors that have seen a track are a
    boolean matrix (slot × sensor index), the sensor ids are registered as they appear.
    """

    def __init__(self, capacity: int = 64) -> None:
        self.x = np.zeros((capacity, 4))
        self.p = np.zeros((capacity, 4, 4))
        self.t = np.zeros(capacity)
        self.alive = np.zeros(capacity, dtype=bool)
        self.status = np.zeros(capacity, dtype=np.int8)
        self.hits = np.zeros(capacity, dtype=np.int64)
        self.misses = np.zeros(capacity, dtype=np.int64)
        self.missed_run = np.zeros(capacity, dtype=np.int64)
        self.history = np.zeros(capacity, dtype=np.uint32)
        self.opportunities = np.zeros(capacity, dtype=np.int64)
        self.class_p = np.zeros((capacity, len(HIDDEN_CLASSES)))
        self.group = np.full(capacity, np.nan)
        # Existence score (log-likelihood ratio), its peak, the summed hazard of the event
        # sensors that saw the track (per s) and the time up to which misses were counted.
        self.score = np.zeros(capacity)
        self.score_peak = np.zeros(capacity)
        self.hazard = np.zeros(capacity)
        self.t_scored = np.zeros(capacity)
        self.seen = np.zeros((capacity, 0), dtype=bool)
        self.ids: list[str] = [""] * capacity
        self.last_key: list[tuple[str, int] | None] = [None] * capacity
        self.sensors_of: list[tuple[str, ...]] = [()] * capacity
        self.sensor_ids: list[str] = []
        self._sensor_index: dict[str, int] = {}

    @property
    def capacity(self) -> int:
        return len(self.t)

    def active(self) -> NDArray[np.intp]:
        """Slots holding a live track."""
        return np.flatnonzero(self.alive)

    def sensor_index(self, sensor_id: str) -> int:
        """The column of `sensor_id` in `seen`, registering it on first sight."""
        index = self._sensor_index.get(sensor_id)
        if index is None:
            index = len(self.sensor_ids)
            self._sensor_index[sensor_id] = index
            self.sensor_ids.append(sensor_id)
            self.seen = np.hstack([self.seen, np.zeros((self.capacity, 1), dtype=bool)])
        return index

    def add_sensor(self, slots: NDArray[np.intp], sensor: int) -> None:
        """Record that sensor column `sensor` has seen the tracks in `slots`."""
        new = slots[~self.seen[slots, sensor]]
        self.seen[new, sensor] = True
        name = self.sensor_ids[sensor]
        for slot in new.tolist():
            self.sensors_of[slot] = (*self.sensors_of[slot], name)

    def allocate(self, n: int) -> NDArray[np.intp]:
        """`n` free slots (growing the table if needed), reset and marked alive."""
        free = np.flatnonzero(~self.alive)
        if free.size < n:
            self._grow(max(2 * self.capacity, self.capacity + n - free.size))
            free = np.flatnonzero(~self.alive)
        slots = free[:n]
        self.alive[slots] = True
        self.status[slots] = TENTATIVE
        self.hits[slots] = 0
        self.misses[slots] = 0
        self.missed_run[slots] = 0
        self.history[slots] = 0
        self.opportunities[slots] = 0
        self.group[slots] = np.nan
        self.score[slots] = 0.0
        self.score_peak[slots] = 0.0
        self.hazard[slots] = 0.0
        self.seen[slots] = False
        for slot in slots.tolist():
            self.sensors_of[slot] = ()
        return slots

    def release(self, slots: NDArray[np.intp]) -> None:
        """Free slots of deleted tracks."""
        self.alive[slots] = False
        self.status[slots] = DELETED

    def _grow(self, capacity: int) -> None:
        extra = capacity - self.capacity

        def pad(a: Any, fill: float | bool = 0) -> Any:
            block = np.full((extra, *a.shape[1:]), fill, dtype=a.dtype)
            return np.concatenate([a, block])

        self.x = pad(self.x)
        self.p = pad(self.p)
        self.t = pad(self.t)
        self.alive = pad(self.alive, False)
        self.status = pad(self.status)
        self.hits = pad(self.hits)
        self.misses = pad(self.misses)
        self.missed_run = pad(self.missed_run)
        self.history = pad(self.history)
        self.opportunities = pad(self.opportunities)
        self.class_p = pad(self.class_p)
        self.group = pad(self.group, np.nan)
        self.score = pad(self.score)
        self.score_peak = pad(self.score_peak)
        self.hazard = pad(self.hazard)
        self.t_scored = pad(self.t_scored)
        self.seen = pad(self.seen, False)
        self.ids.extend([""] * extra)
        self.last_key.extend([None] * extra)
        self.sensors_of.extend([()] * extra)

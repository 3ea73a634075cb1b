"""Duplicate reports dropped by (sensor_id, seq), in bounded memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from limes.ops.detection import Detection


class _Window:
    """The last `size` sequence numbers seen from one sensor."""

    __slots__ = ("order", "seen")

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.order: list[int] = []  # insertion order, trimmed in halves to stay amortised O(1)


class Deduplicator:
    """Remembers at least the last `window` sequence numbers of each of `max_sensors` sensors.

    A (sensor, seq) seen within its sensor's window is a duplicate: dropped and counted. Memory
    is bounded by `2 × window × max_sensors` integers: the oldest numbers of a sensor, and
    whole sensors not heard from for longest, are forgotten. A forgotten number seen again is
    taken as new (a sensor that restarts its numbering is then not silenced). Thread-safe: the
    MQTT door calls it from paho's thread while the HTTP door calls it from the API's.
    """

    def __init__(self, window: int = 4096, max_sensors: int = 10_000) -> None:
        if window < 1 or max_sensors < 1:
            raise ValueError("dedup window and max_sensors must be at least 1")
        self.window = window
        self.max_sensors = max_sensors
        self._sensors: OrderedDict[str, _Window] = OrderedDict()
        self._lock = threading.Lock()
        self.duplicates = 0
        self.accepted = 0

    def _check(self, sensor_id: str, seq: int) -> bool:
        w = self._sensors.get(sensor_id)
        if w is None:
            w = self._sensors[sensor_id] = _Window()
            if len(self._sensors) > self.max_sensors:
                self._sensors.popitem(last=False)
        else:
            self._sensors.move_to_end(sensor_id)
        if seq in w.seen:
            self.duplicates += 1
            return False
        w.seen.add(seq)
        w.order.append(seq)
        if len(w.order) > 2 * self.window:
            for old in w.order[: -self.window]:
                w.seen.discard(old)
            del w.order[: -self.window]
        self.accepted += 1
        return True

    def is_new(self, sensor_id: str, seq: int) -> bool:
        """True the first time (sensor_id, seq) is seen, and remember it; False for a repeat."""
        with self._lock:
            return self._check(sensor_id, seq)

    def filter(self, detections: Iterable[Detection]) -> list[Detection]:
        """The detections not seen before (repeats inside the same batch dropped too)."""
        with self._lock:
            return [d for d in detections if self._check(d.sensor_id, d.seq)]

    def forget(self, keys: Sequence[tuple[str, int]]) -> None:
        """Un-see keys whose handling failed, so a redelivery is taken as new."""
        with self._lock:
            for sensor_id, seq in keys:
                w = self._sensors.get(sensor_id)
                if w is not None and seq in w.seen:
                    w.seen.discard(seq)
                    self.accepted -= 1

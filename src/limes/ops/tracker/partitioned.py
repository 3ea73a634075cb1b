"""Trackers per sector: detections routed by position, each partition tracked on its own."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime

from limes.ops.detection import Detection
from limes.ops.tracker.config import TrackerConfig
from limes.ops.tracker.state import Rejection, TrackState
from limes.ops.tracker.tracker import Tracker


class PartitionedTracker:
    """Routes each detection by `partition_of(x, y)` to an independent `Tracker` per key.

    Partitions share nothing but the event-time clock (the latest detection time seen by any of
    them), so coasting and deletion move on in a quiet sector too, and any partition could run
    in its own process. Track ids are "<key>-<n>", unique across partitions. A target that
    crosses from one partition into another is not handed over: the far side starts its own
    track, and the near side's track coasts and is deleted.
    """

    def __init__(
        self,
        partition_of: Callable[[float, float], Hashable],
        config: TrackerConfig | None = None,
    ) -> None:
        self.partition_of = partition_of
        self.config = config or TrackerConfig()
        self.partitions: dict[Hashable, Tracker] = {}
        self._latest: float | None = None

    def tracker(self, key: Hashable) -> Tracker:
        """The tracker of partition `key` (created on first use)."""
        found = self.partitions.get(key)
        if found is None:
            found = Tracker(self.config, id_prefix=f"{key}-")
            self.partitions[key] = found
        return found

    def update(self, detections: Iterable[Detection]) -> list[TrackState]:
        """Route and track new detections; returns the changed tracks of all partitions."""
        routed: dict[Hashable, list[Detection]] = {}
        for d in detections:
            routed.setdefault(self.partition_of(d.x, d.y), []).append(d)
            t = d.time.timestamp()
            if self._latest is None or t > self._latest:
                self._latest = t
        out: list[TrackState] = []
        for key, group in routed.items():
            out += self.tracker(key).update(group)
        if self._latest is not None:
            now = datetime.fromtimestamp(self._latest, UTC)
            for tracker in self.partitions.values():
                out += tracker.advance(now)
        return out

    def advance(self, now: datetime) -> list[TrackState]:
        """Move every partition's clock to `now`."""
        out: list[TrackState] = []
        for tracker in self.partitions.values():
            out += tracker.advance(now)
        return out

    def flush(self) -> list[TrackState]:
        """Process everything waiting in every partition's reorder buffer."""
        out: list[TrackState] = []
        for tracker in self.partitions.values():
            out += tracker.flush()
        return out

    def tracks(self, at: datetime | None = None) -> list[TrackState]:
        """Live tracks of all partitions."""
        return [s for tracker in self.partitions.values() for s in tracker.tracks(at)]

    def take_rejected(self) -> list[Rejection]:
        """Detections rejected by any partition since the last call."""
        return [r for tracker in self.partitions.values() for r in tracker.take_rejected()]

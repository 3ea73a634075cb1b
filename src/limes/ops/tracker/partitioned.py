"""Trackers per sector: detections routed by position, each partition tracked on its own."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limes.ops.detection import Detection
from limes.ops.tracker.batch import DetectionBatch
from limes.ops.tracker.config import TrackerConfig
from limes.ops.tracker.state import TrackState, Untracked
from limes.ops.tracker.track_batch import TrackBatch
from limes.ops.tracker.tracker import Tracker

#: Partition keys of many positions at once: (x array, y array) → one key per position.
Keys = Sequence[Hashable] | NDArray[Any]
PartitionsOf = Callable[[NDArray[np.float64], NDArray[np.float64]], Keys]


class PartitionedTracker:
    """Routes each detection by `partition_of(x, y)` to an independent `Tracker` per key.

    Partitions share nothing but the event-time clock (the latest detection time seen by any of
    them), so coasting and deletion move on in a quiet sector too, and any partition could run
    in its own process. Track ids are "<key>-<n>", unique across partitions. A target that
    crosses from one partition into another is not handed over: the far side starts its own
    track, and the near side's track coasts and is deleted.

    Routing a batch: explicit `partitions` (one key per detection) when the caller has them,
    else `partitions_of(x, y)` on the batch's coordinate arrays when given (one vectorised
    call), else `partition_of` per detection.
    """

    def __init__(
        self,
        partition_of: Callable[[float, float], Hashable],
        config: TrackerConfig | None = None,
        *,
        partitions_of: PartitionsOf | None = None,
    ) -> None:
        self.partition_of = partition_of
        self.partitions_of = partitions_of
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

    def update(
        self, detections: Iterable[Detection], partitions: Keys | None = None
    ) -> list[TrackState]:
        """Route and track new detections; returns the changed tracks of all partitions."""
        return self.update_batch(DetectionBatch.of(list(detections)), partitions).states()

    def update_batch(self, batch: DetectionBatch, partitions: Keys | None = None) -> TrackBatch:
        """`update` for detections already in columns; the changed tracks as columns.

        Each partition with detections takes its share; then every partition's clock moves to
        the latest detection time seen (a quiet partition's check is a few array operations).
        """
        out: list[TrackBatch] = []
        if len(batch):
            keys = self._keys(batch, partitions)
            for key, index in _groups(keys):
                part = batch if index.size == len(batch) else batch.take(index)
                out.append(self.tracker(key).update_batch(part))
            t = float(batch.t.max())
            if np.isfinite(t) and (self._latest is None or t > self._latest):
                self._latest = t
        if self._latest is not None:
            out += [tracker.advance_batch(self._latest) for tracker in self.partitions.values()]
        return TrackBatch.concat(out)

    def advance(self, now: datetime) -> list[TrackState]:
        """Move every partition's clock to `now`."""
        return self.advance_batch(now.timestamp()).states()

    def advance_batch(self, t: float) -> TrackBatch:
        """`advance` to `t` (POSIX seconds); the changed tracks as columns."""
        return TrackBatch.concat([tracker.advance_batch(t) for tracker in self.partitions.values()])

    def flush(self) -> list[TrackState]:
        """Process everything waiting in every partition's reorder buffer."""
        return self.flush_batch().states()

    def flush_batch(self) -> TrackBatch:
        """`flush`; the changed tracks as columns."""
        return TrackBatch.concat([tracker.flush_batch() for tracker in self.partitions.values()])

    def tracks(self, at: datetime | None = None) -> list[TrackState]:
        """Live tracks of all partitions."""
        return [s for tracker in self.partitions.values() for s in tracker.tracks(at)]

    def take_rejected(self) -> list[Untracked]:
        """Detections rejected by any partition since the last call."""
        return [r for tracker in self.partitions.values() for r in tracker.take_rejected()]

    def _keys(self, batch: DetectionBatch, partitions: Keys | None) -> Keys:
        if partitions is not None:
            if len(partitions) != len(batch):
                raise ValueError(f"{len(partitions)} partition keys for {len(batch)} detections")
            return partitions
        x, y = batch.z[:, 0], batch.z[:, 1]
        if self.partitions_of is not None:
            return self.partitions_of(x, y)
        return [self.partition_of(xi, yi) for xi, yi in zip(x.tolist(), y.tolist(), strict=True)]


def _groups(keys: Keys) -> list[tuple[Hashable, NDArray[np.intp]]]:
    """(key, positions) of each distinct key, keys in order of first appearance."""
    if isinstance(keys, np.ndarray):
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        plain = uniq.tolist()  # numpy scalars as Python values (partition names, numbers)
        if uniq.size == 1:
            return [(plain[0], np.arange(keys.size))]
        return [(plain[u], np.flatnonzero(inverse == u)) for u in np.argsort(first).tolist()]
    where: dict[Hashable, list[int]] = {}
    for i, k in enumerate(keys):
        where.setdefault(k, []).append(i)
    return [(k, np.asarray(v, dtype=np.intp)) for k, v in where.items()]

"""Late data and scans: a reorder buffer that releases detections in time order, cut in scans."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.batch import DetectionBatch


@dataclass(frozen=True)
class Scan:
    """Detections of one sensor in one time bin, processed together at `time` (their latest)."""

    time: float
    sensor_id: str
    batch: DetectionBatch


class ReorderBuffer:
    """Holds detections `window_s` of event time so that out-of-order arrivals are put in order.

    The watermark is the latest detection time seen minus `window_s` (or a clock the caller
    passes); everything at or before it is released as scans. A detection older than the last
    released scan cannot be used without rewriting history, so `push` reports it as too late.
    This trades `window_s` of output latency for exact ordering, which keeps the tracker
    simple and its results independent of arrival order inside the window.
    """

    def __init__(self, window_s: float, scan_window_s: float) -> None:
        self.window_s = window_s
        self.scan_window_s = scan_window_s
        self.horizon = -np.inf  # time of the last released scan
        self.latest = -np.inf  # latest detection time seen
        self._pending: list[DetectionBatch] = []

    def push(self, batch: DetectionBatch) -> NDArray[np.bool_]:
        """Queue `batch`; returns the mask of its detections rejected as too late."""
        late = batch.t < self.horizon
        keep = np.flatnonzero(~late)
        if keep.size:
            self._pending.append(batch if keep.size == len(batch) else batch.take(keep))
            self.latest = max(self.latest, float(batch.t[keep].max()))
        return late

    def __len__(self) -> int:
        return sum(len(b) for b in self._pending)

    def release(self, watermark: float | None = None) -> list[Scan]:
        """Scans of all queued detections at or before the watermark, in time order."""
        if not self._pending:
            return []
        mark = self.latest - self.window_s if watermark is None else watermark
        queued = DetectionBatch.concat(self._pending)
        ready = queued.t <= mark
        if ready.all():
            self._pending = []
            scans = self._cut(queued)
        elif not ready.any():
            self._pending = [queued]
            return []
        else:
            self._pending = [queued.take(np.flatnonzero(~ready))]
            scans = self._cut(queued.take(np.flatnonzero(ready)))
        self.horizon = max(self.horizon, scans[-1].time)
        return scans

    def _cut(self, batch: DetectionBatch) -> list[Scan]:
        sensors = [d.sensor_id for d in batch.detections]
        first = sensors[0]
        t_min, t_max = float(batch.t.min()), float(batch.t.max())
        w = self.scan_window_s
        same_bin = t_min == t_max or (w > 0 and np.floor(t_min / w) == np.floor(t_max / w))
        if same_bin and all(s == first for s in sensors):
            return [Scan(t_max, first, batch)]  # the usual case: one sensor's scan
        names, code = np.unique(np.array(sensors, dtype=object), return_inverse=True)
        if self.scan_window_s > 0:
            bins = np.floor(batch.t / self.scan_window_s).astype(np.int64)
        else:
            bins = np.unique(batch.t, return_inverse=True)[1].astype(np.int64)
        key = bins * len(names) + code
        groups, group_of = np.unique(key, return_inverse=True)
        group_time = np.full(groups.size, -np.inf)
        np.maximum.at(group_time, group_of, batch.t)
        order = np.argsort(group_of, kind="stable")
        bounds = np.flatnonzero(np.diff(group_of[order])) + 1
        members = np.split(order, bounds)
        scans = [
            Scan(float(group_time[g]), str(names[code[idx[0]]]), batch.take(idx))
            for g, idx in enumerate(members)
        ]
        scans.sort(key=lambda s: s.time)
        return scans

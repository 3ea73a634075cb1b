"""Detections as columns of arrays, so a whole scan is gated and updated at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limes.ops.detection import Detection, TargetClass
from limes.ops.tracker.config import DECLARED_CLASSES

_CLASS_INDEX: dict[TargetClass, int] = {c: i for i, c in enumerate(DECLARED_CLASSES)}


@dataclass(frozen=True)
class DetectionBatch:
    """A set of detections, column by column (times in POSIX seconds)."""

    detections: tuple[Detection, ...]
    t: NDArray[np.float64]
    z: NDArray[np.float64]  # (n, 2) x, y in metres
    r: NDArray[np.float64]  # (n, 3) var_xx, var_xy, var_yy in m²
    declared: NDArray[np.intp]  # index into DECLARED_CLASSES
    confidence: NDArray[np.float64]
    group_size: NDArray[np.float64]  # NaN where not reported

    @classmethod
    def of(cls, detections: Sequence[Detection]) -> DetectionBatch:
        """Columns of `detections`, in the given order."""
        n = len(detections)
        if n == 0:
            return cls(
                (),
                np.empty(0),
                np.empty((0, 2)),
                np.empty((0, 3)),
                np.empty(0, dtype=np.intp),
                np.empty(0),
                np.empty(0),
            )
        t = np.empty(n)
        cols = np.empty((n, 5))
        declared = np.empty(n, dtype=np.intp)
        confidence = np.empty(n)
        group = np.empty(n)
        nan = float("nan")
        for i, d in enumerate(detections):
            t[i] = d.time.timestamp()
            cols[i] = (d.x, d.y, d.var_xx, d.var_xy, d.var_yy)
            declared[i] = _CLASS_INDEX[d.target_class]
            confidence[i] = d.confidence
            group[i] = nan if d.group_size is None else d.group_size
        return cls(
            tuple(detections),
            t,
            np.ascontiguousarray(cols[:, :2]),
            np.ascontiguousarray(cols[:, 2:]),
            declared,
            np.minimum(np.maximum(confidence, 0.0), 1.0),
            group,
        )

    @classmethod
    def concat(cls, batches: Sequence[DetectionBatch]) -> DetectionBatch:
        """One batch holding all of `batches`, in order."""
        if len(batches) == 1:
            return batches[0]
        return cls(
            tuple(d for b in batches for d in b.detections),
            np.concatenate([b.t for b in batches]),
            np.concatenate([b.z for b in batches]).reshape(-1, 2),
            np.concatenate([b.r for b in batches]).reshape(-1, 3),
            np.concatenate([b.declared for b in batches]),
            np.concatenate([b.confidence for b in batches]),
            np.concatenate([b.group_size for b in batches]),
        )

    def __len__(self) -> int:
        return len(self.detections)

    def take(self, index: NDArray[np.intp]) -> DetectionBatch:
        """The detections at `index`, in that order."""
        return DetectionBatch(
            tuple(self.detections[i] for i in index.tolist()),
            self.t[index],
            self.z[index],
            self.r[index],
            self.declared[index],
            self.confidence[index],
            self.group_size[index],
        )

    def valid(self) -> NDArray[np.bool_]:
        """Detections with a finite position and a positive-definite covariance."""
        finite = np.isfinite(self.z).all(axis=1) & np.isfinite(self.r).all(axis=1)
        xx, xy, yy = self.r[:, 0], self.r[:, 1], self.r[:, 2]
        with np.errstate(invalid="ignore"):
            pd = (xx > 0) & (yy > 0) & (xx * yy - xy * xy > 0)
        return finite & pd & np.isfinite(self.t)

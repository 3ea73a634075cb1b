"""The records the tracker hands out: track states and rejected detections."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from limes.ops.detection import Detection, TargetClass


class TrackStatus(StrEnum):
    """Where a track is in its life."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    COASTING = "coasting"
    DELETED = "deleted"


#: Status codes as stored in the track table, indexed by code.
STATUS_BY_CODE: tuple[TrackStatus, ...] = (
    TrackStatus.TENTATIVE,
    TrackStatus.CONFIRMED,
    TrackStatus.COASTING,
    TrackStatus.DELETED,
)


@dataclass(frozen=True, slots=True)
class TrackState:
    """One track at one time: the fused estimate that rules, store and map consume.

    The state is (x, y, vx, vy) in the scenario's metric frame (m, m/s); `covariance` is its
    4×4 covariance flattened row-major in that order. `class_probabilities` maps each possible
    true class to its probability; `target_class` is the most probable one, or "unknown" while
    no class is probable enough.
    """

    track_id: str
    time: datetime
    x: float
    y: float
    vx: float
    vy: float
    covariance: tuple[float, ...]
    target_class: TargetClass
    class_probabilities: dict[str, float]
    group_size: int | None
    status: TrackStatus
    hits: int
    misses: int
    sensors: tuple[str, ...]
    last_detection: tuple[str, int] | None

    @property
    def speed(self) -> float:
        """Ground speed estimate (m/s)."""
        return math.hypot(self.vx, self.vy)

    @property
    def position_sd(self) -> float:
        """Root of the position covariance trace (m): one number for "how sure"."""
        return math.sqrt(max(self.covariance[0] + self.covariance[5], 0.0))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (time as ISO 8601 UTC)."""
        return {
            "track_id": self.track_id,
            "time": self.time.isoformat(),
            "x": self.x,
            "y": self.y,
            "vx": self.vx,
            "vy": self.vy,
            "covariance": list(self.covariance),
            "target_class": self.target_class.value,
            "class_probabilities": dict(self.class_probabilities),
            "group_size": self.group_size,
            "status": self.status.value,
            "hits": self.hits,
            "misses": self.misses,
            "sensors": list(self.sensors),
            "last_detection": list(self.last_detection) if self.last_detection else None,
        }


@dataclass(frozen=True, slots=True)
class Untracked:
    """A detection ingest accepted but the tracker did not use, and why (reported on the bus
    as untracked, never silently lost; not to be confused with an ingest `Rejection`)."""

    detection: Detection
    reason: str

"""The normalised detection: one report from one sensor, whatever door it came in by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TargetClass(StrEnum):
    """What a sensor thinks it saw."""

    PERSON = "person"
    VEHICLE = "vehicle"
    ANIMAL = "animal"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Detection:
    """One validated report, positioned in the scenario frame with its uncertainty.

    `lon`/`lat` keep what the sensor said (WGS84); `x`/`y` and the covariance terms are the same
    position in the scenario's metric frame, which is what the tracker and the rules use.
    `received` is when limes accepted it; `late` marks reports older than the late-data window
    that were still accepted.
    """

    sensor_id: str
    seq: int
    time: datetime
    lon: float
    lat: float
    x: float
    y: float
    var_xx: float
    var_xy: float
    var_yy: float
    target_class: TargetClass = TargetClass.UNKNOWN
    confidence: float = 1.0
    group_size: int | None = None
    received: datetime | None = None
    late: bool = False

    @property
    def key(self) -> tuple[str, int]:
        """The identity used to drop duplicates (MQTT redelivery, resent batches)."""
        return (self.sensor_id, self.seq)

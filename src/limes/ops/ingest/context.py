"""What the ingest doors need to know about the scenario: frame, sensors, area, limits, clock.

`ingest_context(scenario)` builds it from a scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import shapely
from shapely.geometry.base import BaseGeometry

from limes.geo.frame import Frame
from limes.scenario.model import Scenario
from limes.scenario.schema import DetectionLaw


def utc_now() -> datetime:
    """The wall clock as an aware UTC datetime (the default ingest clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """One sensor as ingest sees it: where it stands and how far and how well it can report.

    `position_sd_m` is the one-sigma position error given to reports that carry none (and to
    CoT reports whose `ce` is the "unknown" value). `range_m` is the farthest a report from this
    sensor may lie (None: no limit). `bearing_sd_deg` / `range_sd_m` are the defaults for
    bearing-and-range reports that carry no spread of their own (None: such reports must).
    """

    sensor_id: str
    lon: float
    lat: float
    position_sd_m: float
    range_m: float | None = None
    bearing_sd_deg: float | None = None
    range_sd_m: float | None = None


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """Bounds every door applies before and while it reads a report; defaults documented here.

    - `max_message_bytes` (1 MiB): one MQTT message or HTTP body; larger is rejected unread.
    - `max_batch_size` (1000): detections in one `{"detections": [...]}` batch.
    - `max_event_bytes` (64 KiB): one CoT `<event>` (TCP stream or UDP datagram).
    - `future_skew_s` (10 s): how far ahead of our clock a report time may be (sensor clocks
      drift; GPS-disciplined ones by far less).
    - `late_after_s` (30 s): a report older than this is still accepted but flagged `late`.
    - `max_age_s` (1 day): a report older than this is rejected (a sensor replaying a buffer
      after an outage is still taken, within the day).
    - `max_position_sd_m` (5 km): one-sigma position error above which a report is useless.
    - `max_group_size` (1000): persons or vehicles in one reported group.
    - `range_tolerance_sd` (3): a report may lie this many sigmas beyond the sensor's range.
    - `dead_letter_keep_bytes` (4 KiB): how much of an oversize payload a dead letter keeps.
    """

    max_message_bytes: int = 1 << 20
    max_batch_size: int = 1000
    max_event_bytes: int = 64 << 10
    future_skew_s: float = 10.0
    late_after_s: float = 30.0
    max_age_s: float = 86_400.0
    max_position_sd_m: float = 5_000.0
    max_group_size: int = 1000
    range_tolerance_sd: float = 3.0
    dead_letter_keep_bytes: int = 4096

    def __post_init__(self) -> None:
        for name in (
            "max_message_bytes",
            "max_batch_size",
            "max_event_bytes",
            "max_group_size",
            "dead_letter_keep_bytes",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"IngestLimits.{name} must be at least 1")
        if not 0 <= self.late_after_s <= self.max_age_s:
            raise ValueError("IngestLimits needs 0 <= late_after_s <= max_age_s")
        if self.future_skew_s < 0 or self.max_position_sd_m <= 0 or self.range_tolerance_sd < 0:
            raise ValueError("IngestLimits: skew, tolerance >= 0 and max_position_sd_m > 0")


@dataclass(frozen=True)
class IngestContext:
    """The scenario facts every door checks reports against.

    `area` is a shapely (Multi)Polygon in lon/lat (GeoJSON order): the area of interest; reports
    outside it are rejected. `clock` returns aware UTC now; tests pass a fixed one.
    """

    frame: Frame
    sensors: Mapping[str, SensorInfo]
    area: BaseGeometry
    limits: IngestLimits = field(default_factory=IngestLimits)
    clock: Callable[[], datetime] = utc_now

    def __post_init__(self) -> None:
        if self.area.geom_type not in ("Polygon", "MultiPolygon") or self.area.is_empty:
            raise ValueError(f"ingest area must be a non-empty polygon, not {self.area.geom_type}")
        for key, info in self.sensors.items():
            if key != info.sensor_id:
                raise ValueError(f"sensor registered as {key!r} calls itself {info.sensor_id!r}")
        # Prepared geometry makes the vectorised point-in-area test fast; it does not change it.
        shapely.prepare(self.area)

    def now(self) -> datetime:
        """The context's clock, checked to be aware (a naive clock would shift every report)."""
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the ingest clock returned a naive datetime")
        return now.astimezone(UTC)


#: A sensor model without laws gives its reports the schema's default position error.
_DEFAULT_SD_M = float(DetectionLaw.model_fields["position_sd_m"].default)


def sensor_infos(scenario: Scenario) -> dict[str, SensorInfo]:
    """Each scenario sensor as ingest sees it.

    A report's default position error is the sensor model's worst `position_sd_m` over its
    laws, and the farthest a report may lie is the model's longest `range_m` (whatever the
    class or light: ingest does not know them yet when it checks the range). The scenario
    has no bearing/range error model, so bearing-and-range reports must carry their spread.
    """
    out = {}
    for sensor in scenario.spec.sensors:
        laws = [law for by_light in scenario.model_of(sensor).laws.values()
                for law in by_light.values()]  # fmt: skip
        lon, lat = scenario.position_lonlat(sensor.position)
        out[sensor.id] = SensorInfo(
            sensor_id=sensor.id,
            lon=lon,
            lat=lat,
            position_sd_m=max((law.position_sd_m for law in laws), default=_DEFAULT_SD_M),
            range_m=max((law.range_m for law in laws), default=None),
        )
    return out


def ingest_context(
    scenario: Scenario,
    *,
    limits: IngestLimits | None = None,
    clock: Callable[[], datetime] = utc_now,
    margin_m: float | None = None,
) -> IngestContext:
    """The `IngestContext` of a scenario.

    The area of interest is the border buffered by the scenario's `max_sensor_distance_m`
    (or `margin_m`): no sensor of the scenario reports farther out than that.
    """
    return IngestContext(
        frame=scenario.frame,
        sensors=sensor_infos(scenario),
        area=scenario.area_lonlat(margin_m),
        limits=limits or IngestLimits(),
        clock=clock,
    )

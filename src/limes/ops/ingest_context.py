"""The ingest doors' view of a scenario: frame, sensors with their ranges and errors, area."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from limes.ops.ingest.context import IngestContext, IngestLimits, SensorInfo, utc_now
from limes.scenario.model import Scenario
from limes.scenario.schema import DetectionLaw

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

"""Small builders for tracker tests (shared names; the fixtures live in conftest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from limes.ops.detection import Detection, TargetClass

T0 = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)

MakeDetection = Callable[..., Detection]


def make_detection_factory() -> MakeDetection:
    """Detection at `t` seconds after T0; sequence numbers count up per sensor."""
    counters: dict[str, int] = {}

    def make(
        t: float,
        x: float,
        y: float,
        *,
        sensor: str = "s1",
        var: float = 4.0,
        cls: TargetClass = TargetClass.UNKNOWN,
        confidence: float = 1.0,
        group: int | None = None,
    ) -> Detection:
        counters[sensor] = counters.get(sensor, 0) + 1
        return Detection(
            sensor_id=sensor,
            seq=counters[sensor],
            time=T0 + timedelta(seconds=t),
            lon=0.0,
            lat=0.0,
            x=x,
            y=y,
            var_xx=var,
            var_xy=0.0,
            var_yy=var,
            target_class=cls,
            confidence=confidence,
            group_size=group,
        )

    return make

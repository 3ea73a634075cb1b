"""Small records for the API tests: detections near the test sensor, alerts, track states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from limes.ops.alert import Alert, Rule, Severity
from limes.ops.detection import TargetClass
from limes.ops.tracker.state import TrackState, TrackStatus


def detection_json(seq: int, sensor: str = "tw-pk-01", **kw: Any) -> dict[str, Any]:
    """A valid JSON detection ~1 km from tw-pk-01 (within its 6 km range)."""
    item: dict[str, Any] = {
        "sensor_id": sensor,
        "seq": seq,
        "time": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
        "lon": 42.345,
        "lat": 37.09,
        "class": "person",
    }
    item.update(kw)
    return item


def alert(
    track_id: str = "T1", sector: str = "Peshmerga", severity: Severity = Severity.HIGH
) -> Alert:
    return Alert(
        alert_id=f"crossed:{track_id}", rule=Rule.CROSSED, track_id=track_id,
        time=datetime.now(UTC), lon=42.3, lat=37.0, target_class="person", group_size=4,
        chainage_km=10.0, offset_m=50.0, sector=sector, command="Peshmerga", far_side="SDF",
        channel="liaison", severity=severity,
    )  # fmt: skip


def track(track_id: str, t: datetime, x: float = 0.0) -> TrackState:
    return TrackState(
        track_id=track_id, time=t, x=x, y=0.0, vx=1.0, vy=0.0, covariance=(1.0,) * 16,
        target_class=TargetClass.PERSON, class_probabilities={"person": 1.0}, group_size=1,
        status=TrackStatus.CONFIRMED, hits=3, misses=0, sensors=("tw-pk-01",),
        last_detection=None,
    )  # fmt: skip

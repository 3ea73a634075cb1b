"""Builders of small pipeline records for the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from limes.geo.frame import Frame
from limes.ops.alert import Alert, Rule, Severity
from limes.ops.detection import Detection, TargetClass
from limes.ops.tracker.state import TrackState, TrackStatus

NOW = datetime(2025, 3, 1, 21, 0, 0, tzinfo=UTC)
FRAME = Frame.transverse_mercator(41.0, 34.4)


def detection(sensor: str = "tower-1", seq: int = 1, **kw: Any) -> Detection:
    fields: dict[str, Any] = dict(
        sensor_id=sensor, seq=seq, time=NOW - timedelta(seconds=seq), lon=41.01, lat=34.41,
        x=900.0, y=1100.0, var_xx=625.0, var_xy=0.0, var_yy=625.0,
        target_class=TargetClass.PERSON, confidence=0.8, group_size=3, received=NOW, late=False,
    )  # fmt: skip
    fields.update(kw)
    return Detection(**fields)


def track(track_id: str = "T1", t: datetime = NOW, x: float = 0.0, y: float = 0.0) -> TrackState:
    return TrackState(
        track_id=track_id, time=t, x=x, y=y, vx=1.0, vy=-0.5,
        covariance=tuple(float(i == j) * 100.0 for i in range(4) for j in range(4)),
        target_class=TargetClass.PERSON, class_probabilities={"person": 0.9, "vehicle": 0.1},
        group_size=2, status=TrackStatus.CONFIRMED, hits=5, misses=0, sensors=("tower-1",),
        last_detection=("tower-1", 7),
    )  # fmt: skip


def alert(
    track_id: str = "T1",
    rule: Rule = Rule.CROSSED,
    severity: Severity = Severity.MEDIUM,
    sector: str = "Anbar",
    t: datetime = NOW,
    incident_key: str | None = None,
) -> Alert:
    return Alert(
        alert_id=f"{rule.value}:{track_id}", rule=rule, track_id=track_id, time=t, lon=41.0,
        lat=34.4, target_class="person", group_size=3, chainage_km=12.5, offset_m=40.0,
        sector=sector, command="Anbar Operations Command", far_side="SDF", channel="radio",
        severity=severity, incident_key=incident_key,
    )  # fmt: skip

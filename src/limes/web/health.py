"""System health for the watch floor: which sensors have gone quiet, what each door rejected,
and whether the exercise (if any) is running — what a duty officer must know before trusting
an empty screen.

A sensor is *late* when it has not reported for `late_factor` × its usual interval (the mean
gap between its reports in the window), and *silent* when it sent nothing in the window at
all. Times are on the system's one clock (the exercise clock in an exercise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limes.store.tables import DeadLetterRow, DetectionRow


@dataclass(frozen=True)
class SensorHealth:
    """One sensor's reporting: last report, usual interval (s), and its state."""

    sensor_id: str
    last: datetime | None
    interval_s: float | None
    state: str  # "ok", "late" or "silent"
    quiet_s: float | None  # seconds since its last report


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def sensor_health(
    session: Session, sensor_ids: list[str], now: datetime, *, window_s: float, late_factor: float
) -> list[SensorHealth]:
    """Each sensor's state from its reports in the last `window_s` seconds before `now`."""
    since = now - timedelta(seconds=window_s)
    rows = session.execute(
        select(
            DetectionRow.sensor_id,
            func.min(DetectionRow.time),
            func.max(DetectionRow.time),
            func.count(),
        )
        .where(DetectionRow.time >= since, DetectionRow.time <= now)
        .group_by(DetectionRow.sensor_id)
    ).all()
    seen = {sid: (_aware(lo), _aware(hi), int(n)) for sid, lo, hi, n in rows}
    out = []
    for sid in sensor_ids:
        if sid not in seen:
            out.append(SensorHealth(sid, None, None, "silent", None))
            continue
        lo, hi, n = seen[sid]
        interval = (hi - lo).total_seconds() / (n - 1) if n > 1 else None
        quiet = max(0.0, (now - hi).total_seconds())
        late = interval is not None and quiet > late_factor * max(interval, 1.0)
        out.append(SensorHealth(sid, hi, interval, "late" if late else "ok", quiet))
    return out


def rejected_by_door(session: Session) -> dict[str, int]:
    """Rejected reports kept as dead letters, per door (the source's scheme: http, mqtt, cot…)."""
    counts: dict[str, int] = {}
    for source, n in session.execute(
        select(DeadLetterRow.source, func.count()).group_by(DeadLetterRow.source)
    ).all():
        door = str(source).split(":", 1)[0] or "unknown"
        counts[door] = counts.get(door, 0) + int(n)
    return counts


def floor_health(
    session: Session,
    sensor_ids: list[str],
    now: datetime,
    exercise: dict[str, Any] | None,
    *,
    window_s: float,
    late_factor: float,
) -> dict[str, Any]:
    """The health panel's content (JSON-ready)."""
    sensors = sensor_health(session, sensor_ids, now, window_s=window_s, late_factor=late_factor)
    return {
        "now": now.isoformat(),
        "sensors": [
            {
                "sensor_id": s.sensor_id,
                "state": s.state,
                "last": s.last.isoformat() if s.last else None,
                "interval_s": s.interval_s,
                "quiet_s": s.quiet_s,
            }
            for s in sensors
        ],
        "late": sum(s.state == "late" for s in sensors),
        "silent": sum(s.state == "silent" for s in sensors),
        "rejected": rejected_by_door(session),
        "exercise": exercise,
    }

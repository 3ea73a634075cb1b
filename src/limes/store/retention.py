"""Retention: deleting what is older than the configured ages, in bounded batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from limes.store.database import Database
from limes.store.tables import Base, ChangeRow, DeadLetterRow, DetectionRow, TrackHistoryRow


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each growing table keeps rows (None: forever); defaults documented here.

    - `detections` (30 days): raw reports, by their `time`.
    - `track_history` (90 days): past track states, by `time`.
    - `dead_letters` (30 days): rejected reports, by `received`.
    - `changes` (2 days): the live stream's log; a map reconnecting with an older cursor is
      told to reload (see docs/api.md).
    Alerts, incidents, their events, dispatches, users and the audit log are never deleted.
    """

    detections: timedelta | None = timedelta(days=30)
    track_history: timedelta | None = timedelta(days=90)
    dead_letters: timedelta | None = timedelta(days=30)
    changes: timedelta | None = timedelta(days=2)
    batch_size: int = 10_000


def _purge(db: Database, table: type[Base], column: str, cutoff: datetime, batch: int) -> int:
    id_col = table.__table__.c.id
    time_col = table.__table__.c[column]
    total = 0
    while True:
        # Bounded batches keep each transaction (and SQLite's write lock) short.
        with db.session() as session:
            ids = session.scalars(select(id_col).where(time_col < cutoff).limit(batch)).all()
            if not ids:
                return total
            session.execute(delete(table).where(id_col.in_(ids)))
            total += len(ids)


def apply_retention(db: Database, policy: RetentionPolicy, now: datetime) -> dict[str, int]:
    """Delete rows past their age; returns how many rows went from each table."""
    plan: list[tuple[str, type[Base], str, timedelta | None]] = [
        ("detections", DetectionRow, "time", policy.detections),
        ("track_history", TrackHistoryRow, "time", policy.track_history),
        ("dead_letters", DeadLetterRow, "received", policy.dead_letters),
        ("changes", ChangeRow, "time", policy.changes),
    ]
    out: dict[str, int] = {}
    for name, table, column, age in plan:
        out[name] = 0 if age is None else _purge(db, table, column, now - age, policy.batch_size)
    return out

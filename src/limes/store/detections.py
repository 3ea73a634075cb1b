"""Accepted detections: bulk, idempotent appends, reads by time window and in storage order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from limes.ops.detection import Detection, TargetClass
from limes.store import bulk
from limes.store.rows import upsert_insert
from limes.store.tables import DetectionRow


def detection_params(detections: Sequence[Detection]) -> list[dict[str, Any]]:
    """Insert parameters for a batch (a plain loop: attribute reads dominate, not arithmetic)."""
    return [
        {
            "sensor_id": d.sensor_id,
            "seq": d.seq,
            "time": d.time,
            "received": d.received,
            "lon": d.lon,
            "lat": d.lat,
            "x": d.x,
            "y": d.y,
            "var_xx": d.var_xx,
            "var_xy": d.var_xy,
            "var_yy": d.var_yy,
            "target_class": d.target_class.value,
            "confidence": d.confidence,
            "group_size": d.group_size,
            "late": d.late,
        }
        for d in detections
    ]


def insert_detections(session: Session, detections: Sequence[Detection]) -> int:
    """Append detections in one batched statement; a (sensor_id, seq) already stored is skipped.

    Returns how many rows were new. The duplicate skip is the database's (ON CONFLICT DO
    NOTHING on the unique key), so it holds across restarts and concurrent writers.
    """
    if not detections:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return _copy_detections(session, detections)
    table = DetectionRow.__table__
    statement = upsert_insert(session, table).on_conflict_do_nothing(
        index_elements=["sensor_id", "seq"]
    )
    # sqlite3's executemany sums the rows each INSERT changed: ignored repeats count 0.
    result = session.execute(statement, detection_params(detections))
    return int(result.rowcount)  # type: ignore[attr-defined]


_COLUMNS = (
    "sensor_id", "seq", "time", "received", "lon", "lat", "x", "y", "var_xx", "var_xy", "var_yy",
    "target_class", "confidence", "group_size", "late",
)  # fmt: skip
_STAGE = "_limes_detections_in"


def detection_copy_text(detections: Sequence[Detection]) -> bytes:
    """The batch as COPY text in `_COLUMNS` order: one f-string per row (floats by `repr`,
    the shortest text that reads back as the same double), each distinct time formatted once
    (a batch's detections share a handful)."""
    times = bulk.TimeTexts()
    null = bulk.NULL
    escape = bulk.escape
    lines = [
        f"{escape(d.sensor_id)}\t{d.seq}\t{times[d.time]}\t{times[d.received]}\t{d.lon!r}\t"
        f"{d.lat!r}\t{d.x!r}\t{d.y!r}\t{d.var_xx!r}\t{d.var_xy!r}\t{d.var_yy!r}\t"
        f"{d.target_class.value}\t{d.confidence!r}\t"
        f"{null if d.group_size is None else d.group_size}\t{'t' if d.late else 'f'}\n"
        for d in detections
    ]
    return "".join(lines).encode()


def _copy_detections(session: Session, detections: Sequence[Detection]) -> int:
    """PostgreSQL: one COPY of the batch (encoded once) straight into the table, inside a
    savepoint; if a (sensor_id, seq) is already stored (a redelivery after a restart: rare),
    the savepoint is rolled back and the batch goes through a session-temporary stage and one
    INSERT ... SELECT ... ON CONFLICT DO NOTHING instead (COPY itself cannot skip duplicates).

    COPY is PostgreSQL's bulk path: several times the rate of batched INSERTs; the common case
    pays for it once, and both paths count exactly the rows that were new.
    """
    import psycopg  # PostgreSQL only: an SQLite service never loads the driver

    text = detection_copy_text(detections)
    columns = ", ".join(_COLUMNS)
    with bulk.driver_cursor(session) as cursor:
        cursor.execute("SAVEPOINT limes_detections")
        try:
            bulk.copy_text(cursor, "detections", _COLUMNS, text)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT limes_detections")
        else:
            cursor.execute("RELEASE SAVEPOINT limes_detections")
            return len(detections)
        bulk.stage(cursor, _STAGE, f"SELECT {columns} FROM detections")
        bulk.copy_text(cursor, _STAGE, _COLUMNS, text)
        cursor.execute(
            f"INSERT INTO detections ({columns}) SELECT {columns} FROM {_STAGE} "
            "ON CONFLICT (sensor_id, seq) DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute(f"TRUNCATE {_STAGE}")  # the stage is reused within the transaction
    return int(inserted)


def count_detections(session: Session) -> int:
    """How many detections are stored."""
    return int(session.scalar(select(func.count()).select_from(DetectionRow)) or 0)


def detections_between(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    sensor_id: str | None = None,
    after_id: int | None = None,
    limit: int = 1000,
) -> Sequence[DetectionRow]:
    """Detections with since <= time < until, in storage order (`after_id`: paging)."""
    query = (
        select(DetectionRow)
        .where(DetectionRow.time >= since, DetectionRow.time < until)
        .order_by(DetectionRow.id)
        .limit(limit)
    )
    if sensor_id is not None:
        query = query.where(DetectionRow.sensor_id == sensor_id)
    if after_id is not None:
        query = query.where(DetectionRow.id > after_id)
    return session.scalars(query).all()


_CLASSES = {c.value: c for c in TargetClass}


def detections_after(
    session: Session, after_id: int, *, since: datetime | None = None, limit: int = 5000
) -> list[tuple[int, Detection]]:
    """(row id, detection) of the detections stored after row `after_id`, in storage order
    (`since`: none older than that time). What a replay and an outbox read, page by page."""
    t = DetectionRow
    # Plain column tuples on a Core connection, the two times as the driver gives them: a
    # replay reads every row of its window, and the ORM's and the UTC type's processing of
    # each row cost as much as tracking it. Times repeat (a message's detections share
    # `received`), so each distinct one is converted once.
    raw = NullType()
    columns = (t.id, t.sensor_id, t.seq, type_coerce(t.time, raw), t.lon, t.lat, t.x, t.y,
               t.var_xx, t.var_xy, t.var_yy, t.target_class, t.confidence, t.group_size,
               type_coerce(t.received, raw), t.late)  # fmt: skip
    query = select(*columns).where(t.id > after_id).order_by(t.id).limit(limit)
    if since is not None:
        query = query.where(t.time >= since)
    times: dict[Any, datetime] = {}

    def utc(value: Any) -> datetime:
        got = times.get(value)
        return got if got is not None else times.setdefault(value, _utc(value))

    return [
        (r[0], Detection(r[1], r[2], utc(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                         _CLASSES[r[11]], r[12], r[13], None if r[14] is None else utc(r[14]),
                         bool(r[15])))
        for r in session.connection().execute(query).all()
    ]  # fmt: skip


def _utc(value: str | datetime) -> datetime:
    """A stored time as the driver gives it (SQLite: ISO text in UTC; PostgreSQL: aware) in UTC."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

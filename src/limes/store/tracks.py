"""Tracks: the current state of each (upserted) and its history (appended)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limes.geo.frame import Frame
from limes.ops.tracker.state import TrackState
from limes.store import bulk
from limes.store.changes import CHANGE_LOCK_KEY, record_changes
from limes.store.rows import json_value, upsert_insert
from limes.store.tables import TrackHistoryRow, TrackRow


def track_params(states: Sequence[TrackState], frame: Frame) -> list[dict[str, Any]]:
    """Row parameters for track states, lon/lat computed for the whole batch at once."""
    lon, lat = frame.to_lonlat(
        np.fromiter((s.x for s in states), float, len(states)),
        np.fromiter((s.y for s in states), float, len(states)),
    )
    return [
        {
            "track_id": s.track_id,
            "time": s.time,
            "lon": float(lon[i]),
            "lat": float(lat[i]),
            "x": s.x,
            "y": s.y,
            "vx": s.vx,
            "vy": s.vy,
            "covariance": [float(c) for c in s.covariance],
            "target_class": s.target_class.value,
            "class_probabilities": {k: float(v) for k, v in s.class_probabilities.items()},
            "group_size": s.group_size,
            "status": s.status.value,
            "hits": s.hits,
            "misses": s.misses,
            "sensors": list(s.sensors),
        }
        for i, s in enumerate(states)
    ]


_HISTORY_KEYS = (
    "track_id", "time", "lon", "lat", "x", "y", "vx", "vy", "target_class", "group_size", "status",
)  # fmt: skip


def upsert_tracks(
    session: Session, states: Sequence[TrackState], frame: Frame
) -> list[dict[str, Any]]:
    """Store track states: current rows upserted, history appended. Returns the states that
    changed something (JSON-ready, for the change log).

    Idempotent: a state is applied only if newer than the stored one, and history is unique per
    (track, time), so replaying a batch changes nothing. Within one batch, the latest state per
    track wins the current row.
    """
    if not states:
        return []
    params = track_params(states, frame)
    history = [
        {**{k: p[k] for k in _HISTORY_KEYS}, "position_sd_m": s.position_sd}
        for p, s in zip(params, states, strict=True)
    ]
    inserted = session.execute(
        upsert_insert(session, TrackHistoryRow.__table__)
        .on_conflict_do_nothing(index_elements=["track_id", "time"])
        .returning(TrackHistoryRow.track_id, TrackHistoryRow.time),
        history,
    ).all()
    latest: dict[str, dict[str, Any]] = {}
    for p in params:
        held = latest.get(p["track_id"])
        if held is None or p["time"] >= held["time"]:
            latest[p["track_id"]] = p
    statement = upsert_insert(session, TrackRow.__table__)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["track_id"],
        set_={c: excluded[c] for c in latest[next(iter(latest))] if c != "track_id"},
        where=TrackRow.__table__.c.time < excluded.time,
    )
    session.execute(statement, list(latest.values()))
    fresh = {(t, _utc(time)) for t, time in inserted}
    return [
        {k: json_value(v) for k, v in p.items()}
        for p in params
        if (p["track_id"], _utc(p["time"])) in fresh
    ]


_STAGE = "_limes_tracks_in"
#: Stage columns: the row's scalars, the position error for the history, and the change-log
#: payload, whose JSON also carries the covariance, class probabilities and sensors columns.
_STAGE_SCALARS = (
    "track_id", "time", "lon", "lat", "x", "y", "vx", "vy", "target_class", "group_size",
    "status", "hits", "misses",
)  # fmt: skip
_STAGE_COLUMNS = ("ord", *_STAGE_SCALARS, "position_sd_m", "payload")
_JSON_COLUMNS = ("covariance", "class_probabilities", "sensors")
_TRACK_COLUMNS = (*_STAGE_SCALARS, *_JSON_COLUMNS)


def store_tracks(
    session: Session, states: Sequence[TrackState], frame: Frame, time: datetime
) -> int:
    """Store track states and append a "track" change for each new one (stamped `time`).

    The same as `upsert_tracks` followed by `record_changes` of what it returns, and in the
    same order; on PostgreSQL it is one COPY and three statements whatever the batch size
    (each payload JSON-encoded once, in Python, and the JSON columns taken from it). Takes the
    change log's order lock, so call it after the writes that need no lock.
    """
    if not states:
        return 0
    if session.get_bind().dialect.name != "postgresql":
        return record_changes(
            session, [("track", p) for p in upsert_tracks(session, states, frame)], time
        )
    return _copy_tracks(session, states, frame, time)


def _copy_tracks(
    session: Session, states: Sequence[TrackState], frame: Frame, time: datetime
) -> int:
    params = track_params(states, frame)
    dumps = json.dumps
    text = bulk.encode_rows(
        [
            [str(i) for i in range(len(params))],
            bulk.text_column([p["track_id"] for p in params]),
            bulk.time_column([p["time"] for p in params]),
            *(bulk.float_column([p[k] for p in params])
              for k in ("lon", "lat", "x", "y", "vx", "vy")),
            [p["target_class"] for p in params],
            bulk.int_column([p["group_size"] for p in params]),
            [p["status"] for p in params],
            [str(p["hits"]) for p in params],
            [str(p["misses"]) for p in params],
            bulk.float_column([s.position_sd for s in states]),
            bulk.text_column(
                [dumps({**p, "time": json_value(p["time"])}, allow_nan=False) for p in params]
            ),
        ]
    )  # fmt: skip
    scalars = ", ".join(_STAGE_SCALARS)
    history = ", ".join(_HISTORY_KEYS)
    columns = ", ".join(_TRACK_COLUMNS)
    json_columns = ", ".join(f"payload->'{c}'" for c in _JSON_COLUMNS)
    update = ", ".join(f"{c} = excluded.{c}" for c in _TRACK_COLUMNS if c != "track_id")
    with bulk.driver_cursor(session) as cursor:
        bulk.stage(
            cursor, _STAGE,
            f"SELECT 0::int AS ord, {scalars}, 0.0::float8 AS position_sd_m, "
            "NULL::jsonb AS payload FROM tracks",
        )  # fmt: skip
        bulk.copy_text(cursor, _STAGE, _STAGE_COLUMNS, text)
        # The latest state per track (the later one of equal times) moves the current row on.
        cursor.execute(
            f"INSERT INTO tracks ({columns}) "
            f"SELECT DISTINCT ON (track_id) {scalars}, {json_columns} FROM {_STAGE} "
            "ORDER BY track_id, time DESC, ord DESC "
            f"ON CONFLICT (track_id) DO UPDATE SET {update} WHERE tracks.time < excluded.time"
        )
        # Change ids must commit in order: the lock first, then ids in the batch's order.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (CHANGE_LOCK_KEY,))
        cursor.execute(
            f"WITH fresh AS (INSERT INTO track_history ({history}, position_sd_m) "
            f"SELECT {history}, position_sd_m FROM {_STAGE} ORDER BY ord "
            "ON CONFLICT (track_id, time) DO NOTHING RETURNING track_id, time) "
            "INSERT INTO changes (time, kind, payload) "
            f"SELECT %s, 'track', s.payload FROM {_STAGE} s "
            "JOIN fresh f ON f.track_id = s.track_id AND f.time = s.time ORDER BY s.ord",
            (time,),
        )
        fresh = int(cursor.rowcount)
        cursor.execute(f"TRUNCATE {_STAGE}")
    return fresh


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def current_tracks(
    session: Session,
    *,
    status: str | None = None,
    after_track_id: str | None = None,
    limit: int = 100,
) -> Sequence[TrackRow]:
    """Current tracks ordered by id (`after_track_id`: paging), optionally of one status;
    `status="alive"`: all but deleted, `"all"` or None: every one."""
    query = select(TrackRow).order_by(TrackRow.track_id).limit(limit)
    if status == "alive":
        query = query.where(TrackRow.status != "deleted")
    elif status not in (None, "all"):
        query = query.where(TrackRow.status == status)
    if after_track_id is not None:
        query = query.where(TrackRow.track_id > after_track_id)
    return session.scalars(query).all()


def track(session: Session, track_id: str) -> TrackRow | None:
    """One track's current state."""
    return session.get(TrackRow, track_id)


def track_history(
    session: Session,
    track_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    limit: int = 1000,
) -> Sequence[TrackHistoryRow]:
    """A track's past states with since <= time < until, in storage order (`after_id`: paging).

    The tracker emits each track's states in time order, so storage order is time order except
    for a replayed old state, which is still returned in the window it belongs to.
    """
    query = (
        select(TrackHistoryRow)
        .where(TrackHistoryRow.track_id == track_id)
        .order_by(TrackHistoryRow.id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(TrackHistoryRow.time >= since)
    if until is not None:
        query = query.where(TrackHistoryRow.time < until)
    if after_id is not None:
        query = query.where(TrackHistoryRow.id > after_id)
    return session.scalars(query).all()


def track_counts(session: Session) -> dict[str, int]:
    """Current tracks per status."""
    query = select(TrackRow.status, func.count()).group_by(TrackRow.status)
    return {status: int(n) for status, n in session.execute(query).all()}

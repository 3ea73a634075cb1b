"""Tracks: the current state of each (upserted) and its history (appended)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limes.geo.frame import Frame
from limes.ops.tracker.state import TrackState
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


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def current_tracks(
    session: Session,
    *,
    status: str | None = None,
    after_track_id: str | None = None,
    limit: int = 100,
) -> Sequence[TrackRow]:
    """Current tracks ordered by id, optionally of one status (`after_track_id`: paging)."""
    query = select(TrackRow).order_by(TrackRow.track_id).limit(limit)
    if status is not None:
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

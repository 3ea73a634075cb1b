"""Alerts: each stored once by its deterministic id, and read back with filters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limes.ops.alert import Alert
from limes.store.rows import upsert_insert
from limes.store.tables import AlertRow


def alert_params(alert: Alert) -> dict[str, Any]:
    """An alert's column values."""
    return {
        "alert_id": alert.alert_id,
        "rule": alert.rule.value,
        "track_id": alert.track_id,
        "time": alert.time,
        "lon": alert.lon,
        "lat": alert.lat,
        "target_class": alert.target_class,
        "group_size": alert.group_size,
        "chainage_km": alert.chainage_km,
        "offset_m": alert.offset_m,
        "sector": alert.sector,
        "command": alert.command,
        "far_side": alert.far_side,
        "channel": alert.channel,
        "severity": alert.severity.value,
        "eta_s": alert.eta_s,
        "p_interruption": alert.p_interruption,
        "barrier_id": alert.barrier_id,
        "detail": alert.detail,
    }


def insert_alerts(session: Session, alerts: Sequence[Alert]) -> list[AlertRow]:
    """Store alerts in one statement; the rows newly stored, in the order given (an
    `alert_id` already stored, or repeated in the batch, is stored once)."""
    if not alerts:
        return []
    statement = (
        upsert_insert(session, AlertRow)
        .on_conflict_do_nothing(index_elements=["alert_id"])
        .returning(AlertRow)
    )
    stored = {r.alert_id: r for r in session.scalars(statement, [alert_params(a) for a in alerts])}
    return [stored.pop(a.alert_id) for a in alerts if a.alert_id in stored]


def list_alerts(
    session: Session,
    *,
    sector: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    track_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[AlertRow]:
    """Alerts, newest stored first, filtered (`before_id`: paging)."""
    query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
    for column, value in (
        (AlertRow.sector, sector),
        (AlertRow.rule, rule),
        (AlertRow.severity, severity),
        (AlertRow.track_id, track_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AlertRow.time >= since)
    if until is not None:
        query = query.where(AlertRow.time < until)
    if before_id is not None:
        query = query.where(AlertRow.id < before_id)
    return session.scalars(query).all()


def alert_counts(session: Session) -> dict[str, int]:
    """Stored alerts per rule."""
    query = select(AlertRow.rule, func.count()).group_by(AlertRow.rule)
    return {rule: int(n) for rule, n in session.execute(query).all()}

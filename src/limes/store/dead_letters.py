"""Dead letters: rejected reports kept with reason, detail, source and the bytes themselves."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from limes.ops.ingest.dead_letter import Rejection, storable
from limes.store.tables import DeadLetterRow

log = logging.getLogger(__name__)


def rejection_params(rejections: Sequence[Rejection]) -> list[dict[str, Any]]:
    """Insert parameters for a batch of rejections, every field fit for its column."""
    rejections = [storable(r) for r in rejections]
    return [
        {
            "reason": r.reason.value,
            "detail": r.detail,
            "source": r.source,
            "received": r.received,
            "payload": bytes(r.payload),
            "item": r.item,
            "sensor_id": r.sensor_id,
        }
        for r in rejections
    ]


def insert_dead_letters(session: Session, rejections: Sequence[Rejection]) -> int:
    """Append rejections in one batched statement; returns how many."""
    if not rejections:
        return 0
    session.execute(insert(DeadLetterRow), rejection_params(rejections))
    return len(rejections)


def dead_letters(
    session: Session,
    *,
    reason: str | None = None,
    source: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[DeadLetterRow]:
    """Dead letters, newest first, optionally of one reason or source (`before_id`: paging)."""
    query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)
    if reason is not None:
        query = query.where(DeadLetterRow.reason == reason)
    if source is not None:
        query = query.where(DeadLetterRow.source == source)
    if before_id is not None:
        query = query.where(DeadLetterRow.id < before_id)
    return session.scalars(query).all()


def dead_letter_counts(session: Session) -> dict[str, int]:
    """Stored dead letters per reason."""
    query = select(DeadLetterRow.reason, func.count()).group_by(DeadLetterRow.reason)
    return {reason: int(n) for reason, n in session.execute(query).all()}

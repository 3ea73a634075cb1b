"""The audit log: every change a person makes, with who, when, what, before and after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from limes.store.tables import AuditRow


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    time: datetime,
) -> None:
    """Append one entry (in the caller's transaction, so it stands or falls with the change)."""
    session.add(
        AuditRow(
            time=time,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )


def audit_entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditRow]:
    """Audit entries, newest first, optionally for one entity or actor (`before_id`: paging)."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditRow.entity == entity)
    if entity_id is not None:
        query = query.where(AuditRow.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    return session.scalars(query).all()

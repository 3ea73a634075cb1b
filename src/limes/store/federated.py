"""What other sites sent this one, applied idempotently, and how far this site has forwarded.

A link may deliver a change twice (a republish after a crash, a re-created stream sourced from
its start) or out of order (two links, a replay). JetStream's own de-duplication window is two
minutes, shorter than an outage, so the store decides: one row per (origin, kind, object id),
replaced only by a strictly newer version. Applying the same copy again, or an older one, is a
no-op that the caller can count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from limes.store.tables import FederatedObjectRow, FederationCursorRow


@dataclass(frozen=True)
class ReceivedChange:
    """One object state another site released to this one."""

    origin: str
    kind: str
    object_id: str
    version: int
    payload: dict[str, Any]


@dataclass
class ApplyResult:
    """What one apply did: new objects, newer versions, and copies it ignored."""

    inserted: int = 0
    updated: int = 0
    stale: int = 0
    #: The copies that changed the store, in the order given.
    changes: list[ReceivedChange] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return self.inserted + self.updated


def apply_received(
    session: Session, changes: Iterable[ReceivedChange], received: datetime
) -> ApplyResult:
    """Keep the newest version of each object; older or repeated copies change nothing."""
    result = ApplyResult()
    newest: dict[tuple[str, str, str], ReceivedChange] = {}
    for change in changes:
        key = (change.origin, change.kind, change.object_id)
        held = newest.get(key)
        if held is not None and held.version >= change.version:
            result.stale += 1
            continue
        if held is not None:
            result.stale += 1  # superseded inside this batch
        newest[key] = change
    for key, change in newest.items():
        row = session.get(FederatedObjectRow, key)
        if row is None:
            session.add(
                FederatedObjectRow(
                    origin=change.origin, kind=change.kind, object_id=change.object_id,
                    version=change.version, payload=change.payload, received=received,
                )
            )  # fmt: skip
            result.inserted += 1
            result.changes.append(change)
        elif change.version > row.version:
            row.version = change.version
            row.payload = change.payload
            row.received = received
            result.updated += 1
            result.changes.append(change)
        else:
            result.stale += 1
    return result


def received_objects(
    session: Session, origin: str | None = None, kind: str | None = None
) -> Sequence[FederatedObjectRow]:
    """The objects received, optionally from one origin and of one kind, oldest version first."""
    query = select(FederatedObjectRow).order_by(FederatedObjectRow.version)
    if origin is not None:
        query = query.where(FederatedObjectRow.origin == origin)
    if kind is not None:
        query = query.where(FederatedObjectRow.kind == kind)
    return session.scalars(query).all()


def forwarded_to(session: Session, destination: str) -> int:
    """The last change id of this site's log forwarded to `destination` (0: none yet)."""
    row = session.get(FederationCursorRow, destination)
    return 0 if row is None else int(row.change_id)


def set_forwarded(session: Session, destination: str, change_id: int, when: datetime) -> None:
    """Record that every change up to `change_id` has reached `destination`'s stream."""
    row = session.get(FederationCursorRow, destination)
    if row is None:
        session.add(FederationCursorRow(destination=destination, change_id=change_id, updated=when))
    elif change_id > row.change_id:
        row.change_id = change_id
        row.updated = when

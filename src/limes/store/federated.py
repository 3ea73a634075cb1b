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

from sqlalchemy import insert, select, tuple_, update
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
        seen = newest.get(key)
        if seen is not None and seen.version >= change.version:
            result.stale += 1
            continue
        if seen is not None:
            result.stale += 1  # superseded inside this batch
        newest[key] = change
    held = _held_versions(session, list(newest))
    fresh: list[dict[str, Any]] = []
    newer: list[dict[str, Any]] = []
    for key, change in newest.items():
        version = held.get(key)
        if version is not None and change.version <= version:
            result.stale += 1
            continue
        row = {
            "origin": change.origin,
            "kind": change.kind,
            "object_id": change.object_id,
            "version": change.version,
            "payload": change.payload,
            "received": received,
        }
        (fresh if version is None else newer).append(row)
        result.changes.append(change)
    if fresh:
        session.execute(insert(FederatedObjectRow), fresh)
    if newer:
        session.execute(update(FederatedObjectRow), newer)  # bulk update by primary key
    result.inserted, result.updated = len(fresh), len(newer)
    return result


def _held_versions(
    session: Session, keys: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], int]:
    """The stored version of each of `keys` that is held (one query per 500 keys)."""
    held: dict[tuple[str, str, str], int] = {}
    columns = (FederatedObjectRow.origin, FederatedObjectRow.kind, FederatedObjectRow.object_id)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        query = select(*columns, FederatedObjectRow.version).where(tuple_(*columns).in_(chunk))
        for origin, kind, oid, version in session.execute(query):
            held[(origin, kind, oid)] = int(version)
    return held


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


def forwarded_to(session: Session, destination: str) -> tuple[datetime, int] | None:
    """The feed position (available, seq) last forwarded to `destination`; None: nothing yet."""
    row = session.get(FederationCursorRow, destination)
    return None if row is None else (row.available, int(row.seq))


def set_forwarded(
    session: Session, destination: str, position: tuple[datetime, int], when: datetime
) -> None:
    """Record that every version up to feed `position` has reached `destination`'s stream."""
    available, seq = position
    row = session.get(FederationCursorRow, destination)
    if row is None:
        session.add(FederationCursorRow(destination=destination, available=available, seq=seq,
                                        updated=when))  # fmt: skip
    elif (available, seq) > (row.available, row.seq):
        row.available, row.seq, row.updated = available, seq, when

"""The change log that feeds the live stream: every stored change gets a monotonic id.

A map that remembers the last id it saw reconnects with `cursor=<id>` and receives exactly what
it missed. Ids must become visible in increasing order, or a reader could pass an id that a
slower transaction commits later: on PostgreSQL each transaction that records changes takes a
transaction-scoped advisory lock first (held to commit, so ids commit in order); on SQLite the
database's single write lock does the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from limes.store import bulk
from limes.store.tables import ChangeRow

#: The advisory lock key that orders change ids on PostgreSQL ("limes" in ASCII).
CHANGE_LOCK_KEY = 0x6C696D6573


def record_changes(
    session: Session, changes: Iterable[tuple[str, dict[str, Any]]], time: datetime | None = None
) -> int:
    """Append (kind, payload) changes; call last in a transaction (the order lock is held to
    commit). Returns how many were recorded."""
    when = time or datetime.now(UTC)
    rows = list(changes)
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        # One COPY, each payload JSON-encoded once; ids follow the rows' order.
        data = bulk.encode_tuples((when, kind, json.dumps(p, allow_nan=False)) for kind, p in rows)
        with bulk.driver_cursor(session) as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (CHANGE_LOCK_KEY,))
            bulk.copy_text(cursor, "changes", ("time", "kind", "payload"), data)
        return len(rows)
    session.execute(insert(ChangeRow), [{"time": when, "kind": k, "payload": p} for k, p in rows])
    return len(rows)


def changes_after(session: Session, cursor: int, limit: int) -> Sequence[ChangeRow]:
    """The changes with id greater than `cursor`, oldest first, at most `limit`."""
    query = select(ChangeRow).where(ChangeRow.id > cursor).order_by(ChangeRow.id).limit(limit)
    return session.scalars(query).all()


def change_bounds(session: Session) -> tuple[int, int]:
    """(oldest kept id, newest id); (0, 0) when the log is empty."""
    low, high = session.execute(select(func.min(ChangeRow.id), func.max(ChangeRow.id))).one()
    return int(low or 0), int(high or 0)

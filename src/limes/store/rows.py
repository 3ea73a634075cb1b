"""Small helpers shared by the repositories: dialect-aware inserts, rows as JSON, pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

T = TypeVar("T")


def upsert_insert(session: Session, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT (DO NOTHING / DO UPDATE) on the session's dialect.

    `table` is a Table or a mapped class.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {dialect}")  # connect() refuses others


def json_value(value: Any) -> Any:
    """A column value as JSON would carry it (times as ISO 8601 UTC)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def row_dict(row: DeclarativeBase, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A mapped row as a JSON-ready dict of its columns."""
    table = row.__table__
    assert isinstance(table, Table)
    return {c.key: json_value(getattr(row, c.key)) for c in table.columns if c.key not in exclude}


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: the items and the cursor of the next page (None at the end)."""

    items: list[T]
    next_cursor: str | None

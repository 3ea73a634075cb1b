"""Pagination: `limit` and an opaque `cursor` on every list that can grow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query

from limes.api.errors import ApiError

R = TypeVar("R")

MAX_LIMIT = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="next_cursor of the previous page")
]


def int_cursor(cursor: str | None) -> int | None:
    """A cursor that is an id; 422 when it is not."""
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise ApiError(422, "invalid_request", f"query.cursor: {cursor!r} is not a cursor")
    return int(cursor)


def page(rows: Sequence[R], limit: int, key: Callable[[R], Any]) -> tuple[list[R], str | None]:
    """Items and next cursor from `limit + 1` fetched rows."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return items, (str(key(items[-1])) if more and items else None)

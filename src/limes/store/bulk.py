"""PostgreSQL bulk writes: rows encoded once as COPY text and sent in one COPY per table.

`psycopg`'s `Copy.write_row` costs several microseconds per row (it adapts each value on its
own); a live watch floor writes tens of thousands of rows a second, so the repositories encode
whole batches here, column by column where the values allow, and send one buffer. The text
format is PostgreSQL's (`COPY ... FROM STDIN`, tab-separated, `\\N` for NULL, backslash
escapes), which is what `encode_rows` writes; `stage` makes the session-temporary table a batch
goes through before an `INSERT ... SELECT ... ON CONFLICT` moves it into place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

#: COPY text format escapes (backslash first, so later escapes are not escaped again).
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_SPECIAL = frozenset("\\\t\n\r")
NULL = "\\N"


def escape(text: str) -> str:
    """A string as one COPY text field (only strings holding a special character change)."""
    if _SPECIAL.isdisjoint(text):
        return text
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def text_column(values: Iterable[str | None]) -> list[str]:
    """A string column (None as NULL)."""
    return [NULL if v is None else escape(v) for v in values]


def float_column(values: Iterable[float]) -> list[str]:
    """A float column: `repr` is the shortest text that reads back as the same double."""
    return [repr(float(v)) for v in values]


def int_column(values: Iterable[int | None]) -> list[str]:
    """An integer column (None as NULL)."""
    return [NULL if v is None else str(int(v)) for v in values]


def time_column(values: Iterable[datetime | None]) -> list[str]:
    """Aware datetimes as ISO 8601 with their offset; each distinct value formatted once
    (a batch's detections share a handful of times)."""
    done: dict[datetime | None, str] = {None: NULL}
    out = []
    for v in values:
        text = done.get(v)
        if text is None:
            if v is not None and v.tzinfo is None:
                raise ValueError(f"naive datetime {v.isoformat()} given where UTC is required")
            text = done[v] = v.isoformat()  # type: ignore[union-attr]
        out.append(text)
    return out


def field(value: object) -> str:
    """One value of any column type as a COPY text field (for rows of mixed columns)."""
    if value is None:
        return NULL
    kind = type(value)
    if kind is float:
        return repr(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where UTC is required")
        return value.isoformat()
    return escape(str(value))  # str and its subclasses (enums) as their text


def encode_tuples(rows: Iterable[Sequence[object]]) -> bytes:
    """COPY text for rows given as tuples of plain values."""
    return "".join("\t".join(map(field, row)) + "\n" for row in rows).encode()


class TimeTexts(dict[datetime | None, str]):
    """Aware datetimes as COPY fields (ISO 8601 with offset; None as NULL), each distinct one
    formatted once: `texts[value]`."""

    def __missing__(self, value: datetime | None) -> str:
        if value is None:
            return NULL
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where UTC is required")
        text = self[value] = value.isoformat()
        return text


def encode_rows(columns: Sequence[Sequence[str]]) -> bytes:
    """COPY text for rows given as equally long columns of encoded fields."""
    if not columns or not columns[0]:
        return b""
    lines = ["\t".join(row) for row in zip(*columns, strict=True)]
    lines.append("")
    return "\n".join(lines).encode()


def driver_cursor(session: Session) -> Any:
    """A psycopg cursor on the session's connection (inside its transaction)."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return driver.cursor()


def copy_text(cursor: Any, table: str, columns: Sequence[str], data: bytes) -> None:
    """One COPY of prepared text into `table`'s `columns`."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(data)


def stage(cursor: Any, name: str, select: str) -> None:
    """Make (once per connection) a temporary table shaped like `select`'s result, emptied at
    every commit; callers also truncate it after use, so two batches in one transaction never
    see each other."""
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS {select} WITH NO DATA"
    )

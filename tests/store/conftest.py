"""The store fixture: the same tests run on SQLite and on PostgreSQL (marked `postgres`).

Each test gets a fresh store from `db_support.open_database` (its own PostgreSQL schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db_support import open_database
from limes.store.database import Database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    yield from open_database(request.param, tmp_path)

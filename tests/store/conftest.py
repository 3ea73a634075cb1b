"""The store fixture: the same tests run on SQLite and on PostgreSQL (marked `postgres`).

On PostgreSQL each test gets its own schema in the test database, dropped afterwards, so runs
(and parallel runs) never see each other's rows. `LIMES_TEST_POSTGRES_URL` overrides the server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from limes.store.database import Database, connect
from limes.store.migrate import migrate

POSTGRES_URL = os.environ.get(
    "LIMES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def open_database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database of the given kind; removed afterwards."""
    if kind == "sqlite":
        db = connect(f"sqlite:///{tmp_path / 'limes.db'}")
        migrate(db)
        yield db
        db.dispose()
        return
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    db = connect(POSTGRES_URL, schema=schema)
    try:
        migrate(db)
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    yield from open_database(request.param, tmp_path)

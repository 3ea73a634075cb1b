"""A fresh, migrated store for a test: a SQLite file, or a PostgreSQL schema of its own.

On PostgreSQL each test gets its own schema in the test database, dropped afterwards, so runs
(and parallel runs) never see each other's rows. `LIMES_TEST_POSTGRES_URL` overrides the server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

from limes.store.database import Database, connect
from limes.store.migrate import migrate

POSTGRES_URL = os.environ.get(
    "LIMES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def open_database(kind: str, tmp_path: Path, filename: str = "limes.db") -> Iterator[Database]:
    """A migrated database of `kind` ("sqlite" or "postgres"); removed afterwards.

    The SQLite file is `tmp_path / filename`; on PostgreSQL a fresh schema is made and dropped.
    """
    if kind == "sqlite":
        db = connect(f"sqlite:///{tmp_path / filename}")
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

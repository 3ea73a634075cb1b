"""Opening the database: SQLite (embedded default) or PostgreSQL by URL, tuned for the service.

SQLite runs in WAL mode (readers never block the writer), with foreign keys enforced and a busy
timeout so a second writer waits instead of failing. PostgreSQL is reached through psycopg 3;
`schema` pins the connection's search path, which lets tests (and side-by-side deployments) keep
separate schemas in one database.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from limes.store.errors import StoreError
from limes.store.location import database_url_from_env

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class SqliteTuning:
    """Connection settings for SQLite; the defaults suit one service process and a few readers.

    - `busy_timeout_ms` (10 s): how long a writer waits for the lock before failing.
    - `synchronous` ("NORMAL"): in WAL mode a crash loses at most the last commits, never
      corrupts; "FULL" syncs every commit.
    """

    busy_timeout_ms: int = 10_000
    synchronous: str = "NORMAL"


def _normalise_url(url: str) -> str:
    # A bare "postgresql://" would pick psycopg2, which limes does not install.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass
class Database:
    """An engine and a session factory for one limes database."""

    engine: Engine
    schema: str | None = None
    _writer: sessionmaker[Session] = field(init=False, repr=False)
    _reader: sessionmaker[Session] = field(init=False, repr=False)
    _write_lock: threading.RLock = field(init=False, repr=False, default_factory=threading.RLock)

    def __post_init__(self) -> None:
        # Two views of one pool: on SQLite a writing transaction takes the lock at BEGIN, a
        # reading one does not (WAL readers see a snapshot and never wait for the writer).
        self._writer = sessionmaker(
            self.engine.execution_options(limes_write=True), expire_on_commit=False
        )
        self._reader = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A writing session in one transaction: committed on success, rolled back on error.

        SQLite has one writer at a time. Threads of this process queue on a lock here rather
        than on SQLite's busy timeout, whose backing-off sleeps let a busy thread starve the
        others until one fails with "database is locked"; the timeout is left for writers in
        other processes.
        """
        if self.dialect != "sqlite":
            with self._writer() as session, session.begin():
                yield session
            return
        with self._write_lock, self._writer() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session: one consistent snapshot, never holding the write lock."""
        with self._reader() as session, session.begin():
            yield session

    def ping(self) -> bool:
        """Whether the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except (DBAPIError, PoolTimeout, OSError):  # the driver's refusals; a bug still raises
            return False

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def connect(
    url: str | None = None,
    *,
    schema: str | None = None,
    sqlite: SqliteTuning | None = None,
    echo: bool = False,
) -> Database:
    """Open a database by URL (default: `LIMES_DATABASE_URL`, else `sqlite:///limes.db`).

    Raises `StoreError` for a URL that is not understood or a dialect limes does not support.
    The schema is not created here: call `limes.store.migrate(db)`.
    """
    raw = _normalise_url(url or database_url_from_env())
    try:
        parsed = make_url(raw)
    except ArgumentError as error:
        raise StoreError(f"database URL {raw!r} is not understood: {error}") from None
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if backend == "sqlite":
        if schema is not None:
            raise StoreError("a schema can only be chosen on PostgreSQL")
        database = parsed.database or ""
        if database in ("", ":memory:"):
            raise StoreError(
                "an in-memory SQLite database cannot be shared by the service's threads; "
                "give a file, e.g. sqlite:///limes.db"
            )
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False}
        engine = create_engine(parsed, **kwargs)
        _tune_sqlite(engine, sqlite or SqliteTuning())
    elif backend == "postgresql":
        if schema is not None:
            if not _SCHEMA_NAME.match(schema):
                raise StoreError(f"schema name {schema!r} must match {_SCHEMA_NAME.pattern}")
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        kwargs["pool_pre_ping"] = True
        engine = create_engine(parsed, **kwargs)
    else:
        raise StoreError(f"database {backend!r} is not supported: use sqlite:/// or postgresql://")
    return Database(engine, schema)


def _tune_sqlite(engine: Engine, tuning: SqliteTuning) -> None:
    if tuning.synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise StoreError(
            f"SQLite synchronous must be OFF/NORMAL/FULL/EXTRA, not {tuning.synchronous}"
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN past our first SELECT; let
        # SQLAlchemy emit BEGIN itself so a transaction's reads and writes see one snapshot.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(tuning.busy_timeout_ms)}")
        cursor.execute(f"PRAGMA synchronous={tuning.synchronous.upper()}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the lock at BEGIN: two writers then queue on busy_timeout instead of
        # one failing with "database is locked" when it upgrades a read lock mid-transaction.
        write = conn.get_execution_options().get("limes_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

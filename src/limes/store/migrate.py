"""Bringing a database's schema to the current revision (Alembic, driven from Python).

The migration scripts ship inside the package (`limes/store/migrations`), so an installed limes
can migrate any database without an alembic.ini: `migrate(db)` is all a service or test calls.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from limes.store.database import Database

MIGRATIONS = "limes.store:migrations"


def alembic_config(db: Database) -> Config:
    """An Alembic configuration pointing at the packaged scripts (connection set by callers)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("limes.store") / "migrations"))
    config.set_main_option("sqlalchemy.url", db.url)
    return config


def head_revision(db: Database) -> str | None:
    """The newest revision the packaged scripts know."""
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Database, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default: the newest); a no-op when already there."""
    config = alembic_config(db)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(db: Database, revision: str) -> None:
    """Downgrade the schema to `revision` ("base" removes every limes table)."""
    config = alembic_config(db)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def is_current(db: Database) -> bool:
    """Whether the database is at the newest revision."""
    try:
        return current_revision(db) == head_revision(db)
    except (DBAPIError, PoolTimeout, OSError):  # an unreachable database is simply not current
        return False

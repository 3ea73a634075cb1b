"""The packaged migrations build exactly the schema the models declare, both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from limes.store.database import Database
from limes.store.migrate import current_revision, downgrade, head_revision, is_current, migrate
from limes.store.tables import Base


def _diff(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        # PostGIS `geom` columns are added by the migration where the extension exists only.
        return [
            d for d in compare_metadata(ctx, Base.metadata)
            if not (isinstance(d, tuple) and "geom" in str(d))
        ]  # fmt: skip


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert is_current(db)
    assert current_revision(db) == head_revision(db)
    assert _diff(db) == []


def test_downgrade_removes_every_table_and_upgrade_restores_them(db: Database) -> None:
    downgrade(db, "base")
    left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    assert not is_current(db)
    migrate(db)
    assert set(inspect(db.engine).get_table_names()) >= set(Base.metadata.tables)
    assert _diff(db) == []


def test_migrate_twice_is_a_no_op(db: Database) -> None:
    migrate(db)
    assert is_current(db)

"""Alembic environment: runs on the connection `limes.store.migrate` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from limes.store.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run limes migrations through limes.store.migrate(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

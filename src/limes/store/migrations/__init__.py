"""Alembic migrations of the limes schema, run programmatically by `limes.store.migrate`."""

"""Persistence: database schema, migrations and repositories (SQLite or PostgreSQL)."""

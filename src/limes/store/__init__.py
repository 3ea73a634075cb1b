"""Persistence: database schema, migrations and repositories (SQLite or PostgreSQL).

Entry points: `connect(url)` opens a database, `migrate(db)` brings its schema up to date,
`StoreWriter` keeps the live pipeline's outputs, `Workflow` what people do, and the
`limes.store.accounts` functions administer users and tokens by URL.
"""

from limes.store.database import Database, connect, database_url_from_env
from limes.store.errors import Conflict, NotFound, StoreError
from limes.store.migrate import is_current, migrate
from limes.store.retention import RetentionPolicy, apply_retention
from limes.store.workflow import Workflow
from limes.store.writer import StoreWriter, WriteResult

__all__ = [
    "Conflict",
    "Database",
    "NotFound",
    "RetentionPolicy",
    "StoreError",
    "StoreWriter",
    "Workflow",
    "WriteResult",
    "apply_retention",
    "connect",
    "database_url_from_env",
    "is_current",
    "migrate",
]

"""Persistence: database schema, migrations and repositories (SQLite or PostgreSQL).

Entry points: `connect(url)` opens a database, `migrate(db)` brings its schema up to date,
`StoreWriter` keeps the live pipeline's outputs, `Workflow` what people do, and the
`limes.store.accounts` functions administer users and tokens by URL.
"""

# The names below are loaded on first use, so importing one light module of this package (or
# the package for one name) does not import all of it: `limes --help` stays fast.
from typing import TYPE_CHECKING

from limes.lazy import lazy_names

if TYPE_CHECKING:
    from limes.store.database import Database, connect
    from limes.store.errors import Conflict, NotFound, StoreError
    from limes.store.location import database_url_from_env
    from limes.store.migrate import is_current, migrate
    from limes.store.retention import RetentionPolicy, apply_retention
    from limes.store.workflow import Workflow
    from limes.store.writer import StoreWriter, WriteResult

_WHERE = {
    "Database": "limes.store.database",
    "connect": "limes.store.database",
    "database_url_from_env": "limes.store.location",
    "Conflict": "limes.store.errors",
    "NotFound": "limes.store.errors",
    "StoreError": "limes.store.errors",
    "is_current": "limes.store.migrate",
    "migrate": "limes.store.migrate",
    "RetentionPolicy": "limes.store.retention",
    "apply_retention": "limes.store.retention",
    "Workflow": "limes.store.workflow",
    "StoreWriter": "limes.store.writer",
    "WriteResult": "limes.store.writer",
}

lazy_names(__name__, _WHERE)


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

"""Where the store is: the database URL from the environment, else the embedded default.

Kept apart from `limes.store.database` (which imports SQLAlchemy) so configuration models and
command lines can name the database without paying for a driver.
"""

from __future__ import annotations

import os

#: Environment variable naming the database (a SQLAlchemy URL).
DATABASE_URL_ENV = "LIMES_DATABASE_URL"
#: The embedded default: one SQLite file in the working directory.
DEFAULT_DATABASE_URL = "sqlite:///limes.db"


def database_url_from_env(default: str = DEFAULT_DATABASE_URL) -> str:
    """The database URL from `LIMES_DATABASE_URL`, else the embedded default."""
    return os.environ.get(DATABASE_URL_ENV) or default

"""The API's configuration: one object, built by the caller or from LIMES_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from limes.errors import WebError
from limes.store.location import DEFAULT_DATABASE_URL

#: Environment variable for each setting (`Settings.from_env`).
ENV_NAMES = {
    "database_url": "LIMES_DATABASE_URL",
    "scenario": "LIMES_SCENARIO",
    "ingest_rate_per_s": "LIMES_INGEST_RATE_PER_S",
    "ingest_burst": "LIMES_INGEST_BURST",
    "stream_poll_s": "LIMES_STREAM_POLL_S",
    "stream_batch": "LIMES_STREAM_BATCH",
    "migrate": "LIMES_MIGRATE",
}


class SettingsError(WebError):
    """A setting has a value that cannot be used; the message names the variable."""


class Settings(BaseModel):
    """Everything `create_app` needs to know; defaults documented per field.

    - `database_url`: SQLAlchemy URL (default: `sqlite:///limes.db`, the embedded database).
    - `scenario`: built-in name or path of the scenario served (None: no scenario routes).
    - `ingest_rate_per_s` / `ingest_burst`: the token bucket of each sensor token on
      `POST /api/ingest/detections`, in requests (a request carries up to 1000 detections).
    - `stream_poll_s`: how often the live stream looks for changes written by other processes
      (changes written in this process wake it at once).
    - `stream_batch`: changes read per query while a stream catches up.
    - `migrate`: bring the database schema up to date when the app starts.
    - `share_settle_s`: how long a shared object waits before TAXII pages it, so that a
      commit racing a read lands after the reader's cursor, never behind it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    scenario: str | None = None
    ingest_rate_per_s: float = Field(default=20.0, gt=0)
    ingest_burst: int = Field(default=40, ge=1)
    stream_poll_s: float = Field(default=1.0, gt=0, le=60)
    stream_batch: int = Field(default=500, ge=1, le=10_000)
    migrate: bool = True
    share_settle_s: float = Field(default=2.0, ge=0, le=60)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from LIMES_* variables (see `ENV_NAMES`), then `overrides`."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            field: env[name] for field, name in ENV_NAMES.items() if env.get(name)
        }
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = []
            for e in error.errors():
                field = str(e["loc"][0]) if e["loc"] else ""
                problems.append(f"{ENV_NAMES.get(field, field)}: {e['msg']} (got {e['input']!r})")
            raise SettingsError("; ".join(problems)) from None

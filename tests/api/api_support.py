"""API test support: a migrated database on either backend, one token per role, a client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from db_support import open_database
from limes.api.app import create_app
from limes.api.services import Services
from limes.api.settings import Settings
from limes.scenario.model import Scenario
from limes.store.database import Database
from limes.store.users import Role, create_user

SENSOR_ID = "tw-pk-01"  # the sensor token's own sensor
OTHER_SENSOR = "tw-pk-02"
UNIT_ID = "pk-patrol-1"  # the sensor token also rides with this unit
OTHER_UNIT = "pk-qrf"


@dataclass
class Api:
    """An app under test with a token per role."""

    app: FastAPI
    client: TestClient
    db: Database
    tokens: dict[str, str]

    @property
    def services(self) -> Services:
        found: Services = self.app.state.services
        return found

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}


def make_api(db: Database, sc: Scenario, **settings: object) -> Api:
    tokens = {}
    now = datetime.now(UTC)
    with db.session() as s:
        for role in Role:
            ids = {Role.SENSOR: [SENSOR_ID, UNIT_ID], Role.PARTNER: ["partner-a"]}.get(role, [])
            _, tokens[role.value] = create_user(
                s, f"{role.value}-user", role, speaks_for=ids, actor="test", now=now
            )
    app = create_app(Settings(migrate=False, **settings), db=db, scenario_obj=sc)  # type: ignore[arg-type]
    return Api(app, TestClient(app), db, tokens)


def database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A migrated store of `kind` for the app (see `db_support.open_database`)."""
    yield from open_database(kind, tmp_path, "api.db")

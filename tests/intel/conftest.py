"""Shared, built-once readers for the intelligence tests (building the gazetteer takes ~1 s)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from intel_support import Floor

from db_support import open_database
from limes.api.app import create_app
from limes.api.settings import Settings
from limes.intel.ingest import Reader
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario
from limes.store.users import Role, create_user

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="session")
def iraq_syria() -> Scenario:
    return load_scenario("iraq-syria")


@pytest.fixture(scope="session")
def reader(iraq_syria: Scenario) -> Reader:
    return Reader.for_scenario(iraq_syria)


@pytest.fixture
def floor(tmp_path: Path, iraq_syria: Scenario) -> Iterator[Floor]:
    for db in open_database("sqlite", tmp_path, "intel.db"):
        tokens: dict[str, str] = {}
        with db.session() as s:
            for role in (Role.ANALYST, Role.VIEWER):
                _, tokens[role.value] = create_user(
                    s, f"{role.value}-user", role, actor="test", now=datetime.now(UTC)
                )
        app = create_app(Settings(migrate=False), db=db, scenario_obj=iraq_syria)
        yield Floor(TestClient(app), tokens)

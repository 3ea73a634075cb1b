"""API fixtures: the built-in scenario, a migrated database, one token per role, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Api, database, make_api

from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return load_scenario("iraq-syria")


@pytest.fixture
def api(tmp_path: Path, scenario: Scenario) -> Iterator[Api]:
    for db in database("sqlite", tmp_path):
        yield make_api(db, scenario, stream_poll_s=0.05)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api_both(request: pytest.FixtureRequest, tmp_path: Path, scenario: Scenario) -> Iterator[Api]:
    for db in database(request.param, tmp_path):
        yield make_api(db, scenario, stream_poll_s=0.05)

"""Sharing fixtures: the built-in scenario and an app with partner tokens on a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from share_support import ShareApi, make_share_api

from db_support import open_database
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return load_scenario("iraq-syria")


@pytest.fixture
def share_api(tmp_path: Path, scenario: Scenario) -> Iterator[ShareApi]:
    for db in open_database("sqlite", tmp_path, "share.db"):
        yield make_share_api(db, scenario)

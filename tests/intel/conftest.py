"""Shared, built-once readers for the intelligence tests (building the gazetteer takes ~1 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from limes.intel.ingest import Reader
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="session")
def iraq_syria() -> Scenario:
    return load_scenario("iraq-syria")


@pytest.fixture(scope="session")
def reader(iraq_syria: Scenario) -> Reader:
    return Reader.for_scenario(iraq_syria)

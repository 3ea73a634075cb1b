"""Fixtures for the scenario tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_fixtures import example_yaml

from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario


@pytest.fixture(scope="session")
def iraq_syria() -> Scenario:
    """The built-in scenario, loaded once."""
    return load_scenario("iraq-syria")


@pytest.fixture()
def example_file(tmp_path: Path) -> Path:
    """The documented example scenario written to a file."""
    path = tmp_path / "example.yaml"
    path.write_text(example_yaml(), encoding="utf-8")
    return path

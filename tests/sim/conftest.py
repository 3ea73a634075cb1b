"""Fixtures for the exercise tests: the small border, loaded once."""

from __future__ import annotations

import pytest
from sim_fixtures import calibration_scenario, small_scenario

from limes.scenario.model import Scenario


@pytest.fixture(scope="session")
def small() -> Scenario:
    """The small test border (terrain built once and cached on the object)."""
    return small_scenario()


@pytest.fixture(scope="session")
def instant() -> Scenario:
    """The small border with instant reports (no latency), as the plan assumes."""
    return calibration_scenario()

"""Fixtures for tracker tests."""

from __future__ import annotations

import pytest
from tracker_support import MakeDetection, make_detection_factory


@pytest.fixture
def det() -> MakeDetection:
    """Detection at `t` seconds after T0; sequence numbers count up per sensor."""
    return make_detection_factory()

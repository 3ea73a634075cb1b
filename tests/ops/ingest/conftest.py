"""Fixtures for the ingest tests (helpers live in ingest_fixtures, importable by name)."""

from __future__ import annotations

import pytest
from ingest_fixtures import make_context

from limes.ops.ingest.context import IngestContext


@pytest.fixture
def ctx() -> IngestContext:
    """The invented test scenario's ingest context, with the clock fixed at NOW."""
    return make_context()

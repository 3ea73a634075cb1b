"""Applying received changes: any order, any repeats — the newest version of each object wins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db_support import open_database
from limes.store.database import Database
from limes.store.federated import ReceivedChange, apply_received, received_objects

WHEN = datetime(2026, 1, 1, tzinfo=UTC)

changes = st.lists(
    st.builds(
        lambda origin, oid, version: ReceivedChange(
            origin, "incident", str(oid), version, {"v": version}
        ),
        st.sampled_from(["nineveh", "anbar"]),
        st.integers(0, 5),
        st.integers(1, 40),
    ),
    max_size=60,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    yield from open_database(request.param, tmp_path)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(changes, min_size=1, max_size=4))
def test_the_newest_version_wins_whatever_the_order_and_repeats(
    db: Database, batches: list[list[ReceivedChange]]
) -> None:
    with db.session() as session:
        for row in received_objects(session):
            session.delete(row)
    expected: dict[tuple[str, str], int] = {}
    applied = 0
    for batch in batches:
        for change in batch:
            key = (change.origin, change.object_id)
            expected[key] = max(expected.get(key, 0), change.version)
        with db.session() as session:
            result = apply_received(session, batch, WHEN)
        applied += result.applied
        assert result.applied + result.stale == len(batch)
    with db.reader() as session:
        held = {
            (r.origin, r.object_id): (r.version, r.payload["v"]) for r in received_objects(session)
        }
    assert held == {key: (v, v) for key, v in expected.items()}
    # Each apply that changed the store moved some object to a strictly newer version.
    assert applied <= sum(len(b) for b in batches)
    assert applied >= len(expected)

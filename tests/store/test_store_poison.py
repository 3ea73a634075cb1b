"""Poison isolation: what the database refuses is quarantined; everything else is stored.

The refusals are the databases' own (an unpaired surrogate no UTF-8 database stores, a string
longer than PostgreSQL's column, a trigger that refuses a table), never a mock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text
from store_records import FRAME, NOW, detection

from db_support import open_database
from fault_support import set_read_only
from limes.ops.ingest.dead_letter import Rejection, RejectReason, safe_text, storable
from limes.store.database import Database
from limes.store.dead_letters import dead_letters
from limes.store.quarantine import PoisonIsolator, is_transient
from limes.store.tables import DetectionRow
from limes.store.writer import StoreWriter


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield from open_database("sqlite", tmp_path)


def isolator(db: Database, tmp_path: Path) -> PoisonIsolator:
    return PoisonIsolator(
        StoreWriter(db, FRAME, clock=lambda: NOW), quarantine_file=tmp_path / "q.jsonl"
    )


def stored_keys(db: Database) -> set[tuple[str, int]]:
    with db.reader() as s:
        return {(a, b) for a, b in s.execute(select(DetectionRow.sensor_id, DetectionRow.seq))}


def test_one_refused_detection_is_quarantined_and_the_rest_of_its_batch_stored(
    db: Database, tmp_path: Path
) -> None:
    good = [detection("tower-1", s) for s in range(40)]
    poison = detection("tower-\ud800", 3)  # no database stores an unpaired surrogate
    iso = isolator(db, tmp_path)
    result = iso.write(detections=[*good[:17], poison, *good[17:]])
    assert result.detections == 40
    assert stored_keys(db) == {("tower-1", s) for s in range(40)}
    assert iso.stats.quarantined == 1 and iso.stats.split_batches == 1
    with db.reader() as s:
        (row,) = dead_letters(s, reason="quarantined")
    assert row.source == "store:detection"
    assert "UnicodeEncodeError" in row.detail and "surrogate" in row.detail
    assert b"tower-\\ud800" in row.payload  # the item itself, escaped
    assert iso.trouble() is None


@pytest.mark.postgres
def test_an_overlong_value_postgres_refuses_is_found_among_many(tmp_path: Path) -> None:
    for db in open_database("postgres", tmp_path):
        iso = isolator(db, tmp_path)
        batch = [detection("tower-1", s) for s in range(200)]
        batch[150] = detection("t" * 65, 150)  # sensor_id is varchar(64)
        batch[20] = detection("u" * 70, 20)
        assert iso.write(detections=batch).detections == 198
        assert iso.stats.quarantined == 2
        with db.reader() as s:
            details = [r.detail for r in dead_letters(s, reason="quarantined")]
        assert all("StringDataRightTruncation" in d for d in details)


def test_when_even_the_quarantine_row_is_refused_the_item_goes_to_the_file(
    sqlite_db: Database, tmp_path: Path
) -> None:
    db = sqlite_db
    with db.session() as s:
        s.execute(
            text(
                "CREATE TRIGGER no_letters BEFORE INSERT ON dead_letters "
                "BEGIN SELECT RAISE(ABORT, 'dead letters refused'); END"
            )
        )
    iso = isolator(db, tmp_path)
    result = iso.write(detections=[detection("tower-1", 1), detection("x\ud800", 2)])
    assert result.detections == 1
    assert iso.stats.quarantined_to_file == 1 and iso.stats.quarantined == 0
    (line,) = (tmp_path / "q.jsonl").read_text().splitlines()
    kept = json.loads(line)
    assert "dead letters refused" in kept["quarantine_row_error"]
    assert "x\\ud800" in kept["item"]


def test_a_read_only_database_is_a_transient_fault_retried_until_it_clears(
    sqlite_db: Database,
) -> None:
    db = sqlite_db
    file = Path(str(db.engine.url.database))
    writer = StoreWriter(db, FRAME, clock=lambda: NOW)
    writer.write(detections=[detection("tower-1", 100)])
    waits: list[float] = []
    set_read_only(file, True)

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 5:  # the operator makes the file writable again
            set_read_only(file, False)

    iso = PoisonIsolator(writer, retry_s=0.5, retry_max_s=2.0, sleep=sleep)
    try:
        result = iso.write(detections=[detection("tower-1", s) for s in range(5)])
    finally:
        set_read_only(file, False)
    assert result.detections == 5
    assert waits == [0.5, 1.0, 2.0, 2.0, 2.0]  # doubling, capped
    assert iso.stats.transient_failures == 5 and iso.stats.quarantined == 0
    assert iso.trouble() is None
    assert len(stored_keys(db)) == 6


def test_errors_are_told_apart_by_whether_a_retry_can_fix_them() -> None:
    lost = sa_exc.OperationalError("INSERT", {}, Exception("server closed the connection"))
    refused = sa_exc.DataError("INSERT", {}, Exception("value too long"))
    assert is_transient(lost) and is_transient(ConnectionResetError())
    assert not is_transient(refused)
    assert not is_transient(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates"))


def test_storable_dead_letters_fit_every_column_and_keep_what_they_can() -> None:
    r = Rejection(
        RejectReason.SCHEMA, "key '\x00' " + "d" * 5000, "mqtt:" + "t" * 300, NOW,
        b"x" * 10_000, sensor_id="s\ud800" * 40,
    )  # fmt: skip
    s = storable(r, keep_bytes=4096)
    assert len(s.source) == 200 and len(s.sensor_id or "") == 64 and len(s.payload) == 4096
    assert "\x00" not in s.detail and s.detail.startswith("key '\\x00' ")
    for field in (s.detail, s.source, s.sensor_id or ""):
        field.encode("utf-8")  # raises if anything unencodable is left
    assert safe_text("plain", 10) == "plain"
    assert storable(s) == s  # already storable: unchanged
    assert NOW - timedelta(0) == s.received

"""The store writer: idempotent bulk writes of detections, dead letters, tracks and alerts."""

from __future__ import annotations

import threading
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from store_records import FRAME, NOW, alert, detection, track

from limes.ops.alert import Rule, Severity
from limes.ops.ingest.dead_letter import Rejection, RejectReason
from limes.store.changes import changes_after
from limes.store.database import Database
from limes.store.dead_letters import dead_letters
from limes.store.detections import count_detections, detections_between
from limes.store.incidents import list_incidents
from limes.store.retention import RetentionPolicy, apply_retention
from limes.store.tables import ChangeRow, DetectionRow
from limes.store.tracks import current_tracks, track_history
from limes.store.writer import StoreWriter


def writer(db: Database) -> StoreWriter:
    return StoreWriter(db, FRAME, clock=lambda: NOW)


def test_a_redelivered_detection_is_stored_once(db: Database) -> None:
    w = writer(db)
    batch = [detection("tower-1", s) for s in range(50)]
    assert w.write(detections=batch).detections == 50
    assert w.write(detections=batch).detections == 0
    # Half old, half new, plus a repeat inside the batch itself: only the new ones count.
    mixed = [detection("tower-1", s) for s in range(25, 75)] + [detection("tower-1", 74)]
    assert w.write(detections=mixed).detections == 25
    with db.reader() as s:
        assert count_detections(s) == 75
        keys = s.execute(select(DetectionRow.sensor_id, DetectionRow.seq)).all()
    assert sorted(k[1] for k in keys) == list(range(75))


def test_detections_keep_every_field_and_utc_time(db: Database) -> None:
    d = detection("radar-2", 7, group_size=None, late=True)
    writer(db).write(detections=[d])
    with db.reader() as s:
        (row,) = detections_between(s, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert (row.sensor_id, row.seq, row.time, row.received) == ("radar-2", 7, d.time, NOW)
    assert row.time.utcoffset() == timedelta(0)
    assert (row.lon, row.lat, row.x, row.var_yy) == (d.lon, d.lat, d.x, d.var_yy)
    assert (row.target_class, row.group_size, row.late) == ("person", None, True)


def test_rejections_become_dead_letters_with_their_bytes(db: Database) -> None:
    payload = b'{"sensor_id": "x", \xff}'
    r = Rejection(RejectReason.MALFORMED, "not JSON", "mqtt:limes/x", NOW, payload, 3, "x")
    w = writer(db)
    w.put(r)
    w.write(rejections=[r])  # dead letters are a log: both arrivals are kept
    with db.reader() as s:
        rows = dead_letters(s)
    assert [(x.reason, x.payload, x.item, x.sensor_id) for x in rows] == [
        ("malformed", payload, 3, "x")
    ] * 2


def test_track_states_move_forward_only_and_replays_change_nothing(db: Database) -> None:
    w = writer(db)
    first = [track("T1", NOW, 0, 0), track("T2", NOW, 500, 500)]
    assert w.write(tracks=first).tracks == 2
    later = track("T1", NOW + timedelta(seconds=5), 10, 0)
    older = track("T1", NOW - timedelta(seconds=5), -10, 0)
    assert w.write(tracks=[later, older]).tracks == 2  # both are new history
    assert w.write(tracks=[later, older, *first]).tracks == 0  # a replay
    with db.reader() as s:
        rows = {r.track_id: r for r in current_tracks(s)}
        history = track_history(s, "T1")
    assert rows["T1"].time == later.time and rows["T1"].x == 10
    assert sorted(h.time for h in history) == [older.time, first[0].time, later.time]
    lon, lat = FRAME.to_lonlat(10.0, 0.0)  # lon/lat stored beside the frame position
    assert rows["T1"].lon == pytest.approx(float(lon)) and rows["T1"].lat == pytest.approx(
        float(lat)
    )
    assert rows["T1"].covariance[0] == 100.0 and rows["T1"].sensors == ["tower-1"]


def test_alerts_open_one_incident_per_track_and_replays_store_nothing(db: Database) -> None:
    w = writer(db)
    r1 = w.write(alerts=[alert("T1", Rule.CROSSING_IMMINENT, Severity.MEDIUM)])
    r2 = w.write(alerts=[alert("T1", Rule.CROSSED, Severity.HIGH), alert("T9")])
    r3 = w.write(alerts=[alert("T1", Rule.CROSSED, Severity.HIGH)])
    assert (r1.alerts, r1.incidents_opened) == (1, 1)
    assert (r2.alerts, r2.incidents_opened) == (2, 1)
    assert (r3.alerts, r3.incidents_opened, r3.changes) == (0, 0, 0)
    with db.reader() as s:
        incidents = {i.track_id: i for i in list_incidents(s)}
    assert incidents["T1"].alert_count == 2
    assert incidents["T1"].severity == "high"  # raised by the worse alert
    assert incidents["T1"].state == "new" and incidents["T9"].alert_count == 1


def test_change_ids_are_seen_in_order_by_a_polling_reader_under_concurrent_writers(
    db: Database,
) -> None:
    """A reader that only ever asks for ids above its cursor must see every change."""
    w = writer(db)
    seen: list[int] = []
    done = threading.Event()

    def poll() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            with db.reader() as s:
                batch = [c.id for c in changes_after(s, cursor, 1000)]
            seen.extend(batch)
            cursor = batch[-1] if batch else cursor
            if finished and not batch:
                return

    def write(k: int) -> None:
        for i in range(15):
            w.write(tracks=[track(f"W{k}", NOW + timedelta(seconds=i), i, k)])

    reader = threading.Thread(target=poll)
    reader.start()
    writers = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    with db.reader() as s:
        stored = list(s.scalars(select(ChangeRow.id).order_by(ChangeRow.id)))
    assert len(stored) == 60
    assert seen == stored


def test_retention_deletes_only_what_is_older_than_its_age(db: Database) -> None:
    w = writer(db)
    ages_h = np.array([1, 10, 30, 50, 100])
    w.write(detections=[detection("tower-1", i, time=NOW - timedelta(hours=int(h)))
                        for i, h in enumerate(ages_h)])  # fmt: skip
    policy = RetentionPolicy(detections=timedelta(hours=24), track_history=None,
                             dead_letters=None, changes=None, batch_size=1)  # fmt: skip
    removed = apply_retention(db, policy, NOW)
    assert removed["detections"] == int((ages_h > 24).sum())
    with db.reader() as s:
        assert count_detections(s) == int((ages_h <= 24).sum())
        assert s.scalar(select(func.min(DetectionRow.time))) == NOW - timedelta(hours=10)


def test_alerts_of_one_crossing_group_join_one_incident(db: Database) -> None:
    # Two tracks of one group (the rules gave both the key "T1") and one track of its own.
    w = writer(db)
    w.write(alerts=[alert("T1", Rule.CROSSING_IMMINENT, Severity.LOW, incident_key="T1")])
    w.write(
        alerts=[
            alert("T2", Rule.CROSSED, Severity.HIGH, incident_key="T1"),
            alert("T9", Rule.CROSSED, Severity.MEDIUM),
        ]
    )
    with db.reader() as s:
        incidents = {i.track_id: i for i in list_incidents(s)}
    assert set(incidents) == {"T1", "T9"}
    assert incidents["T1"].alert_count == 2
    assert incidents["T1"].severity == Severity.HIGH.value
    assert incidents["T9"].alert_count == 1

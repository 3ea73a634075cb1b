"""PostgreSQL's bulk paths store exactly what the row-by-row reference stores.

On PostgreSQL the writer stores detections by COPY, track states through a COPY stage and
alerts with their incidents in array statements; SQLite keeps the ORM reference paths. The same
sequence of writes (new items, repeats, alerts joining incidents, tracks moving back in time)
must leave the same rows and the same change log, payload for payload, on both.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from store_records import FRAME, NOW, alert, detection, track

from limes.ops.alert import Rule, Severity
from limes.store.database import Database, connect
from limes.store.migrate import migrate
from limes.store.tables import AlertRow, ChangeRow, DetectionRow, IncidentEventRow, IncidentRow
from limes.store.tracks import current_tracks, track_history
from limes.store.writer import StoreWriter


def _writes() -> list[dict[str, Any]]:
    later = NOW + timedelta(seconds=5)
    return [
        {"detections": [detection(seq=i) for i in range(1, 6)],
         "tracks": [track("T1", NOW, 0, 0), track("T2", NOW, 500, 500)],
         "alerts": [alert("T1", Rule.CROSSING_IMMINENT, Severity.LOW),
                    alert("T2", Rule.CROSSED, Severity.MEDIUM, sector="Nineveh")]},
        {"detections": [detection(seq=i) for i in range(4, 9)],  # 4 and 5 again
         "tracks": [track("T1", later, 10, 0), track("T1", NOW - timedelta(seconds=5), -10, 0),
                    track("T1", later, 11, 0), track("T3", later, 7, 7)],
         "alerts": [alert("T1", Rule.CROSSED, Severity.HIGH),  # joins T1's incident
                    alert("T1", Rule.INTRUSION, Severity.MEDIUM),
                    alert("T3", Rule.CROSSED, Severity.CRITICAL),
                    alert("T3", Rule.CROSSED, Severity.CRITICAL)]},  # twice in one batch
        {"detections": [detection(seq=2)], "tracks": [track("T2", NOW, 500, 500)],
         "alerts": [alert("T2", Rule.CROSSED, Severity.MEDIUM, sector="Nineveh")]},  # replay
    ]  # fmt: skip


def _stored(db: Database) -> dict[str, Any]:
    with db.reader() as s:
        return {
            "detections": [(d.sensor_id, d.seq, d.x, d.time) for d in
                           s.scalars(select(DetectionRow).order_by(DetectionRow.sensor_id,
                                                                   DetectionRow.seq))],
            "tracks": [(t.track_id, t.time, t.x, t.lon, t.covariance, t.sensors,
                        t.class_probabilities) for t in current_tracks(s)],
            "history": [(h.time, h.x) for h in track_history(s, "T1")],
            "alerts": [(a.alert_id, a.incident_id, a.severity) for a in
                       s.scalars(select(AlertRow).order_by(AlertRow.id))],
            "incidents": [(i.id, i.track_id, i.severity, i.alert_count, i.sector) for i in
                          s.scalars(select(IncidentRow).order_by(IncidentRow.id))],
            "events": [(e.incident_id, e.action, e.to_state, e.data) for e in
                       s.scalars(select(IncidentEventRow).order_by(IncidentEventRow.id))],
            "changes": [(c.kind, c.payload) for c in
                        s.scalars(select(ChangeRow).order_by(ChangeRow.id))],
        }  # fmt: skip


def test_postgres_bulk_writes_store_what_the_sqlite_reference_stores(
    db: Database, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite is the reference")
    reference = connect(f"sqlite:///{tmp_path / 'reference.db'}")
    migrate(reference)
    results = []
    counts = []
    try:
        for store in (reference, db):
            w = StoreWriter(store, FRAME, clock=lambda: NOW)
            counts.append([w.write(**batch) for batch in _writes()])
            results.append(_stored(store))
    finally:
        reference.dispose()
    sqlite, postgres = results
    assert counts[0] == counts[1]
    for part in sqlite:
        assert postgres[part] == sqlite[part], part
    assert [c.alerts for c in counts[0]] == [2, 3, 0]  # the repeat and the replay are skipped

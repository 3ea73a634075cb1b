"""The store writer: the one entry point through which the live pipeline's outputs are kept.

`StoreWriter.write(...)` stores a batch of detections, rejections, track states and alerts in
one transaction and appends the matching entries to the change log (tracks, alerts, incidents,
sector levels; not every detection, which would double the write load for nothing the map
shows). Everything is idempotent: detections are unique by (sensor_id, seq), history by
(track, time), alerts by `alert_id`, and a track's current row only moves forward in time, so
replaying the same batch after a restart stores nothing twice and emits no change twice.

Wiring, two ways (pick one per process): `writer.subscribe(bus)` puts it on the pipeline's bus
(detections, rejections, tracks, alerts topics), or the pipeline calls `writer.write(...)`
itself once per tick. `writer.put` makes it the ingest doors' dead-letter sink.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from limes.geo.frame import Frame
from limes.ops.alert import Alert
from limes.ops.bus import Bus, Subscription, Topic
from limes.ops.detection import Detection
from limes.ops.incidents import ImpactRule
from limes.ops.ingest.dead_letter import Rejection
from limes.ops.tracker.state import TrackState
from limes.store.alert_batch import store_alerts_postgres
from limes.store.alerts import insert_alerts
from limes.store.changes import record_changes
from limes.store.database import Database
from limes.store.dead_letters import insert_dead_letters
from limes.store.detections import insert_detections
from limes.store.incidents import open_or_join_many
from limes.store.rows import row_dict
from limes.store.sectors import refresh_impact
from limes.store.tracks import store_tracks

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The wall clock, aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True)
class WriteResult:
    """What one write stored (repeats of stored items are not counted)."""

    detections: int = 0
    dead_letters: int = 0
    tracks: int = 0
    alerts: int = 0
    incidents_opened: int = 0
    changes: int = 0


@dataclass
class WriterStats(WriteResult):
    """Totals since the writer was made (each write's counts summed), and failures (each logged)."""

    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, result: WriteResult) -> None:
        with self.lock:
            for f in fields(WriteResult):
                setattr(self, f.name, getattr(self, f.name) + getattr(result, f.name))


class StoreWriter:
    """Keeps the pipeline's outputs in the database (see the module docstring).

    `frame` is the scenario's frame (track states are in it; the store keeps lon/lat too).
    `on_commit(n)` is called after each commit that appended `n` changes (the API's live stream
    wakes on it). Thread-safe: each write is its own transaction.
    """

    def __init__(
        self,
        db: Database,
        frame: Frame,
        *,
        impact_rule: ImpactRule | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.db = db
        self.frame = frame
        self.impact_rule = impact_rule or ImpactRule()
        self.clock = clock
        self.on_commit = on_commit
        self.stats = WriterStats()

    def write(
        self,
        *,
        detections: Sequence[Detection] = (),
        rejections: Sequence[Rejection] = (),
        tracks: Sequence[TrackState] = (),
        alerts: Sequence[Alert] = (),
    ) -> WriteResult:
        """Store one batch of pipeline outputs in one transaction (raises on database errors)."""
        result = WriteResult()
        changes: list[tuple[str, dict[str, Any]]] = []
        now = self.clock()
        with self.db.session() as session:
            result.detections = insert_detections(session, detections)
            result.dead_letters = insert_dead_letters(session, rejections)
            sectors: set[str] = set()
            # Alerts already stored (a replay) are skipped: their incident was handled then.
            for alert_row, incident, opened in self._store_alerts(session, alerts, now):
                result.alerts += 1
                result.incidents_opened += opened
                changes.append(("alert", alert_row))
                changes.append(("incident", incident))
                sectors.add(incident["sector"])
            for sector in sorted(sectors):
                level = refresh_impact(session, sector, self.impact_rule, now)
                if level is not None:
                    changes.append(("sector", level))
            # Last, as they take the change log's order lock (held to commit): track changes
            # first, then the others, as a reader of the log expects them.
            result.tracks = store_tracks(session, tracks, self.frame, now)
            result.changes = result.tracks + record_changes(session, changes, now)
        self.stats.add(result)
        if result.changes and self.on_commit is not None:
            self.on_commit(result.changes)
        return result

    @staticmethod
    def _store_alerts(
        session: Session, alerts: Sequence[Alert], now: datetime
    ) -> list[tuple[dict[str, Any], dict[str, Any], bool]]:
        """(alert row, incident after it, opened) per newly stored alert, JSON-ready."""
        if not alerts:
            return []
        if session.get_bind().dialect.name == "postgresql":
            return store_alerts_postgres(session, alerts, now)
        rows = insert_alerts(session, alerts)
        out = [
            (row_dict(row), incident, opened)
            for row, (_, opened, incident) in zip(
                rows,
                open_or_join_many(
                    session, rows, now, {a.alert_id: a.incident_key or a.track_id for a in alerts}
                ),
                strict=True,
            )
        ]
        session.flush()
        return out

    # --- bus and door adapters ----------------------------------------------------------------

    def on_detections(self, items: Sequence[Detection]) -> None:
        """Bus handler: store detections."""
        self.write(detections=items)

    def on_rejections(self, items: Sequence[Rejection]) -> None:
        """Bus handler: store rejections as dead letters."""
        self.write(rejections=items)

    def on_tracks(self, items: Sequence[TrackState]) -> None:
        """Bus handler: store track states."""
        self.write(tracks=items)

    def on_alerts(self, items: Sequence[Alert]) -> None:
        """Bus handler: store alerts, opening or joining incidents."""
        self.write(alerts=items)

    def put(self, rejection: Rejection) -> None:
        """`DeadLetterSink`: keep one rejection; never raises (a failure is logged, counted)."""
        try:
            self.write(rejections=[rejection])
        except Exception:
            with self.stats.lock:
                self.stats.failures += 1
            log.exception("could not store a %s dead letter", rejection.reason)

    __call__ = put  # so the writer itself can be a door's `on_rejection`

    def subscribe(self, bus: Bus) -> list[Subscription]:
        """Subscribe to the pipeline's output topics; close the returned handles to stop."""
        return [
            bus.subscribe(Topic.DETECTIONS, self.on_detections),
            bus.subscribe(Topic.REJECTIONS, self.on_rejections),
            bus.subscribe(Topic.TRACKS, self.on_tracks),
            bus.subscribe(Topic.ALERTS, self.on_alerts),
        ]

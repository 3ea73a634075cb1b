"""Recovery on start: the tracker and the rules rebuilt from the store, as they were at the kill.

The tracker's and the rules' memory lives in the process. After a hard kill the store holds
every detection whose message was acknowledged (acknowledgement follows the commit), and the
broker still holds every message that was not. Replaying the recent stored detections through
the pipeline, in storage order and grouped as they were submitted (one group per message: the
detections of one message share their `received` time), puts the tracker and the rules back in
the state they had; the messages the broker then redelivers continue from there as if nothing
happened. Track ids derived from each track's first detection (`TrackerConfig.track_ids =
"detection"`) make the replayed tracks carry the ids they had before, so the alerts they fire
carry the same deterministic ids and the store's insert-if-absent keeps each alert once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.types import NullType

from limes.ops.detection import Detection, TargetClass
from limes.ops.pipeline import Pipeline
from limes.service.committer import Outputs
from limes.store.database import Database
from limes.store.tables import DetectionRow
from limes.store.writer import StoreWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovered:
    """What a recovery replayed and stored."""

    detections: int
    groups: int
    alerts_stored: int
    seconds: float


def stored_detections(
    db: Database, window_s: float, page: int = 5000, after_id: int = 0
) -> Iterator[Detection]:
    """Stored detections no older than `window_s` before the newest, in storage order
    (`after_id`: only those stored after that row, e.g. after a snapshot)."""
    with db.reader() as session:
        newest = session.scalar(select(func.max(DetectionRow.time)))
    if newest is None:
        return
    since = newest - timedelta(seconds=window_s)
    after = after_id
    t = DetectionRow
    # Plain column tuples on a Core connection, the two times as the driver gives them: the
    # replay reads every row of the window, and the ORM's and the UTC type's processing of
    # each row cost as much as tracking it. Times repeat (a message's detections share
    # `received`), so each distinct one is converted once.
    raw = NullType()
    columns = (t.id, t.sensor_id, t.seq, type_coerce(t.time, raw), t.lon, t.lat, t.x, t.y,
               t.var_xx, t.var_xy, t.var_yy, t.target_class, t.confidence, t.group_size,
               type_coerce(t.received, raw), t.late)  # fmt: skip
    classes = {c.value: c for c in TargetClass}
    times: dict[Any, datetime] = {}
    while True:
        with db.reader() as session:
            rows = (
                session.connection()
                .execute(
                    select(*columns).where(t.time >= since, t.id > after).order_by(t.id).limit(page)
                )
                .all()
            )
        if not rows:
            return
        if len(times) > 4 * page:
            times.clear()
        for r in rows:
            stamp: Any = r[3]
            when = times.get(stamp) or times.setdefault(stamp, _utc(stamp))
            got: Any = r[14]
            received = None if got is None else times.get(got) or times.setdefault(got, _utc(got))
            yield Detection(
                r[1], r[2], when, r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                classes[r[11]], r[12], r[13], received, bool(r[15]),
            )  # fmt: skip
        after = rows[-1][0]


def _utc(value: str | datetime) -> datetime:
    """A stored time as the driver gives it (SQLite: ISO text in UTC; PostgreSQL: aware) in UTC."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def submission_groups(detections: Iterator[Detection]) -> Iterator[list[Detection]]:
    """Consecutive detections with one `received` time: one message, one submit."""
    group: list[Detection] = []
    for d in detections:
        if group and d.received != group[-1].received:
            yield group
            group = []
        group.append(d)
    if group:
        yield group


def recover(
    pipeline: Pipeline, writer: StoreWriter, outputs: Outputs, window_s: float, after_id: int = 0
) -> Recovered:
    """Replay the stored recent detections through `pipeline` and store what it re-derives.

    Alerts are stored insert-if-absent by their deterministic id (those committed before the
    kill are skipped), tracks' current rows only move forward in time, and the replayed
    detections are not written again. Every replayed key is remembered by the pipeline's
    deduplicator, so a message redelivered after it was stored is dropped, not tracked twice.
    """
    start = time.monotonic()
    n = groups = 0
    alerts = 0
    stored = stored_detections(writer.db, window_s, after_id=after_id)
    outputs.newest_tracks_only = True  # only each track's newest state is stored (see _store)
    try:
        for group in submission_groups(stored):
            pipeline.submit(group)
            n += len(group)
            groups += 1
            if groups % 200 == 0:
                alerts += _store(writer, outputs)
        alerts += _store(writer, outputs)
    finally:
        outputs.newest_tracks_only = False
    took = time.monotonic() - start
    if n:
        log.info("recovered %d detections in %d groups (%d alerts were missing) in %.1f s",
                 n, groups, alerts, took)  # fmt: skip
    return Recovered(n, groups, alerts, took)


def _store(writer: StoreWriter, outputs: Outputs) -> int:
    out = outputs.take()
    if not out.tracks and not out.alerts:
        return 0
    # Each track's newest state only: the replayed history was stored while it was live, and
    # a track's current row only moves forward (every state would cost most of the replay).
    newest = {s.track_id: s for s in out.tracks}
    return writer.write(tracks=list(newest.values()), alerts=out.alerts).alerts

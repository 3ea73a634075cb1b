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
from datetime import timedelta

from sqlalchemy import func, select

from limes.ops.detection import Detection
from limes.ops.pipeline import Pipeline
from limes.service.committer import Outputs
from limes.store.database import Database
from limes.store.detections import detections_after
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
    while True:
        with db.reader() as session:
            rows = detections_after(session, after, since=since, limit=page)
        if not rows:
            return
        for _, detection in rows:
            yield detection
        after = rows[-1][0]


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

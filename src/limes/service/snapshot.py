"""Snapshots of the live pipeline's state: a restart replays minutes, not the whole window.

Without them a start rebuilds the tracker and the rules by replaying every stored detection of
the recovery window (`limes.service.recovery`), which costs as much as tracking that traffic
did: an hour at 2,000 detections/s is 7.2 million detections. So every `snapshot_s` the
committer's tracking thread saves the pipeline's state (tracker, rules, deduplicator) in the
`snapshots` table, with the id of the newest stored detection read *before* the state is
taken: every detection stored up to that id had been submitted before it, so it is in the
state. A snapshot is also taken once `every_detections` detections have been tracked since the
last, so the replay a start faces is bounded by traffic, not only by time: at 2,000 detections/s
a minute is 120,000 detections, several seconds of replay. On start the newest snapshot is
loaded and only the detections stored after that id are replayed; those already in the state
(submitted before the snapshot, committed after it) are dropped by the restored deduplicator,
so nothing is tracked twice.

The state is pickled. What belongs to the running process rather than to the state (the
pipeline itself, its scenario, the rules' locator, locks) is written as a reference and
bound to the new process's own on load. A snapshot of another scenario, of an incompatible
version, or one older than the recovery window is ignored (the full window is replayed then).
The snapshot row is as sensitive as the database it lives in, and only the service writes it.
"""

from __future__ import annotations

import io
import logging
import pickle
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from limes.ops.pipeline import Pipeline
from limes.store.database import Database
from limes.store.tables import DetectionRow, SnapshotRow

log = logging.getLogger(__name__)

#: Changes when what a snapshot holds changes; an older snapshot is then ignored.
FORMAT = 1
_LOCKS = (type(threading.Lock()), type(threading.RLock()))


@dataclass(frozen=True)
class Loaded:
    """A snapshot put back into the pipeline: replay the detections stored after `detection_id`."""

    taken: datetime
    detection_id: int
    seconds: float


class _Pickler(pickle.Pickler):
    def __init__(self, out: io.BytesIO, pipeline: Pipeline) -> None:
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self._refs = _references(pipeline)

    def persistent_id(self, obj: Any) -> str | None:
        if isinstance(obj, _LOCKS):
            return "lock"
        return self._refs.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, pipeline: Pipeline) -> None:
        super().__init__(io.BytesIO(data))
        self._objects = {name: obj for name, obj in _named(pipeline)}

    def persistent_load(self, pid: Any) -> Any:
        if pid == "lock":
            return threading.Lock()
        return self._objects[pid]


def _named(pipeline: Pipeline) -> list[tuple[str, Any]]:
    """The process's objects a state refers to but does not own."""
    return [
        ("pipeline", pipeline),
        ("scenario", pipeline.scenario),
        ("context", pipeline.context),
        ("locator", getattr(pipeline.rules, "locator", None)),
        ("plan", getattr(pipeline.rules, "plan", None)),
    ]


def _references(pipeline: Pipeline) -> dict[int, str]:
    return {id(obj): name for name, obj in _named(pipeline) if obj is not None}


class Snapshots:
    """Saves and loads the pipeline's state in the store (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        pipeline: Pipeline,
        period_s: float | None,
        every_detections: int | None = None,
    ) -> None:
        self.db = db
        self.pipeline = pipeline
        self.period_s = period_s
        self.every_detections = every_detections if period_s is not None else None
        self._tracked_at = pipeline.dedup.accepted  # detections tracked when the last was taken
        self.saved = 0
        self.failures = 0
        self.last_s = 0.0  # how long the last save held the pipeline and wrote, seconds
        self._next = time.monotonic() + (period_s or 0.0)

    def due(self) -> bool:
        """Whether a snapshot is due: its period has passed, or its count of detections."""
        if self.period_s is None:
            return False
        tracked = self.pipeline.dedup.accepted - self._tracked_at
        if self.every_detections is not None and tracked >= self.every_detections:
            return True
        return time.monotonic() >= self._next

    def save(self) -> None:
        """Save the state now (never raises: a failure is logged and counted)."""
        if self.period_s is not None:
            self._next = time.monotonic() + self.period_s
        began = time.monotonic()
        self._tracked_at = self.pipeline.dedup.accepted
        try:
            with self.db.reader() as session:
                mark = int(session.scalar(select(func.max(DetectionRow.id))) or 0)
            taken = self.pipeline.context.now()

            def dump(state: dict[str, Any]) -> bytes:
                out = io.BytesIO()
                out.write(FORMAT.to_bytes(2, "big"))
                _Pickler(out, self.pipeline).dump(state)
                return out.getvalue()

            data = self.pipeline.snapshot_state(dump)
            with self.db.session() as session:
                session.execute(delete(SnapshotRow))
                row = SnapshotRow(
                    id=1,
                    taken=taken,
                    detection_id=mark,
                    scenario=self.pipeline.scenario.name,
                    state=data,
                )
                session.add(row)
        except Exception:
            self.failures += 1
            log.exception("snapshot not saved; the next start replays more")
            return
        self.saved += 1
        self.last_s = time.monotonic() - began

    def load(self, window_s: float) -> Loaded | None:
        """Put the newest usable snapshot back into the pipeline; None if there is none."""
        began = time.monotonic()
        with self.db.reader() as session:
            row = session.scalars(select(SnapshotRow).order_by(SnapshotRow.id.desc())).first()
            newest = session.scalar(select(func.max(DetectionRow.time)))
        if row is None:
            return None
        why = None
        if row.scenario != self.pipeline.scenario.name:
            why = f"it is of scenario {row.scenario!r}"
        elif int.from_bytes(row.state[:2], "big") != FORMAT:
            why = "it is of another format"
        elif newest is not None and row.taken < newest - timedelta(seconds=window_s):
            why = "it is older than the recovery window"
        if why is None:
            try:
                state = _Unpickler(row.state[2:], self.pipeline).load()
                self.pipeline.restore_state(state)
            except Exception as error:  # a snapshot of an older build of limes, say
                why = f"it cannot be read ({type(error).__name__}: {error})"
        if why is not None:
            log.warning("snapshot of %s ignored: %s; replaying the whole window", row.taken, why)
            return None
        self._tracked_at = self.pipeline.dedup.accepted
        took = time.monotonic() - began
        log.info("snapshot of %s loaded in %.2f s", row.taken.isoformat(), took)
        return Loaded(row.taken, row.detection_id, took)

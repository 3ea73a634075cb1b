"""Poison isolation: one item the database refuses never stops the store.

A transaction can fail for two kinds of reason. Transient ones (the connection is lost, the
server restarts, a lock or serialisation conflict, a read-only or full disk until someone acts)
go away by themselves or by an operator's hand: the same batch is retried, with a backoff that
doubles from `retry_s` up to `retry_max_s`, and nothing behind it is stored meanwhile (the
doors hold back; see docs/operations.md). Permanent ones (a value the database will not take:
NUL in text, an overlong string, an unpaired surrogate, an integrity violation) come back on
every retry, so the batch is split in halves, recursively, until the items the database
refuses are found; each is *quarantined* and the rest of the batch is stored. A few poison
items among n cost about 2·log2(n) extra transactions each.

Quarantined means kept where an operator finds it: a dead-letter row of reason `quarantined`
whose detail is the database's own error and whose payload is the item written out (fields
made safe and cut, see `limes.ops.ingest.dead_letter.storable`); if even that row cannot be
stored, a line in an append-only JSON-lines file. Every quarantined item is counted.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc

from limes.ops.alert import Alert
from limes.ops.detection import Detection
from limes.ops.ingest.dead_letter import Rejection, RejectReason, safe_text, storable
from limes.ops.tracker.state import TrackState
from limes.store.writer import StoreWriter, WriteResult

log = logging.getLogger(__name__)

_TRANSIENT = (
    sa_exc.OperationalError,  # connection lost, server shutting down, locked, read-only, disk
    sa_exc.InterfaceError,  # connection closed under us
    sa_exc.InternalError,  # e.g. a transaction the server already aborted
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no connection from the pool in time
    ConnectionError,
    TimeoutError,
)
#: DBAPI errors a driver may raise without SQLAlchemy's wrapper (by class name, any driver).
_TRANSIENT_NAMES = frozenset({"OperationalError", "InterfaceError", "InternalError"})


def is_transient(error: BaseException) -> bool:
    """Whether retrying the same transaction later may succeed (else the data is at fault)."""
    if isinstance(error, _TRANSIENT):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return any(t.__name__ in _TRANSIENT_NAMES for t in type(error).__mro__)


def error_text(error: BaseException) -> str:
    """The database's own words for an error (its first line), without SQLAlchemy's wrapping."""
    inner = getattr(error, "orig", None) or error
    text = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {text[0] if text else ''}"


@dataclass
class Chunk:
    """Part of a batch of pipeline outputs, written in one transaction."""

    detections: list[Detection] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    tracks: list[TrackState] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    quarantine: bool = False  # this chunk is the quarantine row of a refused item

    def __len__(self) -> int:
        return len(self.detections) + len(self.rejections) + len(self.tracks) + len(self.alerts)

    def halves(self) -> tuple[Chunk, Chunk]:
        """Two chunks of about half the items each, in order (detections first)."""
        items = self.items()
        cut = len(items) // 2
        return Chunk.of(items[:cut]), Chunk.of(items[cut:])

    def items(self) -> list[tuple[str, Any]]:
        return [
            *(("detection", d) for d in self.detections),
            *(("dead letter", r) for r in self.rejections),
            *(("track state", t) for t in self.tracks),
            *(("alert", a) for a in self.alerts),
        ]

    @classmethod
    def of(cls, items: Sequence[tuple[str, Any]]) -> Chunk:
        chunk = cls()
        lists: dict[str, list[Any]] = {
            "detection": chunk.detections,
            "dead letter": chunk.rejections,
            "track state": chunk.tracks,
            "alert": chunk.alerts,
        }
        for kind, item in items:
            lists[kind].append(item)
        return chunk


@dataclass
class QuarantineStats:
    """Counts since start (exposed on /api/metrics)."""

    quarantined: int = 0  # items the database refused, kept as dead letters
    quarantined_to_file: int = 0  # ... kept in the quarantine file instead
    quarantine_lost: int = 0  # ... that could not even be written to the file (logged)
    split_batches: int = 0  # batches split to find what the database refused
    transient_failures: int = 0  # transactions that failed and were retried
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class PoisonIsolator:
    """Writes batches through a `StoreWriter`, retrying transient failures and quarantining
    the items the database refuses (see the module docstring). Thread-safe.

    `quarantine_file` is the append-only JSON-lines file for items whose quarantine row cannot
    be stored either (None: such items are logged and counted as lost). `sleep` is injectable
    so tests can run the backoff without waiting.
    """

    def __init__(
        self,
        writer: StoreWriter,
        *,
        quarantine_file: str | Path | None = None,
        retry_s: float = 0.5,
        retry_max_s: float = 5.0,
        keep_bytes: int = 4096,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.writer = writer
        self.quarantine_file = None if quarantine_file is None else Path(quarantine_file)
        self.retry_s = retry_s
        self.retry_max_s = max(retry_max_s, retry_s)
        self.keep_bytes = keep_bytes
        self.sleep = sleep
        self.stats = QuarantineStats()
        self._failing_since: float | None = None
        self._last_error = ""
        self._file_lock = threading.Lock()

    # -- health --------------------------------------------------------------------------------

    def trouble(self) -> str | None:
        """Why the store cannot take writes now (a transient failure not yet overcome), or None."""
        since = self._failing_since
        if since is None:
            return None
        return f"store failing for {time.monotonic() - since:.0f} s: {self._last_error}"

    # -- writing -------------------------------------------------------------------------------

    def write(
        self,
        *,
        detections: Sequence[Detection] = (),
        rejections: Sequence[Rejection] = (),
        tracks: Sequence[TrackState] = (),
        alerts: Sequence[Alert] = (),
        give_up: Callable[[int], bool] = lambda attempts: False,
    ) -> WriteResult:
        """Store a batch, isolating poison; returns what was stored.

        Transient failures are retried until `give_up(failed attempts)` says stop, which then
        re-raises the error (nothing of the batch left unstored is lost: its caller has not
        acknowledged it).
        """
        total = WriteResult()
        first = Chunk(list(detections), list(rejections), list(tracks), list(alerts))
        pending = [first]  # a stack: the next chunk to write is the last
        delay = self.retry_s
        attempts = 0
        while pending:
            chunk = pending[-1]
            try:
                result = self.writer.write(
                    detections=chunk.detections, rejections=chunk.rejections,
                    tracks=chunk.tracks, alerts=chunk.alerts,
                )  # fmt: skip
            except Exception as error:
                if is_transient(error):
                    attempts += 1
                    self._failed(error)
                    if give_up(attempts):
                        raise
                    log.warning("store transaction failed (%s); retrying in %.1f s",
                                error_text(error), delay)  # fmt: skip
                    self.sleep(delay)
                    delay = min(delay * 2, self.retry_max_s)
                    continue
                pending.pop()
                if chunk.quarantine:
                    self._to_file(chunk.rejections[0], error)
                elif len(chunk) == 1:
                    pending.append(self._quarantine_chunk(chunk, error))
                else:
                    with self.stats.lock:
                        self.stats.split_batches += int(chunk is first)
                    if chunk is first:
                        log.warning("store refused a batch of %d items (%s); isolating",
                                    len(chunk), error_text(error))  # fmt: skip
                    a, b = chunk.halves()
                    pending += [b, a]
                continue
            pending.pop()
            self._recovered()
            delay = self.retry_s
            for name in ("detections", "dead_letters", "tracks", "alerts", "incidents_opened",
                         "changes"):  # fmt: skip
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if chunk.quarantine:
                with self.stats.lock:
                    self.stats.quarantined += 1
        return total

    def _failed(self, error: BaseException) -> None:
        with self.stats.lock:
            self.stats.transient_failures += 1
        # Fresh connections for the retry: a SQLite connection opened while the file was
        # read-only stays read-only, and a dropped server's connections are dead.
        self.writer.db.dispose()
        if self._failing_since is None:
            self._failing_since = time.monotonic()
        self._last_error = error_text(error)

    def _recovered(self) -> None:
        if self._failing_since is not None:
            log.info("store writes again after %.1f s", time.monotonic() - self._failing_since)
            self._failing_since = None

    def _quarantine_chunk(self, chunk: Chunk, error: BaseException) -> Chunk:
        """The dead-letter row that keeps one refused item."""
        kind, item = chunk.items()[0]
        why = error_text(error)
        log.error("store refused a %s; quarantined as a dead letter: %s", kind, why)
        sensor = getattr(item, "sensor_id", None)
        row = Rejection(
            RejectReason.QUARANTINED,
            f"the store refused this {kind}: {why}",
            f"store:{kind}",
            datetime.now(UTC),
            safe_text(repr(item), self.keep_bytes).encode("utf-8"),
            sensor_id=sensor if isinstance(sensor, str) else None,
        )
        return Chunk(rejections=[storable(row, self.keep_bytes)], quarantine=True)

    def _to_file(self, row: Rejection, error: BaseException) -> None:
        """Append the refused item to the quarantine file (its row was refused too)."""
        line = {
            "time": row.received.isoformat(),
            "source": row.source,
            "detail": row.detail,
            "quarantine_row_error": error_text(error),
            "item": row.payload.decode("utf-8", "backslashreplace"),
        }
        where = self.quarantine_file
        try:
            if where is None:
                raise OSError("no quarantine file is configured")
            with self._file_lock, where.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=True) + "\n")
        except OSError as problem:
            with self.stats.lock:
                self.stats.quarantine_lost += 1
            log.error("quarantined item not kept (%s): %s", problem, line)
            return
        with self.stats.lock:
            self.stats.quarantined_to_file += 1
        log.error("quarantined item written to %s: %s", where, row.detail)

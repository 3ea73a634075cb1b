"""The committer: MQTT messages in, tracked, everything they produced stored, then acknowledged.

Two threads, one after the other like a bucket chain:
- the tracking thread owns the order of events. It takes a batch of parsed messages from the
  door's inbox, hands each message's detections to the pipeline on its own (one `submit` per
  message, so the tracker sees the same grouping as a replay of the store will: see
  `limes.service.recovery`), gathers what the pipeline published (detections, dead letters,
  track states, alerts, also those of the CoT and HTTP doors and the ticker) and passes it on,
  with the messages it came from, as one unit;
- the writing thread stores units in order and only then acknowledges their messages. When
  units wait, it writes all of them in one transaction (a group commit): a busy floor gets
  fewer, larger transactions, a quiet one a transaction per batch, with no timer to tune.
  While it waits on the database the tracking thread works on the next batch.
Nothing is acknowledged before it is stored. A transaction that fails for a transient reason
is retried with a capped backoff (the doors hold back meanwhile: `trouble()` says why); one the
database refuses for the data's sake is split until the refused items are found and
quarantined (`limes.store.quarantine`), so one poison message never stops the store.
`wait_stored()` lets a door that answers its sender (HTTP) answer only once what it handed
over is stored.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from limes.ops.alert import Alert
from limes.ops.bus import Bus, Subscription, Topic
from limes.ops.detection import Detection
from limes.ops.ingest.dead_letter import Rejection
from limes.ops.pipeline import Pipeline
from limes.ops.tracker.state import TrackState
from limes.ops.tracker.track_batch import TrackBatch
from limes.service.door import Message
from limes.service.snapshot import Snapshots
from limes.store.quarantine import PoisonIsolator
from limes.store.writer import StoreWriter

log = logging.getLogger(__name__)


@dataclass
class Outputs:
    """What the pipeline published since the last commit (thread-safe; the bus is synchronous)."""

    detections: list[Detection] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    tracks: list[TrackState] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    #: How many times `take` has handed a non-empty gathering on (unit numbers, see `pending`).
    taken: int = 0
    #: While set (a start's replay), only each track's newest state is kept, its record built
    #: when taken: a replay re-derives every update, and building them all cost a fifth of it.
    newest_tracks_only: bool = False
    _newest: dict[str, tuple[TrackBatch, int]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def subscribe(self, bus: Bus) -> list[Subscription]:
        """Collect the pipeline's output topics."""
        return [
            bus.subscribe(Topic.DETECTIONS, self._adder("detections")),
            bus.subscribe(Topic.REJECTIONS, self._adder("rejections")),
            bus.subscribe(Topic.TRACKS, self._adder("tracks")),
            bus.subscribe(Topic.ALERTS, self._adder("alerts")),
        ]

    def _adder(self, name: str) -> Callable[[Sequence[Any]], None]:
        def add(items: Sequence[Any]) -> None:
            with self._lock:
                if name == "tracks" and self.newest_tracks_only and isinstance(items, TrackBatch):
                    newest = self._newest
                    for row, track_id in enumerate(items.ids):
                        newest[track_id] = (items, row)
                else:
                    getattr(self, name).extend(items)

        return add

    def take(self) -> Outputs:
        """Everything gathered so far (its `taken` is its unit number); the collector starts
        empty again."""
        with self._lock:
            if self._newest:
                self.tracks.extend(_newest_states(self._newest))
                self._newest = {}
            out = Outputs(self.detections, self.rejections, self.tracks, self.alerts)
            self.detections, self.rejections, self.tracks, self.alerts = [], [], [], []
            if len(out):
                self.taken += 1
            out.taken = self.taken
        return out

    def pending(self) -> int:
        """The number of the unit that will hold everything published so far."""
        with self._lock:
            busy = self.detections or self.rejections or self.tracks or self.alerts or self._newest
            return self.taken + 1 if busy else self.taken

    def __len__(self) -> int:
        kept = len(self.tracks) + len(self._newest)
        return len(self.detections) + len(self.rejections) + kept + len(self.alerts)


def _newest_states(newest: dict[str, tuple[TrackBatch, int]]) -> list[TrackState]:
    """The records of the kept rows, built batch by batch."""
    rows: dict[int, tuple[TrackBatch, list[int]]] = {}
    for batch, row in newest.values():
        rows.setdefault(id(batch), (batch, []))[1].append(row)
    out: list[TrackState] = []
    for batch, index in rows.values():
        out.extend(batch.take(np.asarray(index, dtype=np.intp)).states())
    return out


class LatencyRecorder:
    """Seconds from reading the message of an alert's last detection to the alert's commit,
    with when each was committed (the last `keep`)."""

    def __init__(self, keep: int = 1 << 16) -> None:
        self._values = np.full(keep, np.nan)
        self._at = np.full(keep, np.nan)
        self._n = 0
        self._lock = threading.Lock()

    def add(self, seconds: Sequence[float], at: float | None = None) -> None:
        when = time.time() if at is None else at
        with self._lock:
            for s in seconds:
                self._values[self._n % self._values.size] = s
                self._at[self._n % self._values.size] = when
                self._n += 1

    def quantiles(
        self, qs: Sequence[float] = (0.5, 0.99), *, after: float | None = None
    ) -> dict[str, float | None]:
        """Quantiles of the kept values (`after`: only those committed at or after it)."""
        with self._lock:
            keep = ~np.isnan(self._values)
            if after is not None:
                keep &= self._at >= after
            v = self._values[keep]
        return {f"p{round(q * 100)}": (float(np.quantile(v, q)) if v.size else None) for q in qs}

    @property
    def first(self) -> float | None:
        """When the first kept value was committed."""
        with self._lock:
            at = self._at[~np.isnan(self._at)]
        return float(at.min()) if at.size else None

    @property
    def count(self) -> int:
        return self._n


@dataclass
class CommitterStats:
    """Totals since start (read by logs, metrics and the benchmark)."""

    messages: int = 0
    batches: int = 0
    detections_stored: int = 0
    alerts_stored: int = 0
    failures: int = 0  # store transactions that failed (transient: retried)
    failed_rounds: int = 0  # tracking rounds that raised (their messages still stored, acked)
    tracking_failures: int = 0  # messages whose detections were stored but not tracked
    # Where the time goes (seconds, summed): messages waiting in the inbox (per message),
    # tracking rounds, units waiting for the writer (per unit) and store transactions.
    inbox_wait_s: float = 0.0
    tracking_s: float = 0.0
    unit_wait_s: float = 0.0
    writing_s: float = 0.0
    alert_reads_to_cut_s: float = 0.0  # per alert: from its message's read to its unit's cut


class Committer:
    """The threads that turn queued messages into stored, acknowledged results."""

    def __init__(
        self,
        pipeline: Pipeline,
        writer: StoreWriter,
        inbox: queue.Queue[Message],
        outputs: Outputs,
        ack: Callable[[int, int], None],
        *,
        batch_messages: int,
        batch_wait_s: float,
        tick_s: float | None,
        tick_lag_s: float,
        retry_s: float,
        retry_max_s: float = 5.0,
        quarantine_file: str | None = None,
        track_store_s: float = 0.0,
        units_waiting: int = 64,
        group_detections: int = 50_000,
        read_memory: int = 1 << 18,
        snapshots: Snapshots | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.writer = writer
        self.inbox = inbox
        self.outputs = outputs
        self.ack = ack
        self.batch_messages = batch_messages
        self.batch_wait_s = batch_wait_s
        self.tick_s = tick_s
        self.tick_lag_s = tick_lag_s
        self.retry_s = retry_s
        self.track_store_s = track_store_s
        self.group_detections = group_detections
        self._track_written: dict[str, tuple[int, str]] = {}  # track -> (period, status)
        self._read_at: dict[tuple[str, int], float] = {}  # detection key -> when the door read it
        self._read_memory = read_memory
        self.stats = CommitterStats()
        self.snapshots = snapshots
        self.isolator = PoisonIsolator(
            writer, quarantine_file=quarantine_file, retry_s=retry_s, retry_max_s=retry_max_s
        )
        self._stored = 0  # the highest unit number committed
        self._stored_cv = threading.Condition()
        self.latency = LatencyRecorder()
        self._stop = threading.Event()
        # Bounded: when the store falls behind, tracking waits, the inbox fills, the door stops
        # reading and the broker holds the rest.
        self._units: queue.Queue[_Unit | None] = queue.Queue(units_waiting)
        self._thread = threading.Thread(target=self._run, name="limes-committer", daemon=True)
        self._writer_thread = threading.Thread(
            target=self._write_forever, name="limes-store-writer", daemon=True
        )
        self._next_tick = time.monotonic() + (tick_s or 0.0)

    def trouble(self) -> str | None:
        """Why what is handed over now would not be stored soon (None: it would)."""
        failing = self.isolator.trouble()
        if failing is not None:
            return failing
        if self._units.full():
            return f"the store writer is {self._units.qsize()} batches behind"
        return None

    def wait_stored(self, timeout: float) -> bool:
        """Wait until everything the pipeline published before this call is stored (or, with
        nothing published, now); False if `timeout` seconds pass first."""
        unit = self.outputs.pending()
        with self._stored_cv:
            return self._stored_cv.wait_for(lambda: self._stored >= unit, timeout)

    def start(self) -> None:
        self._writer_thread.start()
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Handle every queued message, flush the tracker, store, acknowledge; then return."""
        self._stop.set()
        self._thread.join(timeout)
        self._writer_thread.join(timeout)
        if self._thread.is_alive() or self._writer_thread.is_alive():
            log.error("committer did not finish within %.0f s", timeout)

    # -- the tracking thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._round(final=False)
                except Exception:
                    self.stats.failed_rounds += 1
                    log.exception("committer round failed")
                    time.sleep(self.retry_s)
                if self.snapshots is not None and self.snapshots.due():
                    self.snapshots.save()  # between rounds: the tracker is between submits
            try:
                while not self.inbox.empty():
                    self._round(final=False)
                self._round(final=True)
                if self.snapshots is not None and self.snapshots.period_s is not None:
                    self.snapshots.save()  # a clean stop: the next start replays next to nothing
            except Exception:
                log.exception("final round failed; unacknowledged messages come back next run")
        finally:
            self._units.put(None)  # the writer stops after what came before

    def _take(self) -> list[Message]:
        batch: list[Message] = []
        timeout = 0.1 if self.tick_s is None else min(0.1, self.tick_s)
        try:
            batch.append(self.inbox.get(timeout=timeout))
        except queue.Empty:
            return batch
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_messages:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self.inbox.get(timeout=left))
                except queue.Empty:
                    break
        return batch

    def _round(self, *, final: bool) -> None:
        """Track one batch of messages and hand what it produced to the writing thread."""
        batch = self._take() if not final else []
        began = time.time()
        self.stats.inbox_wait_s += sum(began - m.read for m in batch if m.read)
        try:
            for m in batch:
                self._handle(m)
            if final:
                self.pipeline.flush()
            elif self.tick_s is not None and time.monotonic() >= self._next_tick:
                self._next_tick = time.monotonic() + self.tick_s
                # The ingest clock: the wall clock, or the exercise clock of an exercise.
                now = self.pipeline.context.now() - timedelta(seconds=self.tick_lag_s)
                self.pipeline.tick(now)
        except Exception:
            # Whatever the pipeline published is still stored and the batch's messages still
            # acknowledged with it: a failed round costs tracking, never a message.
            self.stats.failed_rounds += 1
            log.exception("committer round failed; its outputs are stored and acknowledged")
        finally:
            out = self.outputs.take()
            if len(out) or batch or final:
                read = self._alert_reads(out)
                cut = time.time()
                self.stats.tracking_s += cut - began
                self._units.put(_Unit(out, [(m.mid, m.qos) for m in batch], read, final, cut))

    def _handle(self, m: Message) -> None:
        """One message into the pipeline: its rejections, then its detections tracked."""
        for r in m.outcome.rejections:
            self.pipeline.reject(r)
        if not m.outcome.detections:
            return
        self._remember(m)
        try:
            self.pipeline.submit(m.outcome.detections)
        except Exception:
            # Published before tracking, so stored and acknowledged; the next start's replay
            # tracks them again unless a snapshot was taken since (docs/operations.md).
            self.stats.tracking_failures += 1
            log.exception(
                "tracking failed on a message of %d detections; they are stored, not tracked",
                len(m.outcome.detections),
            )

    def _remember(self, message: Message) -> None:
        # When each detection was read, for the latency of the alert it may fire; bounded by
        # dropping the oldest half (dicts keep insertion order) when full.
        memory = self._read_at
        keys = [(d.sensor_id, d.seq) for d in message.outcome.detections]  # `Detection.key`
        memory.update(dict.fromkeys(keys, message.read))
        if len(memory) > self._read_memory:
            self._read_at = dict(itertools.islice(memory.items(), len(memory) // 2, None))

    def _alert_reads(self, out: Outputs) -> list[float]:
        """When the message of each alert's last detection was read."""
        if not out.alerts:
            return []
        last = {s.track_id: s.last_detection for s in out.tracks}
        reads = (self._read_at.get(last.get(a.track_id) or ("", -1)) for a in out.alerts)
        return [r for r in reads if r is not None]

    # -- the writing thread --------------------------------------------------------------------

    def _write_forever(self) -> None:
        done = False
        while not done:
            unit = self._units.get()
            if unit is None:
                return
            units = [unit]
            size = len(unit.out.detections)
            # Group commit: whatever else waits goes into the same transaction.
            while size < self.group_detections:
                try:
                    more = self._units.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                    break
                units.append(more)
                size += len(more.out.detections)
            try:
                self._commit(units)
            except Exception:
                log.exception("final commit failed; unacknowledged messages come back next run")
                return

    def _commit(self, units: list[_Unit]) -> None:
        out = Outputs()
        for u in units:
            out.detections += u.out.detections
            out.rejections += u.out.rejections
            out.tracks += u.out.tracks
            out.alerts += u.out.alerts
        final = units[-1].final
        began = time.time()
        self.stats.unit_wait_s += sum(began - u.cut for u in units)
        if len(out):
            self._write(out, final)
            done = time.time()
            self.stats.writing_s += done - began
            self.latency.add([done - r for u in units for r in u.alert_reads], done)
            self.stats.alert_reads_to_cut_s += sum(u.cut - r for u in units for r in u.alert_reads)
        for u in units:
            for mid, qos in u.acks:
                self.ack(mid, qos)
            self.stats.messages += len(u.acks)
        with self._stored_cv:
            self._stored = max(self._stored, *(u.out.taken for u in units))
            self._stored_cv.notify_all()

    def _write(self, out: Outputs, final: bool) -> None:
        def give_up(attempts: int) -> bool:
            self.stats.failures += 1
            return final and self._stop.is_set() and attempts > 10

        result = self.isolator.write(
            detections=out.detections,
            rejections=out.rejections,
            tracks=self._tracks_to_store(out.tracks, out.alerts, final),
            alerts=out.alerts,
            give_up=give_up,
        )
        self.stats.batches += 1
        self.stats.detections_stored += result.detections
        self.stats.alerts_stored += result.alerts

    def _tracks_to_store(
        self, states: list[TrackState], alerts: list[Alert], final: bool
    ) -> list[TrackState]:
        """The states worth a row: every change of status, a track's state when it alerts, and
        otherwise one state per track per period of `track_store_s` (the track-state write is
        the store's heaviest; the map needs no more).

        Each track's periods are shifted by a phase of its own (from its id), so tracks that
        began together (a floor switched on, a group crossing) do not all come due in the same
        transaction every period: the writes spread evenly over the period.
        """
        if self.track_store_s <= 0 or final:
            return states
        period = self.track_store_s
        now = time.monotonic()
        alerting = {a.track_id for a in alerts}
        keep = []
        written = self._track_written
        for s in states:
            track_id = s.track_id
            phase = zlib.crc32(track_id.encode()) / 2**32 * period
            slot = int((now + phase) // period)
            last = written.get(track_id)
            status = s.status.value
            due = last is None or last[1] != status or slot > last[0]
            if due or track_id in alerting or status == "deleted":
                keep.append(s)
                if status == "deleted":
                    written.pop(track_id, None)
                else:
                    written[track_id] = (slot, status)
        return keep


@dataclass(frozen=True, slots=True)
class _Unit:
    """What one tracking round produced, and the messages to acknowledge once it is stored."""

    out: Outputs
    acks: list[tuple[int, int]]
    alert_reads: list[float]
    final: bool
    cut: float  # wall clock (s) when tracking handed it over

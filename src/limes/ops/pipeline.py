"""The live pipeline: doors → dedup → tracker per sector → rules → alerts, all on the bus.

```
MQTT │ CoT TCP/UDP │ HTTP ─► submit(detections) ─► dedup ─► PartitionedTracker (by sector)
          └──────────────► reject(rejection)          │              │
                               │                  DETECTIONS      TRACKS ─► RuleEngine ─► ALERTS
                           REJECTIONS (+ dead-letter sink)   UNTRACKED
```

Threads: the doors call `submit` and `reject` from their own threads (paho's network thread,
the CoT asyncio thread, the API's workers, the ticker). `submit` and `tick` hold one lock
while they run dedup, tracker and rules and publish, so the tracker and the rule engine only
ever see one caller at a time and every topic's batches come out in processing order.
Subscribers run inside that lock on the caller's thread (the `LocalBus` is synchronous): keep
them quick or wrap them in `bus.BufferedHandler`. `reject` takes no pipeline lock (counting
and the dead-letter sink are thread-safe), so a flood of bad messages never waits on the
tracker. An error in the tracker or the rules propagates to the door after the detections'
keys are forgotten by the deduplicator, so a redelivery is taken again.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limes.errors import OpsError
from limes.ops.alert import Alert
from limes.ops.bus import Bus, LocalBus, Topic
from limes.ops.detection import Detection
from limes.ops.ingest.context import IngestContext, ingest_context
from limes.ops.ingest.cot_server import CotServer
from limes.ops.ingest.dead_letter import DeadLetterSink, Rejection
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.http_batch import HttpBatchResult, ingest_http_batch
from limes.ops.metrics import PipelineMetrics
from limes.ops.plan_lookup import PlanLookup, SeverityPolicy
from limes.ops.rules import RuleEngine
from limes.ops.sensor_laws import with_scenario_laws
from limes.ops.tracker import PartitionedTracker, TrackerConfig, TrackState, TrackStatus
from limes.ops.tracker.batch import DetectionBatch
from limes.ops.tracker.state import STATUS_BY_CODE
from limes.ops.tracker.track_batch import TrackBatch
from limes.ops.tracker.tracker import warm_up as tracker_warm_up
from limes.scenario.model import Scenario

log = logging.getLogger(__name__)

DELETED_CODE = STATUS_BY_CODE.index(TrackStatus.DELETED)


class PipelineError(OpsError):
    """The pipeline's inputs could not be started or stopped as asked."""


class Pipeline:
    """Joins the doors, the tracker, the rules and the bus for one scenario.

    `submit(detections)` and `reject(rejection)` are what the doors call; `start_inputs`
    wires the CoT door to them, `ingest_http` serves the HTTP door, and the service's MQTT
    door (`limes.service.door`) reaches `submit` through its committer. Alerts, track states,
    detections and rejections are published on `bus` (a `LocalBus` by default).
    """

    def __init__(
        self,
        scenario: Scenario,
        tracker_config: TrackerConfig | None = None,
        plan: PlanLookup | None = None,
        bus: Bus | None = None,
        *,
        context: IngestContext | None = None,
        dedup: Deduplicator | None = None,
        metrics: PipelineMetrics | None = None,
        dead_letters: DeadLetterSink | None = None,
        severity: SeverityPolicy | None = None,
        latency_memory: int = 1 << 18,
        wall_clock: Callable[[], float] = time.time,
        tracking: bool = True,
    ) -> None:
        self.scenario = scenario
        #: False where tracker workers track this site's detections (`limes serve
        #: --partitions`): the doors' detections are checked, de-duplicated and published on
        #: the bus (to be stored), and neither tracked nor ruled on here.
        self.tracking = tracking
        self.bus: Bus = bus if bus is not None else LocalBus()
        self.context = context if context is not None else ingest_context(scenario)
        self.dedup = dedup if dedup is not None else Deduplicator()
        self.metrics = metrics if metrics is not None else PipelineMetrics()
        self.dead_letters = dead_letters
        self.rules = RuleEngine(scenario, plan, severity)
        self._sector_names = [s.name for s in scenario.spec.sectors]
        self._sector_array = np.array(self._sector_names, dtype=object)
        # The tracker weighs each report by its sensor's law, from the same scenario.
        tracker_config = with_scenario_laws(tracker_config or TrackerConfig(), scenario)
        self.tracker = PartitionedTracker(
            self._sector_of, tracker_config, partitions_of=self._sectors_of
        )
        self.wall_clock = wall_clock
        self._taken: dict[tuple[str, int], float] = {}  # detection key → when submitted
        self._taken_before: dict[tuple[str, int], float] = {}
        self._latency_memory = latency_memory
        self._alive: set[str] = set()
        self._lock = threading.Lock()
        self._cot: CotServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stop_ticker = threading.Event()

    # -- entry points -------------------------------------------------------------------------

    def submit(self, detections: Sequence[Detection], *, deduplicated: bool = False) -> list[Alert]:
        """Track new detections and evaluate the rules; returns (and publishes) the alerts.

        `deduplicated=True` when the caller already dropped repeats with `self.dedup`.
        """
        taken = self.wall_clock()
        with self._lock:
            self.metrics.detections_in.inc(len(detections))
            fresh = list(detections) if deduplicated else self.dedup.filter(detections)
            if len(fresh) < len(detections):
                self.metrics.duplicates.inc(len(detections) - len(fresh))
            if not fresh:
                return []
            try:
                self._remember(fresh, taken)
                self.bus.publish_batch(Topic.DETECTIONS, fresh)
                if not self.tracking:
                    return []
                return self._after_tracking(self.tracker.update_batch(DetectionBatch.of(fresh)))
            except BaseException:
                self.dedup.forget([d.key for d in fresh])
                self.metrics.tracking_failures.inc()
                raise

    def reject(self, rejection: Rejection) -> None:
        """Count a report a door refused, publish it and keep it as a dead letter."""
        self.metrics.rejected.inc(reason=rejection.reason.value)
        self.bus.publish(Topic.REJECTIONS, rejection)
        if self.dead_letters is not None:
            try:
                self.dead_letters.put(rejection)
            except Exception:
                log.exception("dead-letter sink failed on a %s rejection", rejection.reason)

    def ingest_http(
        self,
        body: bytes,
        *,
        allowed_sensors: Collection[str] | None = None,
        source: str = "http",
    ) -> HttpBatchResult:
        """The HTTP door: check one body, track what passed, say what became of each item."""
        result = ingest_http_batch(
            body,
            self.context,
            on_detections=self._submit_deduplicated,
            on_rejection=self.reject,
            dedup=self.dedup,
            allowed_sensors=allowed_sensors,
            source=source,
        )
        if result.duplicates:
            self.metrics.detections_in.inc(result.duplicates)
            self.metrics.duplicates.inc(result.duplicates)
        return result

    def tick(self, now: datetime | None = None) -> list[Alert]:
        """Move the tracker's clock to `now` (default: the ingest clock): release waiting
        detections, coast and delete quiet tracks, and evaluate the rules on what changed."""
        if not self.tracking:
            return []
        with self._lock:
            return self._after_tracking(
                self.tracker.advance_batch((now or self.context.now()).timestamp())
            )

    def flush(self) -> list[Alert]:
        """Process every detection still waiting in the tracker's reorder buffers."""
        if not self.tracking:
            return []
        with self._lock:
            return self._after_tracking(self.tracker.flush_batch())

    def snapshot_state(self, dump: Callable[[dict[str, Any]], bytes]) -> bytes:
        """The tracker's, the rules' and the deduplicator's state, dumped under the pipeline
        lock (so between two submits) by `dump` (see `limes.service.snapshot`)."""
        with self._lock:
            return dump({"tracker": self.tracker, "rules": self.rules, "dedup": self.dedup,
                         "alive": self._alive})  # fmt: skip

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back a state from `snapshot_state` (before any input opens)."""
        with self._lock:
            self.tracker, self.rules = state["tracker"], state["rules"]
            self.dedup, self._alive = state["dedup"], state["alive"]
            self.metrics.tracks_alive.set(len(self._alive))

    def tracks(self) -> list[TrackState]:
        """The live tracks of every sector, each at its last update."""
        with self._lock:
            return self.tracker.tracks()

    # -- the stages after the tracker ----------------------------------------------------------

    def _after_tracking(self, states: TrackBatch) -> list[Alert]:
        untracked = self.tracker.take_rejected()
        if untracked:
            for r in untracked:
                self.metrics.untracked.inc(reason=r.reason)
            self.bus.publish_batch(Topic.UNTRACKED, untracked)
        if not len(states):
            return []
        gone = states.status == DELETED_CODE
        ids = states.ids
        if gone.any():
            self._alive.update(ids[i] for i in np.flatnonzero(~gone).tolist())
            self._alive.difference_update(ids[i] for i in np.flatnonzero(gone).tolist())
        else:
            self._alive.update(ids)
        self.metrics.tracks_alive.set(len(self._alive))
        # The batch is a lazy Sequence[TrackState]: records are built only if a subscriber
        # reads them; the rules read its columns.
        self.bus.publish_batch(Topic.TRACKS, states)
        alerts = self.rules.evaluate(states)
        if alerts:
            self._emit(alerts, states)
        return alerts

    def _emit(self, alerts: list[Alert], states: TrackBatch) -> None:
        last = dict(zip(states.ids, states.last_key, strict=True))
        emitted = self.wall_clock()
        taken = [self._taken_at(last.get(a.track_id)) for a in alerts]
        self.metrics.latency.observe_many(emitted - np.asarray(taken, dtype=float))
        for a in alerts:
            self.metrics.alerts.inc(rule=a.rule.value)
        self.bus.publish_batch(Topic.ALERTS, alerts)

    def _remember(self, detections: list[Detection], taken: float) -> None:
        # When each detection came in, for the latency of the alert it may fire. Bounded by
        # two generations: when the newer one holds half the memory it becomes the older one
        # and the oldest is dropped whole (O(1), no copy that would stall one submit).
        self._taken.update(dict.fromkeys([d.key for d in detections], taken))
        if len(self._taken) > self._latency_memory // 2:
            self._taken_before, self._taken = self._taken, {}

    def _taken_at(self, key: tuple[str, int] | None) -> float:
        if key is None:
            return np.nan
        found = self._taken.get(key)
        return found if found is not None else self._taken_before.get(key, np.nan)

    # -- partitions ----------------------------------------------------------------------------

    def _sectors_of(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.object_]:
        # The sector of many frame points at once: one locate, one lookup.
        chain, _ = self.rules.locator.locate(x, y)
        found: NDArray[np.object_] = self._sector_array[self.scenario.sector_index(chain)]
        return found

    def _sector_of(self, x: float, y: float) -> str:
        chain, _ = self.scenario.locate(x, y)
        return self._sector_names[int(self.scenario.sector_index(chain))]

    # -- doors ---------------------------------------------------------------------------------

    def warm_up(self, *, freeze_gc: bool = False) -> None:
        """Get ready for live traffic: load the tracker's compiled kernels now, so the first
        live batch pays no kernel loading. `start_inputs` calls it; a caller that feeds
        `submit` itself calls it once before traffic.

        `freeze_gc`: also move every object alive now (modules, scenario, kernels) out of the
        garbage collector's sight, so a full collection walks only what the pipeline made
        since (on the ingest benchmark the slowest `submit` went from ~90 ms to ~25 ms).
        The collector is process-wide: only the process's owner may ask for it (`limes serve`
        does, through `ServiceConfig.tune_gc`); frozen objects are never collected.
        """
        tracker_warm_up()
        if freeze_gc:
            gc.collect()
            gc.freeze()

    def _submit_from_door(self, detections: list[Detection]) -> None:
        self.submit(detections)

    def _submit_deduplicated(self, detections: list[Detection]) -> None:
        self.submit(detections, deduplicated=True)

    def start_inputs(
        self,
        cot_tcp_port: int | None = None,
        cot_udp_port: int | None = None,
        *,
        cot_host: str = "127.0.0.1",
        cot_options: dict[str, Any] | None = None,
        tick_s: float | None = None,
        wait_s: float = 10.0,
    ) -> None:
        """Start the CoT door over TCP and/or UDP (port 0 picks a free one) and a ticker
        calling `tick()` every `tick_s` seconds. (MQTT comes in through the service's door,
        `limes.service.door`, which acknowledges a message only once its outputs are stored.)
        """
        if self._cot or self._ticker:
            raise PipelineError("inputs already started; stop() them first")
        self.warm_up()
        if cot_tcp_port is not None or cot_udp_port is not None:
            self._start_cot(cot_host, cot_tcp_port, cot_udp_port, wait_s, cot_options or {})
        if tick_s is not None:
            if tick_s <= 0:
                raise PipelineError(f"tick_s must be positive, got {tick_s}")
            self._stop_ticker.clear()
            self._ticker = threading.Thread(
                target=self._tick_forever, args=(tick_s,), name="limes-ticker", daemon=True
            )
            self._ticker.start()

    def _start_cot(
        self, host: str, tcp: int | None, udp: int | None, wait_s: float, options: dict[str, Any]
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name="limes-cot", daemon=True
        )
        self._loop_thread.start()
        self._cot = CotServer(
            self.context, self._submit_from_door, self.reject,
            host=host, tcp_port=tcp, udp_port=udp, **options,
        )  # fmt: skip
        try:
            asyncio.run_coroutine_threadsafe(self._cot.start(), self._loop).result(wait_s)
        except (OSError, TimeoutError) as exc:  # a port taken, an address not ours; bugs raise
            self._stop_cot()
            raise PipelineError(f"CoT door could not open on {host} (tcp {tcp}, udp {udp}): "
                                f"{exc}") from exc  # fmt: skip

    def _tick_forever(self, period_s: float) -> None:
        while not self._stop_ticker.wait(period_s):
            try:
                self.tick()
            except Exception:
                log.exception("pipeline tick failed")

    @property
    def cot(self) -> CotServer | None:
        """The CoT door, when started (its `tcp_address` / `udp_address` say where)."""
        return self._cot

    def stop(self) -> None:
        """Stop every door and the ticker (tracks and memory stay; inputs can start again)."""
        self._stop_cot()
        if self._ticker is not None:
            self._stop_ticker.set()
            self._ticker.join()
            self._ticker = None

    def _stop_cot(self) -> None:
        loop, cot = self._loop, self._cot
        if loop is None:
            return
        if cot is not None:
            try:
                asyncio.run_coroutine_threadsafe(cot.stop(), loop).result(10.0)
            except Exception:
                log.exception("CoT door did not stop cleanly")
        loop.call_soon_threadsafe(loop.stop)
        if self._loop_thread is not None:
            self._loop_thread.join()
        loop.close()
        self._loop, self._loop_thread, self._cot = None, None, None

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
import multiprocessing as mp
import pickle
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from limes.geo.frame import Frame
from limes.ops.alert import Alert
from limes.ops.bus import Bus, LocalBus, Topic
from limes.ops.detection import Detection, TargetClass
from limes.ops.ingest.context import IngestContext, IngestLimits, SensorInfo
from limes.ops.ingest.cot_server import CotServer
from limes.ops.ingest.dead_letter import DeadLetterSink, Rejection
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.http_batch import HttpBatchResult, ingest_http_batch
from limes.ops.ingest.mqtt import TOPIC_PREFIX, MqttIngest
from limes.ops.ingest_context import ingest_context
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


@dataclass(frozen=True)
class MqttSettings:
    """How the pipeline reaches its MQTT broker (defaults: the local Mosquitto)."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "limes-ingest"
    clean_session: bool = False
    manual_ack: bool = False
    topic_prefix: str = TOPIC_PREFIX
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    #: Run the door (receive, parse, check) in a child process, so parsing and tracking use
    #: two cores. Messages are then acknowledged once handed to the pipe (manual_ack is not
    #: available) and the door checks report times against the wall clock.
    separate_process: bool = False


class PipelineError(RuntimeError):
    """The pipeline's inputs could not be started or stopped as asked."""


class Pipeline:
    """Joins the doors, the tracker, the rules and the bus for one scenario.

    `submit(detections)` and `reject(rejection)` are what the doors call; `start_inputs`
    wires the MQTT and CoT doors to them, `ingest_http` serves the HTTP door. Alerts, track
    states, detections and rejections are published on `bus` (a `LocalBus` by default).
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
    ) -> None:
        self.scenario = scenario
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
        self._mqtt: MqttIngest | None = None
        self._mqtt_process: _MqttProcessDoor | None = None
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
                return self._after_tracking(self.tracker.update_batch(DetectionBatch.of(fresh)))
            except BaseException:
                self.dedup.forget([d.key for d in fresh])
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
        with self._lock:
            return self._after_tracking(
                self.tracker.advance_batch((now or self.context.now()).timestamp())
            )

    def flush(self) -> list[Alert]:
        """Process every detection still waiting in the tracker's reorder buffers."""
        with self._lock:
            return self._after_tracking(self.tracker.flush_batch())

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

    def warm_up(self) -> None:
        """Get ready for live traffic: load the tracker's compiled kernels, then move every
        object alive now (modules, scenario, kernels) out of the garbage collector's sight.

        The first live batch then pays no kernel loading, and a full collection walks only
        what the pipeline made since, not the whole start-up heap: on the ingest benchmark
        that took the slowest `submit` from ~90 ms to ~25 ms. `start_inputs` calls it; a
        caller that feeds `submit` itself calls it once before traffic. Frozen objects are
        never collected, so call it after start-up, not in a loop.
        """
        tracker_warm_up()
        gc.collect()
        gc.freeze()

    def _submit_from_door(self, detections: list[Detection]) -> None:
        self.submit(detections)

    def _submit_deduplicated(self, detections: list[Detection]) -> None:
        self.submit(detections, deduplicated=True)

    def start_inputs(
        self,
        mqtt: MqttSettings | bool = False,
        cot_tcp_port: int | None = None,
        cot_udp_port: int | None = None,
        *,
        cot_host: str = "127.0.0.1",
        tick_s: float | None = None,
        wait_s: float = 10.0,
    ) -> None:
        """Start the doors: MQTT (`True` for the local broker's defaults), CoT over TCP and/or
        UDP (port 0 picks a free one), and a ticker calling `tick()` every `tick_s` seconds.

        Waits up to `wait_s` for the MQTT subscription; if the broker is not there yet the
        door keeps trying in the background and a warning is logged.
        """
        if self._mqtt or self._mqtt_process or self._cot or self._ticker:
            raise PipelineError("inputs already started; stop() them first")
        self.warm_up()
        if mqtt:
            s = mqtt if isinstance(mqtt, MqttSettings) else MqttSettings()
            if s.separate_process:
                self._mqtt_process = _MqttProcessDoor(self, s)
                if not self._mqtt_process.start(wait_s):
                    log.warning("MQTT door process not subscribed to %s:%s yet", s.host, s.port)
        if mqtt and not self._mqtt_process:
            s = mqtt if isinstance(mqtt, MqttSettings) else MqttSettings()
            self._mqtt = MqttIngest(
                self.context,
                self._submit_from_door,
                self.reject,
                host=s.host,
                port=s.port,
                client_id=s.client_id,
                clean_session=s.clean_session,
                topic_prefix=s.topic_prefix,
                manual_ack=s.manual_ack,
                keepalive_s=s.keepalive_s,
                username=s.username,
                password=s.password,
            )
            self._mqtt.start()
            if not self._mqtt.wait_ready(wait_s):
                log.warning("MQTT broker %s:%s not ready; retrying in background", s.host, s.port)
        if cot_tcp_port is not None or cot_udp_port is not None:
            self._start_cot(cot_host, cot_tcp_port, cot_udp_port, wait_s)
        if tick_s is not None:
            if tick_s <= 0:
                raise PipelineError(f"tick_s must be positive, got {tick_s}")
            self._stop_ticker.clear()
            self._ticker = threading.Thread(
                target=self._tick_forever, args=(tick_s,), name="limes-ticker", daemon=True
            )
            self._ticker.start()

    def _start_cot(self, host: str, tcp: int | None, udp: int | None, wait_s: float) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name="limes-cot", daemon=True
        )
        self._loop_thread.start()
        self._cot = CotServer(
            self.context, self._submit_from_door, self.reject,
            host=host, tcp_port=tcp, udp_port=udp,
        )  # fmt: skip
        try:
            asyncio.run_coroutine_threadsafe(self._cot.start(), self._loop).result(wait_s)
        except Exception as exc:
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
    def mqtt(self) -> MqttIngest | None:
        """The MQTT door, when started."""
        return self._mqtt

    @property
    def cot(self) -> CotServer | None:
        """The CoT door, when started (its `tcp_address` / `udp_address` say where)."""
        return self._cot

    def stop(self) -> None:
        """Stop every door and the ticker (tracks and memory stay; inputs can start again)."""
        if self._mqtt is not None:
            self._mqtt.stop()
            self._mqtt = None
        if self._mqtt_process is not None:
            self._mqtt_process.stop()
            self._mqtt_process = None
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


# -- the MQTT door in a child process ---------------------------------------------------------

_DETECTIONS, _REJECTION, _DONE = 0, 1, 2


def _door_process(
    conn: Connection,
    frame_wkt: str,
    sensors: dict[str, SensorInfo],
    area: Any,
    limits: IngestLimits,
    settings: MqttSettings,
    ready: Any,
    stop: Any,
) -> None:
    """The child: an MQTT door whose detections go back down the pipe as plain tuples."""
    ctx = IngestContext(Frame(CRS.from_wkt(frame_wkt)), sensors, area, limits)

    def on_detections(detections: list[Detection]) -> None:
        rows = [astuple_detection(d) for d in detections]
        conn.send_bytes(pickle.dumps((_DETECTIONS, rows), pickle.HIGHEST_PROTOCOL))

    def on_rejection(rejection: Rejection) -> None:
        conn.send_bytes(pickle.dumps((_REJECTION, rejection), pickle.HIGHEST_PROTOCOL))

    door = MqttIngest(
        ctx, on_detections, on_rejection, host=settings.host, port=settings.port,
        client_id=settings.client_id, clean_session=settings.clean_session,
        topic_prefix=settings.topic_prefix, keepalive_s=settings.keepalive_s,
        username=settings.username, password=settings.password,
    )  # fmt: skip
    door.start()
    while not stop.is_set():
        if door.wait_ready(0.5):
            ready.set()
            break
    stop.wait()
    door.stop()
    conn.send_bytes(pickle.dumps((_DONE, None)))
    conn.close()


def astuple_detection(d: Detection) -> tuple[Any, ...]:
    """A detection as a plain tuple in field order (pickles several times faster)."""
    return (d.sensor_id, d.seq, d.time, d.lon, d.lat, d.x, d.y, d.var_xx, d.var_xy, d.var_yy,
            d.target_class.value, d.confidence, d.group_size, d.received, d.late)  # fmt: skip


_CLASS_OF = {c.value: c for c in TargetClass}


def detection_from_tuple(row: tuple[Any, ...]) -> Detection:
    """The inverse of `astuple_detection`."""
    fields = list(row)
    fields[10] = _CLASS_OF[fields[10]]
    return Detection(*fields)


class _MqttProcessDoor:
    """Runs `MqttIngest` in a spawned child; a reader thread here submits what it sends.

    The pipe is the only queue between them: when the pipeline is slower than the door the
    pipe fills, the child's send blocks, its paho thread stops reading, and the broker holds
    the rest (QoS 1), as with the door in process.
    """

    def __init__(
        self, pipeline: Pipeline, settings: MqttSettings, coalesce_max: int = 5000
    ) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self.coalesce_max = coalesce_max
        ctx = mp.get_context("spawn")  # a fork would copy the parent's threads' locks
        self._recv, send = ctx.Pipe(duplex=False)
        self._ready, self._stop = ctx.Event(), ctx.Event()
        c = pipeline.context
        self._process = ctx.Process(
            target=_door_process,
            args=(send, c.frame.crs.to_wkt(), dict(c.sensors), c.area, c.limits, settings,
                  self._ready, self._stop),
            name="limes-mqtt-door", daemon=True,
        )  # fmt: skip
        self._send = send
        self._reader = threading.Thread(target=self._read, name="limes-mqtt-reader", daemon=True)

    def start(self, wait_s: float) -> bool:
        self._process.start()
        self._send.close()  # the child holds the sending end now
        self._reader.start()
        return bool(self._ready.wait(wait_s))

    def wait_ready(self, timeout: float | None = None) -> bool:
        return bool(self._ready.wait(timeout))

    def _read(self) -> None:
        # When the pipeline is behind, whatever waits in the pipe is submitted as one batch
        # (up to `coalesce_max` detections): fewer, larger tracker updates cost less per
        # detection, so a backlog is worked off faster; when it keeps up, nothing waits.
        done = False
        while not done:
            rows: list[tuple[Any, ...]] = []
            block = True
            while block or (len(rows) < self.coalesce_max and self._recv.poll()):
                block = False
                try:
                    kind, payload = pickle.loads(self._recv.recv_bytes())
                except (EOFError, OSError):
                    done = True
                    break
                if kind == _DONE:
                    done = True
                    break
                if kind == _DETECTIONS:
                    rows += payload
                else:
                    self.pipeline.reject(payload)
            if rows:
                try:
                    self.pipeline.submit([detection_from_tuple(r) for r in rows])
                except Exception:
                    log.exception("detections from the MQTT door process not handed over")

    def stop(self) -> None:
        self._stop.set()
        self._reader.join(30.0)
        self._process.join(30.0)
        if self._process.is_alive():
            self._process.terminate()
        self._recv.close()

"""`limes serve`: the one process a watch floor runs all day.

```
MQTT (QoS 1, persistent session) ─► door ─► inbox ─► committer ─► Pipeline (dedup, tracker,
CoT TCP/UDP ──────────────────────────────────────────►   │        rules) ─► bus ─► Outputs
HTTP API (POST ingest) ───────────────────────────────────┘                           │
                              store transaction ◄───────────────────────────────────────┘
                              then MQTT acks; API + live stream + map read the store
```

Start-up order: database (migrated), scenario, plan; recovery (replay of the stored recent
detections, see `limes.service.recovery`); the committer; the doors; the HTTP server. Shutdown
on SIGTERM/SIGINT reverses it: the HTTP server stops, the doors stop taking messages, the
committer handles what is queued, flushes the tracker, stores and acknowledges, and the
process exits 0. A hard kill loses nothing that was acknowledged and nothing the broker still
holds (docs/operations.md, "Restart safety").
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import signal
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI

from limes.api.app import create_app
from limes.api.services import ChangeSignal, IngestHandoff
from limes.api.settings import Settings
from limes.errors import LimesError, ServiceError
from limes.ops.dispatch import DispatchConfig
from limes.ops.ingest.context import ingest_context, utc_now
from limes.ops.ingest.cot_server import CotLimits
from limes.ops.pipeline import Pipeline
from limes.ops.plan_lookup import PlanLookup, SeverityPolicy
from limes.ops.threat import ThreatBoard
from limes.ops.tracker import TrackerConfig
from limes.ops.tracker.tracker import warm_up as load_tracker_kernels
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario
from limes.service.committer import Committer, Outputs
from limes.service.config import (
    MQTT_PASSWORD_ENV,
    MQTT_USERNAME_ENV,
    ServiceConfig,
    parse_address,
)
from limes.service.cot_tls import CotTlsDoor, server_tls_context
from limes.service.door import Message, MqttDoor
from limes.service.gc_pauses import GcPauses, tune_gc
from limes.service.logs import configure_logging
from limes.service.recovery import Recovered, recover
from limes.service.share_cot import ShareCotThread
from limes.service.snapshot import Snapshots
from limes.share.context import ShareContext
from limes.share.cot_out import CotOutServer
from limes.store.database import Database, connect
from limes.store.migrate import migrate
from limes.store.writer import StoreWriter

if TYPE_CHECKING:
    from limes.federation.detection_outbox import DetectionOutbox
    from limes.federation.runner import FederationRunner
    from limes.federation.worker_pool import WorkerPool

log = logging.getLogger("limes.serve")


class Service:
    """Everything `limes serve` runs, startable and stoppable in process (tests, notebooks)."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        tracker_config: TrackerConfig | None = None,
        dispatch_config: DispatchConfig | None = None,
    ) -> None:
        self.config = config
        base = tracker_config or TrackerConfig()
        # Track ids from the first detection's key: a replay names every track as before.
        self.tracker_config = dataclasses.replace(
            base, track_ids="detection", reorder_window_s=config.reorder_window_s,
            scan_window_s=config.scan_window_s,
        )  # fmt: skip
        self.dispatch_config = dispatch_config or DispatchConfig()
        self.scenario: Scenario | None = None
        self.db: Database | None = None
        self.pipeline: Pipeline | None = None
        self.writer: StoreWriter | None = None
        self.committer: Committer | None = None
        self.door: MqttDoor | None = None
        self.app: FastAPI | None = None
        self.recovered: Recovered | None = None
        self.cot_tls: CotTlsDoor | None = None
        self.snapshots: Snapshots | None = None
        self.share_cot: ShareCotThread | None = None
        self.share: ShareContext | None = None
        self.threats = ThreatBoard()
        self.signal = ChangeSignal()
        self._server: uvicorn.Server | None = None
        self._server_thread: threading.Thread | None = None
        self._inbox: queue.Queue[Message] = queue.Queue(config.queue_messages)
        self._outputs = Outputs()
        self.gc_pauses = GcPauses()
        self.federation: FederationRunner | None = None  # started with --federation
        self.outbox: DetectionOutbox | None = None  # started with --partitions
        self.workers: WorkerPool | None = None  # started with --partitions --workers N

    # -- start ---------------------------------------------------------------------------------

    def start(self, wait_s: float = 30.0) -> None:
        """Start everything in order; returns when the inputs and the HTTP server are up."""
        cfg = self.config
        self.scenario = load_scenario(str(cfg.scenario))  # its errors say what and where
        plan = _load_plan(cfg.plan)
        self.db = connect(cfg.database_url)
        migrate(self.db)
        log.info("store ready", extra={"database": self.db.url})
        sc = self.scenario
        # One clock for ingest checks, the tracker's tick and change times: the exercise
        # clock when one is configured, else the wall clock.
        clock = cfg.exercise_clock()
        now = clock.now if clock is not None else utc_now
        pace = cfg.clock_speed if clock is not None else 1.0
        # Intelligence reports raise sector threat levels; alert severity reads the same board.
        self.threats = ThreatBoard()
        # With --partitions the tracker workers track; this process checks, stores, publishes.
        tracking = cfg.partitions is None
        self.pipeline = Pipeline(
            sc, self.tracker_config, plan, context=ingest_context(sc, clock=now),
            severity=SeverityPolicy(threat=self.threats), tracking=tracking,
        )  # fmt: skip
        # One sharing context (feed, threat board) for the API's TAXII and the CoT out streams.
        self.share = ShareContext.for_scenario(self.db, sc, board=self.threats, clock=now)
        self.share.refresh_threat()
        self.writer = StoreWriter(self.db, sc.frame, clock=now, on_commit=self.signal.notify)
        self._outputs.subscribe(self.pipeline.bus)
        # The tracker's kernels first (compiled or loaded from cache), then its state: the
        # newest snapshot, and a replay of only what was stored after it.
        if tracking:
            load_tracker_kernels()
            self.snapshots = Snapshots(
                self.db, self.pipeline, cfg.snapshot_s, cfg.snapshot_detections
            )
            loaded = self.snapshots.load(cfg.recover_s) if cfg.snapshot_s is not None else None
            self.recovered = recover(
                self.pipeline, self.writer, self._outputs, cfg.recover_s,
                after_id=loaded.detection_id if loaded is not None else 0,
            )  # fmt: skip
        self.door = self._make_door()
        self.committer = Committer(
            self.pipeline, self.writer, self._inbox, self._outputs,
            self.door.ack if self.door else _no_ack,
            batch_messages=cfg.batch_messages, batch_wait_s=cfg.batch_wait_s,
            tick_s=cfg.tick_s, tick_lag_s=cfg.tick_lag_s * pace, retry_s=cfg.retry_s,
            retry_max_s=cfg.retry_max_s, quarantine_file=cfg.quarantine_file,
            track_store_s=cfg.track_store_s, snapshots=self.snapshots,
        )  # fmt: skip
        self.gc_pauses.start()
        self.committer.start()
        if self.door is not None:
            self.door.start()
            if not self.door.wait_ready(wait_s):
                log.warning("MQTT broker %s not ready; the door keeps trying", cfg.mqtt)
        if cfg.cot_port is not None:
            self.pipeline.start_inputs(
                cot_tcp_port=cfg.cot_port, cot_udp_port=cfg.cot_port, cot_host=cfg.cot_host,
                cot_options={"limits": self._cot_limits(), "paused": self._store_behind},
            )  # fmt: skip
        if cfg.cot_tls_port is not None:
            self.cot_tls = self._make_cot_tls()
            self.cot_tls.start(wait_s)
        if cfg.share_cot_port is not None:
            self._start_share_cot(wait_s)
        if cfg.http is not None:
            self._start_http(wait_s)
        if cfg.partitions is not None and cfg.site is not None:
            # Imported here: a service that tracks in process never loads NATS.
            from limes.federation.detection_outbox import DetectionOutbox

            self.outbox = DetectionOutbox(self.db, sc, cfg.site, cfg.partitions)
            self.outbox.start()
            if cfg.workers:
                self.workers = _worker_pool(cfg, cfg.site, cfg.partitions)
                self.workers.start()
        if cfg.federation is not None and cfg.site is not None:
            # Imported here: a service that is no site of a federation never loads NATS.
            from limes.federation.deployment import load_deployment
            from limes.federation.runner import FederationRunner

            self.federation = FederationRunner.start(
                self._share_context(now), load_deployment(cfg.federation), cfg.site, clock=now
            )
        log.info("limes serve started", extra=self.addresses())

    def _start_share_cot(self, wait_s: float) -> None:
        """The partners' CoT out streams, on the CoT door's certificate and CA."""
        cfg = self.config
        assert self.share is not None and cfg.share_cot_port is not None
        context = self._cot_tls_context()
        self.share_cot = ShareCotThread(
            CotOutServer(self.share, context, host=cfg.cot_host, port=cfg.share_cot_port)
        )
        self.share_cot.start(wait_s)

    def _share_context(self, now: Callable[[], datetime]) -> ShareContext:
        """The one sharing side of this service (TAXII, CoT out and federation read it)."""
        if self.share is None:
            assert self.db is not None
            self.share = ShareContext.for_scenario(
                self.db, self.scenario, board=self.threats, clock=now
            )
        return self.share

    def _cot_limits(self) -> CotLimits:
        cfg = self.config
        return CotLimits(
            max_connections=cfg.cot_max_connections, max_per_peer=cfg.cot_max_per_peer,
            idle_timeout_s=cfg.cot_idle_timeout_s, event_deadline_s=cfg.cot_event_deadline_s,
        )  # fmt: skip

    def _store_behind(self) -> bool:
        """Whether the doors that cannot answer their senders should hold back (see
        `Committer.trouble`)."""
        return self.committer is not None and self.committer.trouble() is not None

    def _cot_tls_context(self) -> ssl.SSLContext:
        """The CoT TLS server context (the door's and the partners' streams' alike)."""
        cfg = self.config
        assert cfg.cot_tls_cert and cfg.cot_tls_key and cfg.cot_tls_client_ca
        try:
            return server_tls_context(cfg.cot_tls_cert, cfg.cot_tls_key, cfg.cot_tls_client_ca)
        except (OSError, ValueError) as error:
            raise ServiceError(f"CoT TLS certificate, key or client CA: {error}") from None

    def _make_cot_tls(self) -> CotTlsDoor:
        cfg = self.config
        assert self.pipeline is not None and cfg.cot_tls_port is not None
        context = self._cot_tls_context()
        return CotTlsDoor(
            self.pipeline, context, host=cfg.cot_host, port=cfg.cot_tls_port,
            limits=self._cot_limits(), paused=self._store_behind,
        )  # fmt: skip

    def _make_door(self) -> MqttDoor | None:
        cfg = self.config
        if cfg.mqtt is None:
            return None
        assert self.pipeline is not None
        host, port = parse_address(cfg.mqtt, "--mqtt")
        return MqttDoor(
            self.pipeline.context, self._inbox, host=host, port=port,
            client_id=cfg.mqtt_client_id, topic_prefix=cfg.mqtt_topic_prefix,
            username=cfg.mqtt_username or os.environ.get(MQTT_USERNAME_ENV),
            password=cfg.mqtt_password or os.environ.get(MQTT_PASSWORD_ENV),
            tls=_mqtt_tls(cfg),
        )  # fmt: skip

    def build_app(self) -> FastAPI:
        """The API (store, scenario, HTTP ingest into the pipeline), dispatch routes and map."""
        assert self.db is not None and self.pipeline is not None and self.writer is not None
        pipeline = self.pipeline
        committer = self.committer

        def take(items: list[Any]) -> None:
            pipeline.submit(items, deduplicated=True)

        def stored(timeout: float) -> bool:
            return committer is None or committer.wait_stored(timeout)

        def trouble() -> str | None:
            return None if committer is None else committer.trouble()

        # People's actions are stamped on the system's one clock (the exercise's, if any).
        exercise = self.config.exercise_clock()
        app = create_app(
            Settings(database_url=self.config.database_url, migrate=False),
            db=self.db,
            scenario_obj=self.scenario,
            writer=self.writer,
            ingest_context=pipeline.context,
            ingest_handoff=IngestHandoff(
                take,
                pipeline.reject,
                pipeline.dedup,
                trouble=trouble,
                stored=stored,
                store_wait_s=self.config.store_wait_s,
            ),
            signal=self.signal,
            extra_metrics=self.metrics_text,
            threat_board=self.threats,
            share_context=self.share,
            dispatch_config=self.dispatch_config,
            clock=exercise.now if exercise is not None else None,
            clock_speed=self.config.clock_speed if exercise is not None else 1.0,
        )
        _mount_web(app, _assessment_folders(self.config))
        return app

    def _start_http(self, wait_s: float) -> None:
        assert self.config.http is not None
        host, port = parse_address(self.config.http, "--http")
        self.app = self.build_app()
        server = uvicorn.Server(
            uvicorn.Config(self.app, host=host, port=port, log_config=None, access_log=False)
        )
        # The server runs in its own thread, where uvicorn installs no signal handlers: the
        # main thread keeps them, so shutdown is ours (stop inputs, drain, flush, exit 0).
        self._server = server
        self._server_thread = threading.Thread(target=server.run, name="limes-http", daemon=True)
        self._server_thread.start()
        deadline = time.monotonic() + wait_s
        while not server.started:
            if not self._server_thread.is_alive():
                raise ServiceError(f"--http {self.config.http}: the HTTP server did not start")
            if time.monotonic() > deadline:
                raise ServiceError(f"--http {self.config.http}: not listening after {wait_s} s")
            time.sleep(0.02)

    # -- running -------------------------------------------------------------------------------

    def addresses(self) -> dict[str, Any]:
        """Where the service listens (ports chosen by the system included)."""
        out: dict[str, Any] = {"mqtt": self.config.mqtt}
        if self._server is not None and self._server.servers:
            sock = self._server.servers[0].sockets[0].getsockname()
            out["http"] = f"{sock[0]}:{sock[1]}"
        if self.pipeline is not None and self.pipeline.cot is not None:
            out["cot_tcp"] = str(self.pipeline.cot.tcp_address)
            out["cot_udp"] = str(self.pipeline.cot.udp_address)
        if self.cot_tls is not None:
            out["cot_tls"] = str(self.cot_tls.server.tcp_address)
        if self.share_cot is not None:
            out["share_cot"] = "{}:{}".format(*self.share_cot.address)
        return out

    def figures(self) -> dict[str, Any]:
        """Counts and latency since start (logged at shutdown; read by the benchmark)."""
        c = self.committer
        out: dict[str, Any] = {}
        if c is not None:
            out.update(vars(c.stats))
            out.update({k: v for k, v in vars(c.isolator.stats).items() if k != "lock"})
            out["store_trouble"] = int(c.trouble() is not None)
            out["alerts_timed"] = c.latency.count
            out.update({f"alert_latency_{k}_s": v for k, v in c.latency.quantiles().items()})
            # Without the first seconds of alerting: a floor switched on with every target
            # already in view confirms them all in one scan, a burst no later minute sees.
            first = c.latency.first
            if first is not None:
                later = c.latency.quantiles(after=first + self.config.alert_warmup_s)
                out.update({f"alert_latency_later_{k}_s": v for k, v in later.items()})
        if self.pipeline is not None and self.pipeline.cot is not None:
            out.update({f"cot_{k}": v for k, v in self.pipeline.cot.stats.as_dict().items()})
        if self.cot_tls is not None:
            out.update({f"cot_tls_{k}": v for k, v in self.cot_tls.server.stats.as_dict().items()})
        if self.snapshots is not None:
            out["snapshots_saved"] = self.snapshots.saved
            out["snapshot_failures"] = self.snapshots.failures
            out["snapshot_last_s"] = self.snapshots.last_s
        out.update(self.gc_pauses.figures())
        if self.recovered is not None:
            out["recovered_detections"] = self.recovered.detections
        if self.outbox is not None:
            out["partitions_published"] = self.outbox.stats.published
            out["partitions_cursor"] = self.outbox.stats.cursor
        if self.workers is not None:
            out["workers_alive"] = self.workers.alive()
            out["worker_restarts"] = self.workers.restarts
        return out

    def metrics_text(self) -> str:
        """Prometheus text for /api/metrics: the pipeline's metrics and the committer's."""
        text = self.pipeline.metrics.render() if self.pipeline is not None else ""
        lines = [text.rstrip("\n")] if text else []
        for name, value in self.figures().items():
            if isinstance(value, int | float):
                lines.append(f"# TYPE limes_service_{name} gauge")
                lines.append(f"limes_service_{name} {value}")
        return "\n".join(lines) + "\n"

    # -- stop ----------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop in reverse order; everything taken in is stored and acknowledged first."""
        if self.federation is not None:
            self.federation.stop()
        if self._server is not None:
            self._server.should_exit = True
            if self._server_thread is not None:
                self._server_thread.join(30.0)
        services = getattr(self.app.state, "services", None) if self.app is not None else None
        if services is not None and services.advice is not None:
            services.advice.close()  # the travel fields warming after the relief stop here
        web = getattr(self.app.state, "web", None) if self.app is not None else None
        if web is not None:
            # Joined, not abandoned: a thread left inside a compiled kernel when the
            # interpreter exits aborts the process ("terminate called ...").
            web.close()
        if self.door is not None:
            self.door.close_intake()
        if self.pipeline is not None:
            self.pipeline.stop()  # CoT and ticker
        if self.cot_tls is not None:
            self.cot_tls.stop()
        if self.share_cot is not None:
            self.share_cot.stop()
        if self.committer is not None:
            self.committer.stop()
        if self.outbox is not None:
            self.outbox.stop()  # what it has not published yet goes at the next start
        if self.workers is not None:
            self.workers.stop()  # after the outbox: what it published, they may still take
        if self.door is not None:
            self.door.stop()
        self.gc_pauses.stop()
        log.info("limes serve stopped", extra=self.figures())
        if self.db is not None:
            self.db.dispose()


def _worker_pool(cfg: ServiceConfig, site: str, nats_url: str) -> WorkerPool:
    """The --workers child processes of a --partitions service."""
    from limes.federation.worker_pool import WorkerPool, worker_command

    return WorkerPool([
        worker_command(str(cfg.scenario), site, cfg.database_url, nats_url, i, cfg.workers)
        for i in range(cfg.workers)
    ])  # fmt: skip


def _mqtt_tls(cfg: ServiceConfig) -> ssl.SSLContext | None:
    """The client TLS context for the broker (None: plain TCP)."""
    if cfg.mqtt_tls_ca is None:
        return None
    try:
        context = ssl.create_default_context(cafile=cfg.mqtt_tls_ca)
        if cfg.mqtt_tls_cert is not None:
            context.load_cert_chain(cfg.mqtt_tls_cert, cfg.mqtt_tls_key)
    except (OSError, ssl.SSLError) as error:
        raise ServiceError(f"MQTT TLS CA, certificate or key: {error}") from None
    return context


def _no_ack(mid: int, qos: int) -> None:
    """Messages that did not come over MQTT need no acknowledgement."""


def _load_plan(path: str | Path | None) -> PlanLookup | None:
    if path is None:
        return None
    try:
        return PlanLookup.load(path)
    except (LimesError, OSError) as error:
        raise ServiceError(f"--plan {path}: {error}") from None


def _assessment_folders(config: ServiceConfig) -> list[Path]:
    """The assessment folders for the planner view: those named, and the plan's own."""
    folders = [Path(p) for p in config.assessments]
    if config.plan is not None:
        plan = Path(config.plan)
        folders.append(plan if plan.is_dir() else plan.parent)
    return list(dict.fromkeys(f.resolve() for f in folders))


def _mount_web(app: FastAPI, assessments: Sequence[Path] = ()) -> None:
    try:
        from limes.web.mount import mount_web

        mount_web(app, assessments=assessments)
    except LimesError as error:  # the API keeps serving the watch floor without its map
        log.warning("the operations map is not served: %s", error)


def serve(
    config: ServiceConfig,
    *,
    ready: Callable[[Service], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run `limes serve` until SIGTERM or SIGINT (or `stop` is set); then shut down cleanly.

    Blocking. On the main thread it takes SIGTERM and SIGINT for the run (and gives the old
    handlers back after); elsewhere it installs none (Python allows signal handlers only on
    the main thread) and stops when `stop` is set. `ready(service)` is called once started.
    """
    configure_logging(config.log_json, config.log_level)
    stop = stop or threading.Event()
    on_main = threading.current_thread() is threading.main_thread()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: shutting down", signal.Signals(signum).name)
        stop.set()

    previous = (
        {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)} if on_main else {}
    )
    service = Service(config)
    try:
        service.start()
        if config.tune_gc and on_main:
            tune_gc()  # this process is the service's own: its start-up objects are for good
        if ready is not None:
            ready(service)
        stop.wait()
    finally:
        service.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)

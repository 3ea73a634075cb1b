"""Exercises driven from the command line: `limes simulate` through a door, and `limes demo`.

- `Door`: where an exercise's reports go (nowhere, the live pipeline in this process, HTTP,
  MQTT, Cursor-on-Target) and which API its alerts are read back from for the scorecard.
- `PipelineSender`: the live pipeline in this process, fed through the live JSON reader
  (`senders.json_door`); refused reports become its dead letters, its alerts the scorecard's.
- `run_exercise`: `simulate` through a door, with the live system's alerts in the scorecard.
- `plan_from_summary`: the plan an exercise reads, from the files `limes assess` wrote.
- `run_demo`: `limes demo` — the service on its embedded defaults (SQLite file, in-process
  bus, no broker) with a live exercise fed into it, until SIGTERM or Ctrl-C.

This module wires the simulator to the live system the way an operator would; the simulator
itself (`limes.sim.run`) still reaches the live system only through its inputs.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np

from limes.analysis.result import Assessment, CrossingPath, KmResult, Run, Weakness
from limes.errors import SimError
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode
from limes.sim.clock import MAX_SPEED, SimClock
from limes.sim.config import SimConfig
from limes.sim.dispatcher import ApiDispatchConfig, ApiDispatcher, ApiDispatchError, pursue
from limes.sim.emission import Emission
from limes.sim.outputs import write_outputs
from limes.sim.run import Progress, SimulationError, SimulationResult, send_emissions, simulate
from limes.sim.scorecard import AlertLike, score
from limes.sim.senders import (
    TOPIC_PREFIX,
    CotSender,
    HttpSender,
    MqttSender,
    Sender,
    json_door,
)

if TYPE_CHECKING:
    from limes.ops.alert import Alert
    from limes.ops.pipeline import Pipeline
    from limes.ops.plan_lookup import PlanLookup
    from limes.service.run import Service

DOOR_KINDS = ("none", "in-process", "http", "mqtt", "cot", "cot-udp")


# --- the live pipeline in this process ------------------------------------------------------


class SentClock:
    """The present of an unpaced in-process exercise: the simulated time of the latest report
    handed over, so a run as fast as possible is never ahead of the receiving clock."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.sent_s = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.sent_s)


class PipelineSender:
    """Sends reports through the live JSON reader into a `Pipeline` in this process.

    Refused reports go to the pipeline's `reject` (counted, dead-lettered); what `submit`
    returns (alerts) goes back to the scorecard. `close` flushes the tracker's reorder buffer
    when `flush_on_close` (a pipeline of its own); its alerts are kept in `flushed`.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        clock: SentClock | None = None,
        flush_on_close: bool = True,
        source: str = "sim",
    ) -> None:
        self.pipeline = pipeline
        self.clock = clock
        self.flush_on_close = flush_on_close
        self._door = json_door(pipeline.context, pipeline.submit, source)
        self.flushed: list[Alert] = []
        self.sent = 0
        self.rejected = 0

    @classmethod
    def standalone(
        cls, scenario: Scenario, start: datetime, plan: PlanLookup | None = None
    ) -> PipelineSender:
        """A pipeline of its own (no store), its ingest clock following the reports sent."""
        from limes.ops.ingest_context import ingest_context
        from limes.ops.pipeline import Pipeline

        clock = SentClock(start)
        pipeline = Pipeline(scenario, plan=plan, context=ingest_context(scenario, clock=clock.now))
        return cls(pipeline, clock=clock)

    def open(self) -> None:
        return None

    def send(self, batch: Sequence[Emission]) -> list[Any]:
        if self.clock is not None and batch:
            self.clock.sent_s = max(self.clock.sent_s, max(e.send_s for e in batch))
        refused: list[Any] = getattr(self._door, "rejected")  # noqa: B009 (set by json_door)
        before = len(refused)
        alerts = self._door(batch)
        for rejection in refused[before:]:
            self.pipeline.reject(rejection)
        self.rejected += len(refused) - before
        del refused[:]  # counted and handed on; keep nothing for a long run
        self.sent += len(batch)
        return alerts

    def close(self) -> None:
        if self.flush_on_close:
            self.flushed = self.pipeline.flush()


# --- doors and read-back ----------------------------------------------------------------------


@dataclass(frozen=True)
class Door:
    """Where an exercise's reports go, and the live system's API its alerts are read from.

    `kind`: `none` (kept and written only), `in-process` (a pipeline of its own, here),
    `http` (`address` is the API's base URL, `token` a sensor token for every sensor of the
    scenario), `mqtt` / `cot` / `cot-udp` (`address` HOST:PORT). `api` and `token`: read the
    live system's alerts back after the run (a token of a viewer or above).
    """

    kind: str = "none"
    address: str | None = None
    api: str | None = None
    token: str | None = None
    topic_prefix: str = TOPIC_PREFIX
    client_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DOOR_KINDS:
            raise SimulationError(f"door must be one of {', '.join(DOOR_KINDS)}, not {self.kind!r}")
        if self.remote and not self.address:
            raise SimulationError(f"a {self.kind} door needs an address")
        if (self.kind == "http" or self.api) and not self.token:
            raise SimulationError("the live system's API needs a token (--token)")

    @property
    def remote(self) -> bool:
        """Reports leave this process for a live system with a clock of its own."""
        return self.kind not in ("none", "in-process")

    def sender(
        self, scenario: Scenario, start: datetime, plan: PlanLookup | None = None
    ) -> Sender | None:
        """The sender for this door (None for `none`)."""
        from limes.service.config import parse_address

        if self.kind == "none":
            return None
        if self.kind == "in-process":
            return PipelineSender.standalone(scenario, start, plan)
        assert self.address is not None
        if self.kind == "http":
            assert self.token is not None
            return PacedPoster(HttpSender(self.address, self.token))
        host, port = parse_address(self.address, f"--{self.kind.removesuffix('-udp')}")
        if self.kind == "mqtt":
            return MqttSender(host, port, client_id=self.client_id, topic_prefix=self.topic_prefix)
        return CotSender(host, port, udp=self.kind == "cot-udp")


class ReadBackError(SimError):
    """The live system's alerts could not be read (the message says why)."""


@dataclass(frozen=True)
class LiveAlert:
    """An alert as the API lists it: what the scorecard matches, and what it was."""

    time: datetime
    lon: float
    lat: float
    rule: str
    track_id: str
    incident_id: int | None


def read_alerts(
    api: str, token: str, since: datetime, until: datetime, *, timeout_s: float = 10.0
) -> list[LiveAlert]:
    """Every alert the live system stored with `since` ≤ time < `until`, oldest first."""
    import httpx

    url = api.rstrip("/") + "/api/alerts"
    params: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat(), "limit": 1000}
    found: list[LiveAlert] = []
    with httpx.Client(timeout=timeout_s, headers={"Authorization": f"Bearer {token}"}) as client:
        while True:
            try:
                resp = client.get(url, params=params)
            except httpx.HTTPError as exc:
                raise ReadBackError(f"GET {url} failed: {exc}") from None
            if resp.status_code in (401, 403):
                raise ReadBackError(
                    f"GET {url}: {resp.status_code}: the token may not read alerts "
                    "(give one of a viewer or above)"
                )
            if resp.status_code >= 400:
                raise ReadBackError(f"GET {url}: {resp.status_code} {resp.text[:300]}")
            page = resp.json()
            for a in page["items"]:
                time_ = datetime.fromisoformat(a["time"])
                where = float(a["lon"]), float(a["lat"])
                found.append(LiveAlert(time_, *where, a["rule"], a["track_id"], a["incident_id"]))
            if not page.get("next_cursor"):
                break
            params["cursor"] = page["next_cursor"]
    found.sort(key=lambda a: a.time)
    return found


# --- one exercise through a door ----------------------------------------------------------------


def run_exercise(
    scenario: Scenario,
    hours: float,
    speed: float | None = None,
    seed: int = 0,
    door: Door | None = None,
    out_dir: str | Path | None = None,
    assessment: Assessment | None = None,
    progress: Progress | None = None,
    *,
    config: SimConfig | None = None,
    start: datetime | None = None,
    plan: PlanLookup | None = None,
    settle_s: float = 15.0,
    dispatch: str = "internal",
    dispatch_token: str | None = None,
    dispatch_config: ApiDispatchConfig | None = None,
) -> SimulationResult:
    """`simulate` through a door; the scorecard counts the live system's alerts.

    A remote door is paced by the shared `ExerciseClock(start, speed)`: the live system must
    run on the same (`limes serve --exercise-start START --exercise-speed SPEED`), or on the
    wall clock with `speed=1` and `start` the present. In process, the pipeline's clock follows
    the reports sent, at any speed. With `door.api`, the alerts stored from `start` on are read
    back `settle_s` (wall seconds) after the last report, so the live system has released what
    its tracker still held. `plan` sets the in-process pipeline's alert severities.

    `dispatch`: "internal" (the simulator's own dispatcher, from ground truth) or "api": the
    live system's incidents are worked through its API (`door.api`, else an HTTP door's
    address) with `dispatch_token`, a
    commander's (`ApiDispatcher`), and the units sent move, report and intercept in the run
    (`limes.sim.dispatcher.pursue`, `dispatch_config`); needs a remote door.
    """
    from limes.service.config import ExerciseClock

    door = door or Door()
    cfg = config or SimConfig()
    if start is not None:
        cfg = replace(cfg, start=start)
    if not (isinstance(settle_s, int | float) and 0 <= settle_s <= 3600):
        raise SimulationError(f"settle must be within 0 … 3600 s, got {settle_s!r}")
    clock: SimClock | None = None
    if door.remote:
        if speed is None:
            raise SimulationError(
                "sending to a live system needs a speed (1 for real time; faster only when the "
                "live system runs on the same exercise clock)"
            )
        try:
            clock = ExerciseClock(cfg.start, speed)
        except ValueError as exc:
            raise SimulationError(str(exc)) from None
    sender = door.sender(scenario, cfg.start, plan)
    if dispatch not in ("internal", "api"):
        raise SimulationError(f"dispatch must be 'internal' or 'api', not {dispatch!r}")
    if dispatch == "api":
        # An HTTP door's address is the live system's API; another door names it in `api`.
        api = door.api or (door.address if door.kind == "http" else None)
        if not door.remote or api is None or clock is None or sender is None:
            raise SimulationError(
                "dispatch through the API needs a live system: a remote door and its API (--api)"
            )
        if not dispatch_token:
            raise SimulationError("dispatch through the API needs a commander's token")
        result = _run_dispatched(
            scenario, hours, seed, sender, clock, api, dispatch_token, dispatch_config,
            assessment, progress, cfg,
        )  # fmt: skip
    else:
        result = simulate(
            scenario, hours, speed, seed, sender, out_dir, assessment, progress,
            config=cfg, clock=clock,
        )  # fmt: skip
    notes: list[str] = []
    alerts: list[AlertLike] | None = None
    if isinstance(sender, PipelineSender):
        # Every alert of the pipeline is known here, none included.
        alerts = [*result.alerts, *sender.flushed]
        if sender.rejected:
            notes.append(f"{sender.rejected} reports refused by the live JSON reader")
    if door.api is not None and door.token is not None:
        if progress is not None:
            progress("settle", 0, 1)
        time.sleep(settle_s)
        until = cfg.start + timedelta(seconds=hours * 3600.0 + cfg.alert_match_s)
        try:
            alerts = list(read_alerts(door.api, door.token, cfg.start, until))
        except ReadBackError as exc:
            notes.append(f"alerts not read back: {exc}")
    if alerts is None and not notes and dispatch == "internal":
        return result
    # Dispatched through the API, the run was scored before its units caught anyone.
    return rescore(result, scenario, alerts, assessment, out_dir, notes)


def _run_dispatched(
    scenario: Scenario,
    hours: float,
    seed: int,
    sender: Sender,
    clock: SimClock,
    api: str,
    token: str,
    dispatch_config: ApiDispatchConfig | None,
    assessment: Assessment | None,
    progress: Progress | None,
    cfg: SimConfig,
) -> SimulationResult:
    """The run made without the internal dispatcher, sent with units dispatched via the API."""
    made = simulate(
        scenario, hours, None, seed, None, None, assessment, progress,
        config=replace(cfg, dispatch=False),
    )  # fmt: skip
    dispatcher = ApiDispatcher(api, token)
    try:
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(8)[7])
        done = pursue(scenario, made.actors, made.emissions, sender, clock, dispatcher,
                      dispatch_config, rng, begin_s=0.0)  # fmt: skip
    except ApiDispatchError as exc:
        raise SimulationError(f"dispatch through the API: {exc}") from None
    finally:
        dispatcher.close()
    return replace(made, emissions=done.sent, dispatches=done.dispatches, units=done.tracks,
                   alerts=done.alerts)  # fmt: skip


def rescore(
    result: SimulationResult,
    scenario: Scenario,
    alerts: Sequence[AlertLike] | None,
    assessment: Assessment | None = None,
    out_dir: str | Path | None = None,
    notes: Sequence[str] = (),
) -> SimulationResult:
    """The result scored again with these alerts and extra notes; its files rewritten."""
    card = score(
        scenario, result.actors, result.emissions, result.dispatches, result.hours,
        result.seed, result.config, assessment, alerts,
    )  # fmt: skip
    card.notes.extend(notes)
    out = replace(result, scorecard=card, alerts=list(alerts or []))
    if out_dir is not None:
        cfg = result.config
        out.files = write_outputs(
            out_dir, scenario, card, result.actors, result.units, result.emissions,
            result.hours * 3600.0, cfg.truth_step_s,
        )  # fmt: skip
    return out


class PacedPoster:
    """Hands batches to a sender at most once every `every_s` wall seconds, merging what comes
    in between (sent by a timer at the latest `every_s` after the last), so an accelerated run
    stays within a door's request rate: the API's ingest allows 20 requests a second per sensor
    token by default, and a run at ×600 makes 600 one-second batches a wall second."""

    def __init__(self, inner: Sender, every_s: float = 0.1) -> None:
        self.inner = inner
        self.every_s = every_s
        self._held: list[Emission] = []
        self._last = -math.inf
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._error: BaseException | None = None

    def open(self) -> None:
        self.inner.open()

    def send(self, batch: Sequence[Emission]) -> None:
        self._raise_error()
        with self._lock:
            self._held.extend(batch)
            due = self._last + self.every_s - time.monotonic()
            if due <= 0:
                self._pass_on()
            elif self._timer is None:
                self._timer = threading.Timer(due, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
        try:
            with self._lock:
                self._pass_on()
        finally:
            self.inner.close()
        self._raise_error()

    def _pass_on(self) -> None:
        held, self._held = self._held, []
        self._last = time.monotonic()
        if held:
            self.inner.send(held)

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            try:
                self._pass_on()
            except BaseException as exc:  # raised in the sending thread at its next call
                self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


# --- the plan from `limes assess`'s files ---------------------------------------------------------


def plan_from_summary(path: str | Path, scenario: Scenario) -> Assessment:
    """The plan an exercise reads, from `limes assess`'s summary.json (or its folder).

    Per-km figures come from summary.json; the worst paths' geometry from worst_paths.geojson
    beside it when present (only the geometry: informed groups walk the path at their own
    pace). The scenario must be the one assessed.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        if doc.get("scenario") not in (None, scenario.name):
            raise SimulationError(
                f"{p}: an assessment of {doc['scenario']!r}, not of {scenario.name!r}"
            )
        paths = _paths_by_run(p.parent / "worst_paths.geojson", scenario)
        runs = []
        for i, r in enumerate(doc["runs"]):
            mode, light = Mode(r["mode"]), Light(r["light"])
            per_km = [_km(k) for k in r["per_km"]]
            runs.append(Run(mode, light, per_km, paths.get((mode.value, light.value), [])))
            if not per_km:
                raise SimulationError(f"{p}: runs[{i}].per_km is empty")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, SimulationError):
            raise
        why = f"{type(exc).__name__}: {exc}"
        raise SimulationError(f"{p}: not an assessment summary ({why})") from None
    return Assessment(scenario.name, float(doc.get("resolution_m") or 0.0), runs)


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _km(k: dict[str, Any]) -> KmResult:
    return KmResult(
        chainage_km=float(k["chainage_km"]), p_interruption=_num(k["p_interruption"]),
        sector=str(k.get("sector", "")), reason=Weakness(k.get("reason", "held")),
        p_detection=_num(k.get("p_detection")), coverage=_num(k.get("coverage")),
        p_easi=None if k.get("p_easi") is None else float(k["p_easi"]),
        crossing_time_s=k.get("crossing_time_s"), response_time_s=k.get("response_time_s"),
    )  # fmt: skip


def _paths_by_run(path: Path, scenario: Scenario) -> dict[tuple[str, str], list[CrossingPath]]:
    if not path.exists():
        return {}
    out: dict[tuple[str, str], list[CrossingPath]] = {}
    for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
        props = f["properties"]
        if props.get("kind") != "path" or f["geometry"]["type"] != "LineString":
            continue
        lonlat = np.asarray(f["geometry"]["coordinates"], dtype=float)
        x, y = scenario.frame.to_xy(lonlat[:, 0], lonlat[:, 1])
        n = len(lonlat)
        zeros = np.zeros(n)
        xy = np.column_stack([x, y])
        start_km = float(props["start_chainage_km"])
        p_int = _num(props.get("p_interruption"))
        path_ = CrossingPath(start_km, xy, lonlat, zeros, zeros, zeros, p_int, 0)
        out.setdefault((props["mode"], props["light"]), []).append(path_)
    return out


# --- limes demo ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoConfig:
    """What `limes demo` runs (docs/exercise.md, "limes demo").

    `speed` (30): simulated seconds per wall second. `hours` (24): simulated length of the
    exercise. `actors_per_day` (960): forty times the exercise default, so that on a border of
    hundreds of km something happens every few minutes even at night. `run_in_s` (7200): the
    exercise starts this long (simulated) before the shared present, so groups are already
    near the line: their reports arrive at once when the demo opens, and the map has tracks and
    alerts from its first minute. `make_s` (60): wall seconds allowed for making the run; the
    service's tick trails the present by the run-in plus this, so the run-in's reports are
    not too late for the tracker. `folder`: the demo's own folder, holding `demo.db` (replaced
    at each start) and the exercise's files when the run completes. `http`
    ("127.0.0.1:8080"; port 0: any free port): the API and map. `dispatch` ("api"): units
    are sent by an automatic dispatcher working the incidents through the API (a commander
    named `dispatcher`), and move, report and intercept on the map (`limes.sim.dispatcher`);
    "internal": the simulator's own dispatcher, whose units the live system never sees.
    """

    scenario: str = "iraq-syria"
    speed: float = 30.0
    seed: int = 1
    hours: float = 24.0
    http: str = "127.0.0.1:8080"
    folder: Path = Path("limes-demo")
    actors_per_day: float = 960.0
    run_in_s: float = 7200.0
    make_s: float = 60.0
    status_s: float = 30.0
    operator: str = "demo-operator"
    log_level: str = "WARNING"
    dispatch: str = "api"
    dispatcher: str = "demo-dispatcher"

    def __post_init__(self) -> None:
        if not 1.0 <= self.speed <= MAX_SPEED:
            raise SimulationError(f"speed must be within ×1 … ×{MAX_SPEED:g}, got {self.speed}")
        if not 0.0 <= self.run_in_s < self.hours * 3600.0:
            raise SimulationError(
                f"the run-in ({self.run_in_s:g} s) must be shorter than the exercise "
                f"({self.hours:g} h)"
            )
        if self.status_s <= 0:
            raise SimulationError(f"status_s must be positive, got {self.status_s}")
        if self.dispatch not in ("api", "internal"):
            raise SimulationError(f"dispatch must be 'api' or 'internal', not {self.dispatch!r}")


@dataclass
class DemoSummary:
    """What a demo did, for the closing lines."""

    reports_planned: int = 0
    reports_sent: int = 0
    alerts_stored: int = 0
    complete: bool = False
    files: dict[str, Path] = field(default_factory=dict)
    error: str | None = None


class DemoStopped(Exception):
    """Raised inside the exercise's pacing when the demo is asked to stop."""


def run_demo(
    cfg: DemoConfig,
    say: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> DemoSummary:
    """Run `limes demo` until SIGTERM/SIGINT (or `stop` is set); returns what it did.

    Starts the service (SQLite in `cfg.folder`, no broker, the exercise clock), creates an
    operator and prints the map's address and the token, then feeds a live exercise through
    the live JSON reader into the service's pipeline, paced by the same clock.
    """
    from limes.service.config import ExerciseClock, ServiceConfig
    from limes.service.logs import configure_logging
    from limes.service.run import Service
    from limes.store.accounts import add_user

    stop = stop or threading.Event()
    folder = Path(cfg.folder)
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "demo.db"
    for old in (db_path, folder / "demo.db-wal", folder / "demo.db-shm"):
        old.unlink(missing_ok=True)
    database_url = f"sqlite:///{db_path}"
    present = datetime.now(UTC).replace(microsecond=0)
    service_cfg = ServiceConfig(
        scenario=cfg.scenario, database_url=database_url, mqtt=None, http=cfg.http,
        clock_start=present, clock_speed=cfg.speed, log_level=cfg.log_level,
        tick_lag_s=cfg.run_in_s / cfg.speed + cfg.make_s,
    )  # fmt: skip
    # The exercise's own second 0 lies `run_in_s` before the present; its clock is the
    # service's (same present, same speed), so both read the same simulated time.
    sim_start = present - timedelta(seconds=cfg.run_in_s)
    pace = ExerciseClock(
        sim_start, cfg.speed, epoch=present - timedelta(seconds=cfg.run_in_s / cfg.speed),
        sleep=_interruptible(stop),
    )  # fmt: skip
    configure_logging(False, cfg.log_level)
    summary = DemoSummary()
    restore = _on_signals(stop)
    service = Service(service_cfg)
    sender: PipelineSender | None = None
    try:
        service.start()
        token = add_user(database_url, cfg.operator, "operator")
        where = service.addresses().get("http", cfg.http)
        say(f"limes demo: {cfg.scenario}, exercise clock ×{cfg.speed:g} from {_iso(present)}")
        say(f"store: {db_path}")
        say(f"map: http://{where}/")
        say(f"token: {token}")
        say(f"(operator {cfg.operator!r}: paste the token into the map's login; Ctrl-C stops)")
        assert service.pipeline is not None and service.scenario is not None
        sender = PipelineSender(service.pipeline, flush_on_close=False, source="demo")
        dispatcher = None
        if cfg.dispatch == "api":
            commander = add_user(database_url, cfg.dispatcher, "commander")
            dispatcher = ApiDispatcher(f"http://{where}", commander)
        worker = threading.Thread(
            target=_exercise,
            args=(cfg, service.scenario, sim_start, pace, sender, summary, say, dispatcher),
            name="limes-demo-exercise",
            daemon=True,
        )
        worker.start()
        _watch(cfg, service, sender, pace, summary, stop, say)
        stop.set()
        worker.join(30.0)
    finally:
        stop.set()
        service.stop()
        restore()
    summary.reports_sent = sender.sent if sender is not None else 0
    if service.committer is not None:
        summary.alerts_stored = service.committer.stats.alerts_stored
    return summary


def _exercise(
    cfg: DemoConfig,
    scenario: Scenario,
    start: datetime,
    pace: SimClock,
    sender: PipelineSender,
    summary: DemoSummary,
    say: Callable[[str], None],
    dispatcher: ApiDispatcher | None = None,
) -> None:
    """The demo's exercise thread: make the run, send it live, score it when it completes.

    With a dispatcher, units are sent through the API and intercept in the run (`pursue`).
    """
    try:
        sim_cfg = SimConfig(
            start=start, actors_per_day=cfg.actors_per_day, dispatch=dispatcher is None
        )
        made = simulate(scenario, cfg.hours, None, cfg.seed, None, config=sim_cfg)
        summary.reports_planned = len(made.emissions)
        if dispatcher is None:
            alerts = send_emissions(made.emissions, sender, pace)
        else:
            rng = np.random.default_rng(np.random.SeedSequence(cfg.seed).spawn(8)[7])
            done = pursue(scenario, made.actors, made.emissions, sender, pace, dispatcher,
                          rng=rng, begin_s=0.0)  # fmt: skip
            made = replace(made, emissions=done.sent, dispatches=done.dispatches,
                           units=done.tracks)  # fmt: skip
            alerts = done.alerts
        result = rescore(made, scenario, alerts, None, Path(cfg.folder) / "exercise")
        summary.complete = True
        summary.files = result.files
        t = result.scorecard.totals
        say(
            f"exercise complete: {t.attempted} crossings, {t.detected} detected, "
            f"{t.alerted} alerted, {t.interrupted} interrupted; scorecard in "
            f"{result.files['scorecard.html']} (still serving; Ctrl-C stops)"
        )
    except DemoStopped:
        return
    except Exception as exc:  # the service keeps serving; the user is told why the run stopped
        summary.error = f"{type(exc).__name__}: {exc}"
        say(f"the exercise stopped: {summary.error} (the service keeps serving)")
    finally:
        if dispatcher is not None:
            dispatcher.close()


def _watch(
    cfg: DemoConfig,
    service: Service,
    sender: PipelineSender,
    pace: SimClock,
    summary: DemoSummary,
    stop: threading.Event,
    say: Callable[[str], None],
) -> None:
    """Wait for the stop; say when the first alert is stored, and how things stand now and then."""
    first = False
    next_status = time.monotonic() + cfg.status_s
    while not stop.wait(0.5):
        stored = service.committer.stats.alerts_stored if service.committer is not None else 0
        if stored and not first:
            first = True
            say(f"first alert stored (exercise time {_iso(pace.now())})")
        if time.monotonic() >= next_status:
            next_status += cfg.status_s
            say(
                f"exercise time {_iso(pace.now())}: {sender.sent} of "
                f"{summary.reports_planned or '…'} reports sent, {stored} alerts stored"
            )


def _interruptible(stop: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise DemoStopped

    return sleep


def _on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set `stop` (main thread only); returns what puts them back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")

"""`limes demo`: the service on its embedded defaults with a live exercise in it.

The service runs on an SQLite file, the in-process bus and no broker; a live exercise is fed
through the live JSON reader into its pipeline, paced by the service's own exercise clock,
until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import numpy as np

from limes.api.services import Services
from limes.clock import MAX_SPEED, ExerciseClock, SimClock
from limes.exercise.in_process import PipelineSender
from limes.exercise.run import rescore
from limes.scenario.model import Scenario
from limes.service.config import ServiceConfig
from limes.service.logs import configure_logging
from limes.service.run import Service
from limes.sim.config import SimConfig
from limes.sim.dispatcher import ApiDispatcher, pursue
from limes.sim.run import SimulationError, SimulationResult, send_emissions, simulate
from limes.store.accounts import add_user


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
    ("127.0.0.1:8080"; port 0: any free port): the API and map. `dispatch` ("api"): the
    exercise's units answer through the API and move, report and intercept on the map
    (`limes.sim.dispatcher`); "internal": the simulator's own dispatcher, whose units the live
    system never sees. `auto_dispatch` (False): whether an automatic dispatcher (a commander
    named `dispatcher`) works the incidents; off, the person at the map does, and the units
    that person sends move in the exercise. `auto_dispatch_delay_s` (0, simulated): with the
    automatic dispatcher on, it takes an incident only when nobody acknowledged it for that
    long, so a person can take it first.
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
    auto_dispatch: bool = False
    auto_dispatch_delay_s: float = 0.0

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
        if self.auto_dispatch_delay_s < 0:
            raise SimulationError(
                f"auto_dispatch_delay_s must not be negative, got {self.auto_dispatch_delay_s}"
            )

    def dispatcher_says(self) -> str:
        """What the automatic dispatcher does, in words (the banner and the log say it)."""
        if self.dispatch == "internal":
            return "the simulator's own (units not on the map)"
        if not self.auto_dispatch:
            return "off: you dispatch"
        if self.auto_dispatch_delay_s > 0:
            return f"on after {self.auto_dispatch_delay_s:g} s unacknowledged"
        return "on"


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


def demo(
    cfg: DemoConfig,
    say: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> DemoSummary:
    """Run `limes demo` until SIGTERM/SIGINT (or `stop` is set); returns what it did.

    Starts the service (SQLite in `cfg.folder`, no broker, the exercise clock), creates an
    operator and prints the map's address and the token, then feeds a live exercise through
    the live JSON reader into the service's pipeline, paced by the same clock.
    """
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
        sleep=interruptible(stop),
    )  # fmt: skip
    configure_logging(False, cfg.log_level)
    summary = DemoSummary()
    restore = stop_on_signals(stop)
    service = Service(service_cfg)
    sender: PipelineSender | None = None
    try:
        service.start()
        token = add_user(database_url, cfg.operator, "operator")
        where = service.addresses().get("http", cfg.http)
        say(f"limes demo: {cfg.scenario}, exercise clock ×{cfg.speed:g} from {iso_utc(present)}")
        say(f"store: {db_path}")
        say(f"map: http://{where}/")
        say(f"token: {token}")
        say(f"(operator {cfg.operator!r}: paste the token into the map's login; Ctrl-C stops)")
        say(f"automatic dispatcher: {cfg.dispatcher_says()}")
        services = service.app.state.services if service.app is not None else None
        if services is not None:  # the map's banner says what runs
            services.exercise = {"state": "running", "speed": cfg.speed,
                                 "dispatcher": cfg.dispatcher_says()}  # fmt: skip
        assert service.pipeline is not None and service.scenario is not None
        sender = PipelineSender(service.pipeline, flush_on_close=False, source="demo")
        dispatcher = None
        if cfg.dispatch == "api":
            commander = add_user(database_url, cfg.dispatcher, "commander")
            dispatcher = ApiDispatcher(f"http://{where}", commander, auto=cfg.auto_dispatch,
                                       delay_s=cfg.auto_dispatch_delay_s)  # fmt: skip
        worker = threading.Thread(
            target=_exercise,
            args=(
                cfg,
                service.scenario,
                sim_start,
                pace,
                sender,
                summary,
                say,
                dispatcher,
                services,
            ),
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
    services: Services | None = None,
) -> None:
    """The demo's exercise thread: make the run, send it live, score it when it completes.

    With a dispatcher, units are sent through the API and intercept in the run (`pursue`).
    How it ends (complete, or stopped and why) is said in the log and on the map's banner.
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
        if services is not None and services.exercise is not None:
            services.exercise = {**services.exercise, "state": "complete",
                                 "detail": "every report sent; scorecard written"}  # fmt: skip
        summary.files = result.files
        say(completion_line(result))
    except DemoStopped:
        return
    except Exception as exc:  # the service keeps serving; the user is told why the run stopped
        summary.error = f"{type(exc).__name__}: {exc}"
        say(f"the exercise stopped: {summary.error} (the service keeps serving)")
        if services is not None and services.exercise is not None:
            detail = f"{summary.error} — no more reports are sent"
            services.exercise = {**services.exercise, "state": "stopped", "detail": detail}
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
            say(f"first alert stored (exercise time {iso_utc(pace.now())})")
        if time.monotonic() >= next_status:
            next_status += cfg.status_s
            say(
                f"exercise time {iso_utc(pace.now())}: {sender.sent} of "
                f"{summary.reports_planned or '…'} reports sent, {stored} alerts stored"
            )


def interruptible(stop: threading.Event) -> Callable[[float], None]:
    """A sleep for the exercise's pacing that ends the exercise (DemoStopped) on the stop."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise DemoStopped

    return sleep


def stop_on_signals(stop: threading.Event) -> Callable[[], None]:
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


def iso_utc(t: datetime) -> str:
    """A time as the demo's lines print it (UTC, to the second)."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def completion_line(result: SimulationResult) -> str:
    """What the demo says when its exercise is complete (one line, the scorecard's totals)."""
    t = result.scorecard.totals
    return (
        f"exercise complete: {t.attempted} crossings, {t.detected} detected, "
        f"{t.alerted} alerted, {t.interrupted} interrupted; scorecard in "
        f"{result.files['scorecard.html']} (still serving; Ctrl-C stops)"
    )

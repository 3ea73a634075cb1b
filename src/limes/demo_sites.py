"""`limes demo --sites`: the demo's exercise across two command sites and the JOC, federated.

On one machine, on loopback ports: a hub nats-server; two command sites and the Joint
Operations Command, each a `limes serve` (`Service`, with its own SQLite database in the demo's
folder, its map and its federation side) with its own leaf nats-server in its own JetStream
domain; the command sites' links to the JOC. The deployment is written to
`<folder>/deployment.yaml` and the servers' configurations, stores and logs to `<folder>/nats/`
(`limes.federation.command.write_nats_configs`), so `limes federation status` reads the same
links. The exercise is the plain demo's; each report goes to the site that holds the sector of
the sensor that made it, so each site tracks and alerts on its own sectors and the JOC sees
what the sites release to it. Ctrl-C stops the sites, then their servers, then the hub.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from limes.clock import ExerciseClock, SimClock
from limes.demo import (
    DemoConfig,
    DemoStopped,
    DemoSummary,
    completion_line,
    interruptible,
    iso_utc,
    stop_on_signals,
)
from limes.exercise.in_process import PipelineSender
from limes.exercise.run import rescore
from limes.federation.command import write_nats_configs
from limes.federation.deployment import Deployment, Hub, Link, Site
from limes.federation.nats_process import NatsProcess, free_port
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario
from limes.service.config import ServiceConfig, parse_address
from limes.service.logs import configure_logging
from limes.service.run import Service
from limes.sim.config import SimConfig
from limes.sim.emission import Emission
from limes.sim.run import SimulationError, SimulationResult, send_emissions, simulate
from limes.sim.scorecard import AlertLike
from limes.store.accounts import add_user
from limes.store.database import connect
from limes.store.federated import received_objects

#: The demo's split of the built-in scenario: which command site holds which sectors, and the
#: partner each site is in the scenario's sharing policy. The JOC holds no sector: it sees the
#: whole border through what the sites release to it.
SITE_LAYOUTS: dict[str, list[tuple[str, list[str], str]]] = {
    "iraq-syria": [
        ("nineveh", ["Peshmerga", "Nineveh", "Jazeera"], "nineveh-oc"),
        ("anbar", ["Anbar (al-Qaim)", "Anbar (al-Tanf)"], "anbar-oc"),
    ],
}
HEADQUARTERS = ("joc", "joc")


def demo_deployment(scenario: str, host: str = "127.0.0.1") -> Deployment:
    """The demo's deployment of `scenario` on free loopback ports: two sites, the JOC, links."""
    layout = SITE_LAYOUTS.get(scenario)
    if layout is None:
        raise SimulationError(
            f"--sites runs the deployment of the built-in scenario(s) "
            f"{', '.join(SITE_LAYOUTS)}, not {scenario!r}; for another scenario write a "
            f"deployment file (docs/federation.md) and run `limes serve --federation` per site"
        )
    hub = Hub(client_url=f"nats://{host}:{free_port(host)}",
              leaf_url=f"nats-leaf://{host}:{free_port(host)}")  # fmt: skip
    sites = [
        Site(name=name, sectors=sectors, partner=partner,
             nats_url=f"nats://{host}:{free_port(host)}")
        for name, sectors, partner in layout
    ]  # fmt: skip
    joc, partner = HEADQUARTERS
    sites.append(Site(name=joc, sectors="all", partner=partner,
                      nats_url=f"nats://{host}:{free_port(host)}"))  # fmt: skip
    links = [Link.model_validate({"from": name, "to": joc}) for name, _, _ in layout]
    return Deployment(hub=hub, sites=sites, links=links)


def sensor_sites(scenario: Scenario, deployment: Deployment) -> dict[str, str]:
    """The site that holds each sensor's sector (by the sensor's position on the border)."""
    holder = {sector: site.name for site in deployment.sites if site.sectors != "all"
              for sector in site.sectors}  # fmt: skip
    names = [s.name for s in scenario.spec.sectors]
    missing = [n for n in names if n not in holder]
    if missing:
        raise SimulationError(f"no site holds the sector(s) {', '.join(missing)}")
    out = {}
    for sensor in scenario.spec.sensors:
        x, y = scenario.position_xy(sensor.position)
        chainage, _ = scenario.locate(x, y)
        out[sensor.id] = holder[names[int(scenario.sector_index(chainage))]]
    return out


class SiteRouter:
    """A sender that hands each report to the site holding its sensor's sector."""

    def __init__(self, senders: dict[str, PipelineSender], site_of: dict[str, str]) -> None:
        self.senders = senders
        self.site_of = site_of
        self.sent: dict[str, int] = dict.fromkeys(senders, 0)

    def open(self) -> None:
        return None

    def send(self, batch: Sequence[Emission]) -> list[AlertLike]:
        shares: dict[str, list[Emission]] = {}
        for e in batch:
            shares.setdefault(self.site_of[e.sensor_id], []).append(e)
        alerts: list[AlertLike] = []
        for site, share in shares.items():
            alerts += self.senders[site].send(share)
            self.sent[site] += len(share)
        return alerts

    def close(self) -> None:
        for sender in self.senders.values():
            sender.close()


@dataclass
class SiteRun:
    """One site of the demo: its deployment entry, its service, its server and its login."""

    site: Site
    service: Service
    nats: NatsProcess
    database: Path
    token: str = ""
    address: str = ""


@dataclass
class SitesSummary(DemoSummary):
    """What a sites demo did: the plain demo's figures, and per site."""

    sent_by_site: dict[str, int] = field(default_factory=dict)
    alerts_by_site: dict[str, int] = field(default_factory=dict)
    received_by_joc: dict[str, int] = field(default_factory=dict)


def _http_of(cfg: DemoConfig, i: int) -> str:
    """Site i's API and map: the demo's port plus i (0 stays 0: any free port)."""
    host, port = parse_address(cfg.http, "--http")
    return f"{host}:{port + i if port else 0}"


def demo_sites(
    cfg: DemoConfig,
    say: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> SitesSummary:
    """Run `limes demo --sites` until SIGTERM/SIGINT (or `stop` is set); returns what it did."""
    if cfg.dispatch != "internal" or cfg.auto_dispatch:
        raise SimulationError("--sites runs the simulator's own dispatcher (no --auto-dispatch)")
    stop = stop or threading.Event()
    folder = Path(cfg.folder)
    folder.mkdir(parents=True, exist_ok=True)
    deployment = demo_deployment(cfg.scenario)
    # A new run starts clean: old streams would re-source a previous run's changes.
    shutil.rmtree(folder / "nats", ignore_errors=True)
    plan = folder / "deployment.yaml"
    plan.write_text(yaml.safe_dump(deployment.model_dump(by_alias=True), sort_keys=False))
    write_nats_configs(deployment, folder / "nats")
    present = datetime.now(UTC).replace(microsecond=0)
    configure_logging(False, cfg.log_level)
    hub_host, hub_port = parse_address(deployment.hub.client_url.removeprefix("nats://"), "hub")
    hub = NatsProcess("hub", folder / "nats" / "hub.conf", hub_port,
                      folder / "nats" / "hub.log", host=hub_host)  # fmt: skip
    runs = [_site_run(cfg, deployment, site, plan, i, present) for i, site in
            enumerate(deployment.sites)]  # fmt: skip
    summary = SitesSummary()
    # The run is made before the sites start: three maps shading their relief at once would
    # slow the making several times over (one interpreter).
    say(f"making the exercise: {cfg.hours:g} h of {cfg.scenario}, seed {cfg.seed} …")
    scenario = load_scenario(cfg.scenario)
    sim_start = present - timedelta(seconds=cfg.run_in_s)
    made = simulate(scenario, cfg.hours, None, cfg.seed, None,
                    config=SimConfig(start=sim_start, actors_per_day=cfg.actors_per_day,
                                     dispatch=True))  # fmt: skip
    summary.reports_planned = len(made.emissions)
    restore = stop_on_signals(stop)
    router: SiteRouter | None = None
    try:
        hub.start()
        for run in runs:
            run.nats.start()
        for run in runs:
            run.service.start()
            run.token = add_user(f"sqlite:///{run.database}", cfg.operator, "operator")
            run.address = run.service.addresses().get("http", "")
        say(f"limes demo --sites: {cfg.scenario}, exercise clock ×{cfg.speed:g} from "
            f"{iso_utc(present)}; deployment {plan}")  # fmt: skip
        for run in runs:
            held = "the whole border" if run.site.sectors == "all" else ", ".join(run.site.sectors)
            say(f"site {run.site.name} ({held}): map http://{run.address}/ token {run.token} "
                f"store {run.database} nats {run.site.nats_url}")  # fmt: skip
        say(f"(operator {cfg.operator!r} at every site: paste the site's token into its map's "
            f"login; Ctrl-C stops everything)")  # fmt: skip
        senders = {}
        for run in runs:
            if run.site.sectors != "all":
                assert run.service.pipeline is not None
                pipeline = run.service.pipeline
                senders[run.site.name] = PipelineSender(pipeline, flush_on_close=False,
                                                        source="demo")  # fmt: skip
                _banner(run.service, cfg)
        router = SiteRouter(senders, sensor_sites(scenario, deployment))
        pace = ExerciseClock(
            sim_start, cfg.speed, epoch=present - timedelta(seconds=cfg.run_in_s / cfg.speed),
            sleep=interruptible(stop),
        )  # fmt: skip
        worker = threading.Thread(
            target=_exercise, args=(cfg, scenario, made, pace, router, summary, say),
            name="limes-demo-exercise", daemon=True,
        )  # fmt: skip
        worker.start()
        _watch(cfg, runs, router, pace, summary, stop, say)
        stop.set()
        worker.join(30.0)
    finally:
        stop.set()
        for run in reversed(runs):
            run.service.stop()
        for run in reversed(runs):
            run.nats.stop()
        hub.stop()
        restore()
    if router is not None:
        summary.sent_by_site = dict(router.sent)
        summary.reports_sent = sum(router.sent.values())
    _count(runs, summary)
    return summary


def _site_run(
    cfg: DemoConfig, deployment: Deployment, site: Site, plan: Path, i: int, present: datetime
) -> SiteRun:
    """One site's service (on the demo's exercise clock) and server, not yet started."""
    folder = Path(cfg.folder)
    database = folder / f"{site.name}.db"
    for old in (database, folder / f"{site.name}.db-wal", folder / f"{site.name}.db-shm"):
        old.unlink(missing_ok=True)
    service = Service(ServiceConfig(
        scenario=cfg.scenario, database_url=f"sqlite:///{database}", mqtt=None,
        http=_http_of(cfg, i), clock_start=present, clock_speed=cfg.speed,
        log_level=cfg.log_level, tick_lag_s=cfg.run_in_s / cfg.speed + cfg.make_s,
        quarantine_file=str(folder / f"{site.name}-quarantine.jsonl"), federation=plan,
        site=site.name, tune_gc=False,
    ))  # fmt: skip
    host, port = parse_address(site.nats_url.removeprefix("nats://"), f"site {site.name}")
    nats = NatsProcess(site.name, folder / "nats" / f"{site.name}.conf", port,
                       folder / "nats" / f"{site.name}.log", host=host)  # fmt: skip
    return SiteRun(site, service, nats, database)


def _banner(service: Service, cfg: DemoConfig) -> None:
    services = service.app.state.services if service.app is not None else None
    if services is not None:  # the map's banner says what runs
        services.exercise = {"state": "running", "speed": cfg.speed,
                             "dispatcher": cfg.dispatcher_says()}  # fmt: skip


def _exercise(
    cfg: DemoConfig,
    scenario: Scenario,
    made: SimulationResult,
    pace: SimClock,
    router: SiteRouter,
    summary: DemoSummary,
    say: Callable[[str], None],
) -> None:
    """Send each report of the run to its sensor's site; score the run when it completes."""
    try:
        alerts = send_emissions(made.emissions, router, pace)
        result = rescore(made, scenario, alerts, None, Path(cfg.folder) / "exercise")
        summary.complete = True
        summary.files = result.files
        say(completion_line(result))
    except DemoStopped:
        return
    except Exception as exc:  # the sites keep serving; the user is told why the run stopped
        summary.error = f"{type(exc).__name__}: {exc}"
        say(f"the exercise stopped: {summary.error} (the sites keep serving)")


def _watch(
    cfg: DemoConfig,
    runs: list[SiteRun],
    router: SiteRouter,
    pace: SimClock,
    summary: DemoSummary,
    stop: threading.Event,
    say: Callable[[str], None],
) -> None:
    """Wait for the stop; now and then say what each site has stored and the JOC received."""
    next_status = time.monotonic() + cfg.status_s
    while not stop.wait(0.5):
        if time.monotonic() < next_status:
            continue
        next_status += cfg.status_s
        alerts = {r.site.name: _stored(r) for r in runs if r.site.sectors != "all"}
        sites = ", ".join(f"{name} {n}" for name, n in alerts.items())
        say(f"exercise time {iso_utc(pace.now())}: {sum(router.sent.values())} of "
            f"{summary.reports_planned or '…'} reports sent; alerts stored: {sites}")  # fmt: skip


def _stored(run: SiteRun) -> int:
    committer = run.service.committer
    return committer.stats.alerts_stored if committer is not None else 0


def _count(runs: list[SiteRun], summary: SitesSummary) -> None:
    """Alerts stored per site, and what the JOC holds from each (read after the stop)."""
    for run in runs:
        if run.site.sectors != "all":
            summary.alerts_by_site[run.site.name] = _stored(run)
            continue
        if not run.database.exists():
            continue
        db = connect(f"sqlite:///{run.database}")
        try:
            with db.reader() as session:
                for row in received_objects(session, kind="alert"):
                    summary.received_by_joc[row.origin] = (
                        summary.received_by_joc.get(row.origin, 0) + 1
                    )
        finally:
            db.dispose()
    summary.alerts_stored = sum(summary.alerts_by_site.values())

"""What the map and advice benchmarks share: the app on a port, a busy demo's store load, and
dispatch advice asked as the assign dialog asks it.

The load goes through the store writer the pipeline uses (`services.writer.write`), so every
track state and alert reaches the map the way a live one does: stored, put on the change log,
streamed over `/api/stream`. Nothing here pokes a page.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI

from limes.api.app import create_app
from limes.api.settings import Settings
from limes.ops.alert import Alert, Rule, Severity
from limes.ops.detection import TargetClass
from limes.ops.tracker.state import TrackState, TrackStatus
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario
from limes.store.database import Database, connect
from limes.store.migrate import migrate
from limes.store.users import Role, create_user
from limes.web.mount import mount_web

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "web"))
from web_support import free_port

SEVERITIES = (Severity.MEDIUM, Severity.HIGH, Severity.LOW, Severity.CRITICAL)
RULES = (Rule.CROSSED, Rule.INTRUSION, Rule.CROSSING_IMMINENT)


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile of values (nearest rank below), NaN when there are none."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


@dataclass
class BenchApp:
    """The real app (API + map) on the built-in scenario, a SQLite store, a viewer's token."""

    app: FastAPI
    db: Database
    scenario: Scenario
    token: str
    url: str = ""
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def services(self) -> Any:
        return self.app.state.services

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


def bench_app(prefix: str, scenario: str = "iraq-syria") -> BenchApp:
    """The app with the map mounted cold (`warm=False`: nothing shaded or built yet)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    db = connect(f"sqlite:///{tmp / 'bench.db'}")
    migrate(db)
    with db.session() as s:
        _, token = create_user(s, "bench", Role.VIEWER, actor="bench", now=datetime.now(UTC))
    sc = load_scenario(scenario)
    app = create_app(Settings(migrate=False), db=db, scenario_obj=sc)
    mount_web(app, warm=False)
    return BenchApp(app, db, sc, token)


def serve(bench: BenchApp) -> BenchApp:
    """Serve the app under uvicorn on a free localhost port; returns once it answers."""
    sock = free_port()
    bench.server = uvicorn.Server(
        uvicorn.Config(bench.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    bench.thread = threading.Thread(
        target=bench.server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    bench.thread.start()
    bench.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for _ in range(400):
        try:
            if httpx.get(bench.url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    return bench


def place(sc: Scenario, km: float, offset_m: float) -> tuple[float, float, float, float]:
    """Frame x, y and lon, lat of a point `offset_m` off the line at chainage `km`."""
    x, y = (float(v) for v in sc.border.point_at(km * 1000.0, offset_m))
    lon, lat = (float(v) for v in sc.frame.to_lonlat(x, y))
    return x, y, lon, lat


def track_state(track_id: str, now: datetime, x: float, y: float, k: int) -> TrackState:
    """A confirmed track state as the tracker hands it to the store."""
    return TrackState(
        track_id=track_id, time=now, x=x, y=y, vx=0.3, vy=1.2, covariance=(25.0,) * 16,
        target_class=TargetClass.PERSON, class_probabilities={"person": 1.0},
        group_size=1 + k % 5, status=TrackStatus.CONFIRMED, hits=5, misses=0, sensors=("s",),
        last_detection=None,
    )  # fmt: skip


def alert_at(sc: Scenario, alert_id: str, track_id: str, km: float, offset_m: float, k: int,
             now: datetime) -> Alert:  # fmt: skip
    """An alert at chainage `km`, as the rules raise it (rule and severity vary with k)."""
    _, _, lon, lat = place(sc, km, offset_m)
    sector = sc.sector_at(km)
    return Alert(
        alert_id=alert_id, rule=RULES[k % len(RULES)], track_id=track_id, time=now, lon=lon,
        lat=lat, target_class="person", group_size=1 + k % 5, chainage_km=km, offset_m=offset_m,
        sector=sector.name, command=sector.command, far_side=sector.far_side,
        channel=sc.channel_of(sector), severity=SEVERITIES[k % len(SEVERITIES)],
    )  # fmt: skip


def store_alerts(bench: BenchApp, n: int, groups: int, seed: int = 3, batch: int = 500) -> float:
    """Store n alerts of `groups` crossing groups along the whole line (one incident per
    group) through the store writer, in batches; returns the seconds it took."""
    sc, rng = bench.scenario, np.random.default_rng(seed)
    kms = rng.uniform(5, sc.length_km - 5, groups)
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        now = datetime.now(UTC)
        alerts = []
        for k in range(start, min(n, start + batch)):
            g = k % groups
            km = float(kms[g] + rng.normal(0, 0.3))
            alerts.append(
                alert_at(sc, f"bulk-{k}", f"G{g}", km, float(rng.uniform(-800, 800)), k, now)
            )
        bench.services.writer.write(alerts=alerts)
    return time.perf_counter() - t0


@dataclass
class DemoLoad:
    """A busy demo's store load in a thread: `tracks` live tracks along the whole line, each
    moved and stored once a second (in `batches` writes a second), and `alerts_per_s` new
    alerts (each a new crossing group: a new incident). `incidents` collects their ids."""

    bench: BenchApp
    tracks: int = 2000
    alerts_per_s: float = 1.0
    batches: int = 10
    seed: int = 7
    incidents: list[int] = field(default_factory=list)
    stored_tracks: int = 0
    stored_alerts: int = 0
    elapsed_s: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> DemoLoad:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def wait_incidents(self, n: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.incidents) < n and time.monotonic() < deadline:
            time.sleep(0.05)

    def _run(self) -> None:
        from limes.store.incidents import list_incidents

        sc, rng = self.bench.scenario, np.random.default_rng(self.seed)
        kms = rng.uniform(5, sc.length_km - 5, self.tracks)
        offsets = rng.uniform(-3000, 3000, self.tracks)
        per = max(1, self.tracks // self.batches)
        period = 1.0 / self.batches
        t0 = time.monotonic()
        tick, next_alert, k, a = 0, t0, 0, 0
        while not self._stop.is_set():
            now = datetime.now(UTC)
            states = []
            for _ in range(per):
                i = k % self.tracks
                kms[i] += 0.002  # walking along the line, ~2 m a second
                x, y, _, _ = place(sc, float(kms[i]), float(offsets[i]))
                states.append(track_state(f"D{i}", now, x, y, i))
                k += 1
            alerts = []
            if self.alerts_per_s > 0 and time.monotonic() >= next_alert:
                km = float(rng.uniform(5, sc.length_km - 5))
                alerts.append(alert_at(sc, f"live-{a}", f"L{a}", km, 300.0, a, now))
                next_alert += 1.0 / self.alerts_per_s
            self.bench.services.writer.write(tracks=states, alerts=alerts)
            self.stored_tracks += len(states)
            for alert in alerts:
                self.stored_alerts += 1
                with self.bench.db.reader() as session:
                    made = list_incidents(session, track_id=alert.track_id, limit=1)
                self.incidents.append(made[0].id)
                a += 1
            tick += 1
            self._stop.wait(max(0.0, t0 + tick * period - time.monotonic()))
        self.elapsed_s = time.monotonic() - t0


def ask_advice(
    url: str, token: str, incidents: Sequence[int], n: int, seed: int = 11
) -> list[float]:
    """Milliseconds for n advice requests over HTTP, as the assign dialog asks
    (`GET /api/web/incidents/{id}/advice`), each for an incident drawn from `incidents`."""
    rng = np.random.default_rng(seed)
    took: list[float] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(n):
            incident = incidents[int(rng.integers(len(incidents)))]
            t = time.perf_counter()
            r = client.get(f"/api/web/incidents/{incident}/advice", timeout=60)
            took.append((time.perf_counter() - t) * 1000.0)
            r.raise_for_status()
    return took

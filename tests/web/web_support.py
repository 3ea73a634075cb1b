"""Map test support: a small scenario, the real app (API + pipeline + map) under uvicorn on an
ephemeral localhost port, a page that records every request it tries to make."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from limes.api.app import create_app
from limes.api.services import ChangeSignal, IngestHandoff
from limes.api.settings import Settings
from limes.ops.bus import LocalBus
from limes.ops.pipeline import Pipeline
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario
from limes.store.database import Database, connect
from limes.store.migrate import migrate
from limes.store.users import Role, create_user
from limes.store.writer import StoreWriter
from limes.web.mount import mount_web

CHROMIUM = os.environ.get("LIMES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
]
SENSORS = ("tower-w", "tower-e")
LAW = {"range_m": 8000, "hazard_per_s": 0.5, "position_sd_m": 10}

#: A short straight border with everything the map draws (positions invented).
SCENARIO: dict[str, Any] = {
    "name": "map-test",
    "title": "Map test border (invented positions)",
    "demonstration_note": "Every position here is invented for testing.",
    "border": {"line": [[41.0, 34.0], [41.1, 34.01], [41.2, 34.0]], "inside": "right",
               "inside_name": "Ours", "outside_name": "Theirs"},
    "strip": {"outside_m": 3000, "inside_m": 4000},
    "terrain": {"synthetic": {"seed": 7}, "resolution_m": 200},
    "controllers": [{"name": "far-west", "channel": "radio net 1"},
                    {"name": "far-east", "channel": "radio net 2"}],
    "sectors": [
        {"name": "west", "command": "Command A", "far_side": "far-west", "from_km": 0, "to_km": 9},
        {"name": "east", "command": "Command B", "far_side": "far-east", "from_km": 9,
         "to_km": 18.5},
    ],
    "barriers": [
        {"id": "trench-w", "kind": "trench", "from_km": 0, "to_km": 8, "offset_m": 300,
         "status": "built", "delay": {"foot": {"mean_s": 120, "sd_s": 30}}},
        {"id": "berm-c", "kind": "berm", "from_km": 8, "to_km": 13, "offset_m": 320,
         "status": "under_construction", "progress_pct": 40, "delay": {"foot": {"mean_s": 60}}},
        {"id": "fence-e", "kind": "fence", "from_km": 13, "to_km": 18, "offset_m": 300,
         "status": "planned", "delay": {"foot": {"mean_s": 90}}},
    ],
    "sensor_models": [
        {"name": "tower", "kind": "thermal_camera", "fov_deg": 200,
         "laws": {"person": {"day": LAW, "night": LAW}, "vehicle": {"day": LAW}}},
    ],
    "sensors": [
        {"id": "tower-w", "model": "tower", "position": {"chainage_km": 4, "offset_m": 800},
         "heading_deg": 0},
        {"id": "tower-e", "model": "tower", "position": {"chainage_km": 13, "offset_m": 800},
         "heading_deg": 0},
    ],
    "units": [
        {"id": "qrf-1", "kind": "qrf", "label": "QRF Alpha",
         "base": {"chainage_km": 5, "offset_m": 4000},
         "readiness": {"mean_s": 300, "sd_s": 60}, "speeds": {"road_kmh": 60, "off_road_kmh": 30}},
        {"id": "patrol-2", "kind": "patrol", "label": "Patrol Bravo",
         "base": {"chainage_km": 15, "offset_m": 3000},
         "readiness": {"mean_s": 120, "sd_s": 30}, "speeds": {"road_kmh": 50, "off_road_kmh": 20}},
    ],
    "roads": [{"name": "border road", "kind": "track",
               "path": [[41.0, 33.985], [41.1, 33.99], [41.2, 33.985]]}],
    "places": [{"name": "Westpost", "lon": 41.02, "lat": 33.98, "side": "inside", "kind": "town"},
               {"name": "Eastfar", "lon": 41.17, "lat": 34.03, "side": "outside", "kind": "town"}],
}  # fmt: skip


def map_scenario() -> Scenario:
    return scenario_from_data(deepcopy(SCENARIO))


def free_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Server:
    """The running app: its base URL, tokens per role, the pipeline feeding it."""

    url: str
    app: FastAPI
    db: Database
    scenario: Scenario
    pipeline: Pipeline
    tokens: dict[str, str]
    seq: dict[str, int]
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        """The present on the server's one clock."""
        return self.clock()

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def post_detections(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Send detections through the HTTP ingest door with the sensor token."""
        r = httpx.post(
            f"{self.url}/api/ingest/detections",
            json={"detections": items},
            headers=self.headers("sensor"),
            timeout=120,
        )
        r.raise_for_status()
        out: dict[str, Any] = r.json()
        return out

    def walker(
        self,
        sensor: str,
        chainage_m: float,
        start: datetime,
        *,
        seconds: int,
        start_offset_m: float = -300.0,
        v_in: float = 4.0,
        group: int = 2,
        seed: int = 1,
    ) -> list[dict[str, Any]]:
        """JSON detections of one group walking in across the line, one per second."""
        sc = self.scenario
        rng = np.random.default_rng(seed)
        t = np.arange(seconds, dtype=float)
        x, y = sc.border.point_at(chainage_m + 0.3 * t, start_offset_m + v_in * t)
        x = x + rng.normal(0, 5, seconds)
        y = y + rng.normal(0, 5, seconds)
        lon, lat = sc.frame.to_lonlat(x, y)
        out = []
        for k in range(seconds):
            self.seq[sensor] = self.seq.get(sensor, 0) + 1
            out.append(
                {
                    "sensor_id": sensor,
                    "seq": self.seq[sensor],
                    "time": (start + timedelta(seconds=float(t[k]))).isoformat(),
                    "lon": float(lon[k]),
                    "lat": float(lat[k]),
                    "position_sd_m": 5.0,
                    "class": "person",
                    "confidence": 0.9,
                    "group_size": group,
                }
            )
        return out


def _assessment(sc: Scenario, out: Path) -> Path:
    from limes.analysis.assess import assess
    from limes.analysis.outputs import write_outputs
    from limes.scenario.schema import Light, Mode

    result = assess(sc, (Mode.FOOT,), (Light.NIGHT,), 200.0)
    write_outputs(result, sc, out)
    return out


class ExerciseClock:
    """An exercise's clock for the test server: `start`, running `speed` times the wall."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start, self.speed, self._wall0 = start, speed, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._wall0) * self.speed)


def start_server(
    tmp: Path, assessments: list[Path] | None = None, speed: float | None = None
) -> Iterator[Server]:
    """The app on a free port; with `speed`, on an exercise clock that began three hours ago
    (so its times never match the wall's) and runs `speed` times the wall."""
    sc = map_scenario()
    clock = (
        ExerciseClock(datetime.now(UTC) - timedelta(hours=3), speed) if speed is not None else None
    )
    db = connect(f"sqlite:///{tmp / 'map.db'}")
    migrate(db)
    tokens: dict[str, str] = {}
    now = datetime.now(UTC)
    with db.session() as s:
        for role in Role:
            ids = {Role.SENSOR: list(SENSORS), Role.PARTNER: ["partner-a"]}.get(role, [])
            _, tokens[role.value] = create_user(
                s, f"{role.value}-user", role, speaks_for=ids, actor="test", now=now
            )
    signal = ChangeSignal()
    bus = LocalBus()
    writer = (
        StoreWriter(db, sc.frame, on_commit=signal.notify, clock=clock)
        if clock is not None
        else StoreWriter(db, sc.frame, on_commit=signal.notify)
    )
    writer.subscribe(bus)
    pipeline = Pipeline(sc, bus=bus)
    handoff = IngestHandoff(
        on_detections=lambda d: pipeline.submit(d, deduplicated=True),
        on_rejection=pipeline.reject,
        dedup=pipeline.dedup,
    )
    app = create_app(
        Settings(migrate=False, stream_poll_s=0.1, ingest_rate_per_s=1000, ingest_burst=1000),
        db=db,
        scenario_obj=sc,
        writer=writer,
        ingest_handoff=handoff,
        signal=signal,
        clock=clock,
        clock_speed=speed or 1.0,
    )
    mount_web(app, assessments=assessments or [])
    sock = free_port()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    # No ticker: the tracker's clock follows the detections, which the tests send from the
    # recent past faster than real time.
    try:
        yield Server(url, app, db, sc, pipeline, tokens, {}, clock or (lambda: datetime.now(UTC)))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        db.dispose()


class Outside:
    """Every request the page makes, and those that left localhost (aborted)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.outside: list[str] = []


def open_page(browser: Any, server: Server, outside: Outside, **ctx: Any) -> Any:
    """A new page whose every request is checked: anything not to our server is aborted."""
    # The page's CSP forbids eval; Playwright's wait_for_function needs it, so tests bypass it.
    context = browser.new_context(viewport={"width": 1500, "height": 900}, bypass_csp=True, **ctx)

    def route(r: Any) -> None:
        url = r.request.url
        outside.seen.append(url)
        if url.startswith(server.url + "/") or url.startswith(("blob:", "data:")):
            r.continue_()
        else:
            outside.outside.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("websocket", lambda ws: outside.seen.append(ws.url))
    return page


def login(page: Any, server: Server, role: str) -> None:
    page.goto(server.url + "/")
    page.fill("#token", server.tokens[role])
    page.click("#login-form button[type=submit]")
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=30_000)


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)


_CLIENT_T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)


class RoleClient:
    """The web routes through a TestClient, a token for each role (`get(path, role)`)."""

    def __init__(self, http: TestClient, tokens: dict[str, str], sc: Scenario) -> None:
        self.http, self.tokens, self.sc = http, tokens, sc

    def get(self, path: str, role: str | None = "viewer") -> Any:
        headers = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.http.get(path, headers=headers)


def role_client(tmp: Path, sc: Scenario, folders: list[Path]) -> Iterator[RoleClient]:
    """An app with the map mounted on `folders`' assessments and one user of every role."""
    db = connect(f"sqlite:///{tmp / 'web.db'}")
    migrate(db)
    tokens = {}
    with db.session() as s:
        for role in Role:
            ids = {Role.SENSOR: ["tower-w"], Role.PARTNER: ["partner-a"]}.get(role, [])
            _, tokens[role.value] = create_user(
                s, f"{role.value}-u", role, speaks_for=ids, actor="t", now=_CLIENT_T0
            )
    app = create_app(Settings(migrate=False), db=db, scenario_obj=sc)
    mount_web(app, assessments=folders, warm=False)
    with TestClient(app) as client:
        yield RoleClient(client, tokens, sc)
    db.dispose()

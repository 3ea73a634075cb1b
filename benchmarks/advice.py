"""Dispatch advice latency under load: the assign dialog's answer, p50/p95, on the built-in
scenario, while the store takes a demo's load; against the per-request search it replaced.

Starts the real app (API + map) on the Iraq–Syria scenario with a SQLite store on an ephemeral
localhost port and builds the units' travel fields (`ops.dispatch_fields.AdviceCache`, timed).
While a writer thread stores what a busy demo stores — 300 live track states a second and a
new alert (and incident) every second along the whole border — the map's advice route
(`GET /api/web/incidents/{id}/advice`) is asked for incidents at random places, one after
another, and timed end to end over HTTP. The anchor is `ops.dispatch.advise`, the per-request
search from the target over the target-and-units box (what the route ran before, at its best:
in-process, no HTTP, same incidents), timed on a few of the same places.

Goal: advice p95 < 300 ms under load. `--quick` asks fewer times. The last line printed is
one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import uvicorn

from limes.api.app import create_app
from limes.api.settings import Settings
from limes.ops.alert import Alert, Rule, Severity
from limes.ops.detection import TargetClass
from limes.ops.dispatch import advise, target_at_lonlat
from limes.ops.tracker.state import TrackState, TrackStatus
from limes.scenario.load import load_scenario
from limes.store.database import connect
from limes.store.migrate import migrate
from limes.store.users import Role, create_user
from limes.web.mount import mount_web


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (under 2 minutes)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--anchor", type=int, default=6, help="per-request searches timed")
    args = parser.parse_args()
    n_req, n_anchor = (40, 2) if args.quick else (args.requests, args.anchor)

    sc = load_scenario("iraq-syria")
    tmp = Path(tempfile.mkdtemp(prefix="limes-advice-bench-"))
    db = connect(f"sqlite:///{tmp / 'bench.db'}")
    migrate(db)
    with db.session() as s:
        _, token = create_user(s, "bench", Role.VIEWER, actor="bench", now=datetime.now(UTC))
    app = create_app(Settings(migrate=False), db=db, scenario_obj=sc)
    mount_web(app, warm=False)
    services = app.state.services
    t0 = time.perf_counter()
    services.advice.warm()
    warm_s = time.perf_counter() - t0

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    while True:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)

    rng = np.random.default_rng(7)
    stop = threading.Event()
    made: list[int] = []

    def load() -> None:
        """A busy demo's store: 300 track states a second, an alert a second."""
        k = 0
        while not stop.is_set():
            now = datetime.now(UTC)
            km = float(rng.uniform(5, sc.length_km - 5))
            x, y = (float(v) for v in sc.border.point_at(km * 1000.0, 300.0))
            lon, lat = (float(v) for v in sc.frame.to_lonlat(x, y))
            sector = sc.sector_at(km)
            tracks = [
                TrackState(
                    track_id=f"T{k}-{j}",
                    time=now,
                    x=x + j,
                    y=y,
                    vx=0.3,
                    vy=1.2,
                    covariance=(25.0,) * 16,
                    target_class=TargetClass.PERSON,
                    class_probabilities={"person": 1.0},
                    group_size=3,
                    status=TrackStatus.CONFIRMED,
                    hits=5,
                    misses=0,
                    sensors=("s",),
                    last_detection=None,
                )
                for j in range(300)
            ]
            alert = Alert(
                alert_id=f"a{k}", rule=Rule.CROSSED, track_id=f"T{k}-0", time=now, lon=lon,
                lat=lat, target_class="person", group_size=3, chainage_km=km, offset_m=300.0,
                sector=sector.name, command=sector.command, far_side=sector.far_side,
                channel=sc.channel_of(sector), severity=Severity.HIGH,
            )  # fmt: skip
            services.writer.write(tracks=tracks, alerts=[alert])
            with db.reader() as session:
                from limes.store.incidents import list_incidents

                made.append(list_incidents(session, track_id=f"T{k}-0", limit=1)[0].id)
            k += 1
            stop.wait(max(0.0, 1.0 - (datetime.now(UTC) - now).total_seconds()))

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    while len(made) < 3:
        time.sleep(0.1)
    served: list[float] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(n_req):
            incident = made[int(rng.integers(len(made)))]
            t = time.perf_counter()
            r = client.get(f"/api/web/incidents/{incident}/advice", timeout=60)
            served.append((time.perf_counter() - t) * 1000.0)
            r.raise_for_status()
    stop.set()
    loader.join(10)

    searched: list[float] = []
    with db.reader() as session:
        from limes.store.tables import IncidentRow

        rows = [session.get(IncidentRow, i) for i in made[:n_anchor]]
        places = [(r.lon, r.lat) for r in rows if r is not None]
    for lon, lat in places:
        t = time.perf_counter()
        advise(sc, target_at_lonlat(sc, lon, lat))
        searched.append(time.perf_counter() - t)
    server.should_exit = True

    out = {
        "requests": len(served),
        "alerts_stored_during": len(made),
        "fields_built": services.advice.built,
        "fields_warm_s": round(warm_s, 1),
        "advice_p50_ms": round(pct(served, 0.5), 1),
        "advice_p95_ms": round(pct(served, 0.95), 1),
        "search_p50_s": round(statistics.median(searched), 2),
        "search_max_s": round(max(searched), 2),
        "ratio_search_p50_over_advice_p95": round(
            statistics.median(searched) * 1000.0 / pct(served, 0.95), 1
        ),
        "goal_p95_ms": 300,
    }
    print(
        f"advice under load: p50 {out['advice_p50_ms']} ms, p95 {out['advice_p95_ms']} ms over "
        f"{len(served)} requests; per-request search p50 {out['search_p50_s']} s "
        f"(max {out['search_max_s']} s); fields built in {out['fields_warm_s']} s"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()

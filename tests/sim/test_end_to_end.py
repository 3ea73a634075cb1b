"""The exercise end to end: `limes simulate` over Mosquitto into `limes serve`, checked through
the API and the store.

The service runs as its own process (SQLite, its MQTT door on the local Mosquitto with a client id
and topic prefix of its own, the exercise clock at ×600); the simulator runs as another, on the
same clock, for 1.5 simulated hours of the small test border (two towers that cover it). The
references are independent of the path under test: the simulator's own files (what it sent, what
was true), and the same detections replayed here, one message at a time, through a pipeline in
this process (no MQTT, no committer, no store, no API).
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sim_fixtures import small_data

from limes.ops.alert import Alert
from limes.ops.ingest.context import ingest_context
from limes.ops.ingest.json_format import parse_json_message
from limes.ops.pipeline import Pipeline
from limes.ops.tracker import TrackerConfig
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario
from limes.store.accounts import add_user

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

LIMES = str(Path(sys.executable).with_name("limes"))
SPEED = 600
HOURS = 1.5
SEED = 11
ACTORS_PER_DAY = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_all(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000}
    while True:
        resp = client.get(path, params=params)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        params["cursor"] = page["next_cursor"]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _replayed_alerts(sc: Scenario, sent: list[dict[str, Any]], start: datetime) -> list[Alert]:
    """The alerts the live pipeline raises on these messages, submitted one at a time in sending
    order as the service's committer does, with the service's tracker settings."""
    now = {"t": start}
    ctx = ingest_context(sc, clock=lambda: now["t"])
    pipeline = Pipeline(sc, TrackerConfig(track_ids="detection"), context=ctx)
    raised: list[Alert] = []
    for line in sent:
        now["t"] = start + timedelta(seconds=line["send_s"])
        msg = line["message"]
        outcome = parse_json_message(
            json.dumps(msg).encode(), ctx, source="replay", expected_sensor=msg["sensor_id"]
        )
        assert not outcome.rejections
        raised += pipeline.submit(outcome.detections)
    raised += pipeline.flush()
    return raised


def _covered(sc: Scenario, chainage_km: float) -> bool:
    """Whether the line at this chainage lies within some sensor's longest range."""
    x, y = sc.border.point_at(chainage_km * 1000.0, 0.0)
    for sensor in sc.spec.sensors:
        sx, sy = sc.position_xy(sensor.position)
        reach = max(law.range_m for by_light in sc.model_of(sensor).laws.values()
                    for law in by_light.values())  # fmt: skip
        if math.hypot(float(x) - sx, float(y) - sy) <= reach:
            return True
    return False


def test_simulated_crossings_over_mqtt_are_stored_once_and_become_alerts_and_incidents(
    tmp_path: Path,
) -> None:
    scenario_file = tmp_path / "border.yaml"
    scenario_file.write_text(yaml.safe_dump(small_data()))
    sc = load_scenario(str(scenario_file))
    uid = uuid.uuid4().hex[:12]
    prefix = f"limes-e2e-{uid}/sensors"
    db = tmp_path / "e2e.db"
    url = f"sqlite:///{db}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # The exercise clock: both processes read the same present from start and speed alone.
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=10)
    out = tmp_path / "exercise"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    serve = subprocess.Popen(
        [LIMES, "serve", "--scenario", str(scenario_file), "--database", url,
         "--mqtt", "127.0.0.1:1883", "--mqtt-client-id", f"limes-e2e-{uid}",
         "--mqtt-topic-prefix", prefix, "--http", f"127.0.0.1:{port}",
         "--exercise-start", start.isoformat(), "--exercise-speed", str(SPEED)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert serve.poll() is None, serve.communicate()[0]
            try:
                if httpx.get(f"{base}/api/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "limes serve did not come up"
            time.sleep(0.2)
        token = add_user(url, "e2e-admin", "admin")
        sim = subprocess.run(
            [LIMES, "simulate", str(scenario_file), "--hours", str(HOURS),
             "--speed", str(SPEED), "--seed", str(SEED), "--actors-per-day", str(ACTORS_PER_DAY),
             "--mqtt", "127.0.0.1:1883", "--topic-prefix", prefix, "--client-id", f"sim-{uid}",
             "--target", base, "--token", token, "--start", start.isoformat(),
             "--settle", "12", "--out", str(out)],
            capture_output=True, text=True, timeout=180, env=env,
        )  # fmt: skip
        assert sim.returncode == 0, sim.stdout + sim.stderr
        assert "Traceback" not in sim.stderr
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:
            alerts = _get_all(api, "/api/alerts")
            incidents = _get_all(api, "/api/incidents")
            metrics = api.get("/api/metrics").text
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            log, _ = serve.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            log, _ = serve.communicate()
    assert serve.returncode == 0, log
    assert "Traceback" not in log

    sent = _lines(out / "detections.jsonl")
    truth = [t for t in _lines(out / "truth.jsonl") if t["kind"] == "crossing"]
    card = json.loads((out / "scorecard.json").read_text())
    assert sent and truth

    # Every report sent was stored exactly once, and nothing else; none was refused.
    with sqlite3.connect(db) as con:
        stored = Counter(con.execute("SELECT sensor_id, seq FROM detections").fetchall())
        dead = con.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    emitted = Counter((line["message"]["sensor_id"], line["message"]["seq"]) for line in sent)
    assert max(emitted.values()) == 1
    assert stored == emitted
    assert dead == 0

    # The alerts served are those the pipeline raises on what was sent, each once.
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids))
    replayed = _replayed_alerts(sc, sent, start)
    assert set(ids) == {a.alert_id for a in replayed}

    # Each alert opened or joined its track's incident (none is resolved in this test).
    assert all(a["incident_id"] is not None for a in alerts)
    assert {a["incident_id"] for a in alerts} == {i["id"] for i in incidents}
    # One incident per crossing group: the groups the replayed pipeline names (several tracks
    # of one group share one).
    assert len(incidents) == len({a.incident_key or a.track_id for a in replayed})
    per_incident = Counter(a["incident_id"] for a in alerts)
    assert all(i["alert_count"] == per_incident[i["id"]] for i in incidents)

    # The scorecard's ground truth is the simulator's, its alerts the service's.
    totals = card["totals"]
    detected = {line["actor_id"] for line in sent} & {t["id"] for t in truth}
    assert totals["attempted"] == len(truth)
    assert totals["detected"] == len(detected)
    assert card["reports"] == len(sent)
    assert card["alerts"] == len(alerts)

    # Crossings through covered km were reported and alerted. A group met before the line has
    # no crossing chainage of its own (how many are depends on how soon the live alerts sent a
    # unit): its planned crossing point says whether it came through covered km.
    planned = {t["id"]: t["crossing_chainage_km"] for t in truth}
    crossed = [c for c in card["crossings"] if c["outcome"] in ("crossed", "interrupted")
               and planned[c["actor_id"]] is not None
               and _covered(sc, planned[c["actor_id"]])]  # fmt: skip
    assert len(crossed) >= 3
    assert all(c["detected"] for c in crossed)
    alerted = [c for c in crossed if c["alerted"]]
    assert len(alerted) >= 0.6 * len(crossed)

    latency = [line for line in metrics.splitlines() if "alert_latency" in line]
    gaps = [c["first_alert_s"] - c["first_detection_s"] for c in alerted]
    matched = len(alerts) - card["false_alerts"]
    print(
        f"\ncrossings in covered km {len(crossed)}, alerted {len(alerted)}; alerts {len(alerts)}, "
        f"{matched} on crossing groups ({matched / max(1, len(alerted)):.1f} per alerted "
        f"crossing); incidents {len(incidents)}; reports {len(sent)}; first detection to first "
        f"alert, simulated s: median {sorted(gaps)[len(gaps) // 2]:.0f}; service: "
        f"{'; '.join(line for line in latency if not line.startswith('#'))}"
    )

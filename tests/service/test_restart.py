"""Restart safety: `limes serve` killed hard mid-stream loses nothing and repeats nothing.

Detections stream over MQTT (QoS 1) into `limes serve` running as a subprocess; it is killed
with SIGKILL while messages are in flight, restarted with the same MQTT client id, and the
stream goes on. Afterwards the store must hold every detection exactly once and exactly the
alerts of an uninterrupted run on the same messages (the reference, run in process).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sqlalchemy import create_engine, func, select, text

from db_support import POSTGRES_URL
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario
from limes.service import Service, ServiceConfig
from limes.store.tables import AlertRow, DetectionRow

pytestmark = pytest.mark.mqtt

LAW = {"range_m": 8000, "hazard_per_s": 0.5, "position_sd_m": 10}
SCENARIO: dict[str, Any] = {
    "name": "restart-test",
    "title": "Straight test border (invented positions)",
    "border": {"line": [[41.0, 34.0], [41.2, 34.0]], "inside": "right"},
    "terrain": {"synthetic": {}},
    "controllers": [{"name": "far-west", "channel": "net 1"},
                    {"name": "far-east", "channel": "net 2"}],
    "sectors": [
        {"name": "west", "command": "A", "far_side": "far-west", "from_km": 0, "to_km": 9},
        {"name": "east", "command": "B", "far_side": "far-east", "from_km": 9, "to_km": 18.5},
    ],
    "sensor_models": [{"name": "tower", "kind": "thermal_camera",
                       "laws": {"person": {"day": LAW, "night": LAW}}}],
    "sensors": [
        {"id": "tower-w", "model": "tower", "position": {"chainage_km": 4, "offset_m": 800}},
        {"id": "tower-e", "model": "tower", "position": {"chainage_km": 13, "offset_m": 800}},
    ],
}  # fmt: skip
#: (sensor, chainage m of the crossing, start delay s): walkers crossing at known places.
WALKERS = [("tower-w", 3000.0, 0), ("tower-w", 5500.0, 7), ("tower-e", 12000.0, 3),
           ("tower-e", 14500.0, 12), ("tower-w", 7000.0, 20)]  # fmt: skip


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "restart-test.yaml"
    path.write_text(yaml.safe_dump(deepcopy(SCENARIO)), encoding="utf-8")
    return path


def messages(sc: Scenario) -> list[tuple[str, bytes]]:
    """(topic suffix sensor, body) in time order: one message per sensor per second, with
    reports ending now (the doors check report times against the wall clock)."""
    rng = np.random.default_rng(7)
    start = datetime.now(UTC) - timedelta(seconds=90)
    by_key: dict[tuple[int, str], list[dict[str, Any]]] = {}
    seq = {"tower-w": 0, "tower-e": 0}
    for sensor, chainage, delay in WALKERS:
        for k in range(61):
            t = delay + k
            x, y = sc.border.point_at(chainage, -150.0 + 5.0 * k)
            lon, lat = sc.frame.to_lonlat(x + rng.normal(0, 5), y + rng.normal(0, 5))
            by_key.setdefault((t, sensor), []).append(
                {"sensor_id": sensor, "time": (start + timedelta(seconds=t)).isoformat(),
                 "lon": float(lon), "lat": float(lat), "position_sd_m": 5.0, "class": "person",
                 "group_size": 2}
            )  # fmt: skip
    out = []
    for t, sensor in sorted(by_key):
        items = by_key[(t, sensor)]
        for item in items:
            item["seq"] = seq[sensor]
            seq[sensor] += 1
        out.append((sensor, json.dumps({"detections": items}).encode()))
    return out


class Publisher:
    """Publishes the messages at QoS 1 on a thread, at a pace, with one repeat inside."""

    def __init__(self, prefix: str, msgs: list[tuple[str, bytes]], pace_s: float) -> None:
        import paho.mqtt.client as mqtt

        self.prefix, self.msgs, self.pace_s = prefix, msgs, pace_s
        self.sent = 0
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for i, (sensor, body) in enumerate(self.msgs):
            topic = f"{self.prefix}/{sensor}/detections"
            self.client.publish(topic, body, qos=1).wait_for_publish(10)
            if i == 10:  # a sensor resending a message: stored once, tracked once
                self.client.publish(topic, body, qos=1).wait_for_publish(10)
            self.sent += 1
            time.sleep(self.pace_s)

    def close(self) -> None:
        self.thread.join(60)
        self.client.loop_stop()
        self.client.disconnect()


def total_detections(msgs: list[tuple[str, bytes]]) -> int:
    return sum(len(json.loads(b)["detections"]) for _, b in msgs)


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Store:
    """Direct reads of the service's database (the test's own connection)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def detections(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(DetectionRow)).scalar() or 0)

    def distinct_keys(self) -> int:
        with self.engine.connect() as c:
            q = select(DetectionRow.sensor_id, DetectionRow.seq).distinct().subquery()
            return int(c.execute(select(func.count()).select_from(q)).scalar() or 0)

    def alerts(self) -> list[str]:
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(select(AlertRow.alert_id))]

    def close(self) -> None:
        self.engine.dispose()


def serve_process(
    scenario: Path, url: str, client_id: str, prefix: str, log: Path, *extra: str
) -> Any:
    cmd = [sys.executable, "-m", "limes.service", "--scenario", str(scenario), "--database", url,
           "--mqtt", "127.0.0.1:1883", "--mqtt-client-id", client_id, "--mqtt-topic-prefix",
           prefix, "--http", "off", "--tick", "0", "--log-json", *extra]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def subscribed(log: Path, n: int) -> bool:
    return log.read_text(encoding="utf-8").count("MQTT subscribed") >= n


@pytest.fixture(scope="module")
def reference(scenario_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The uninterrupted run: the same service, in process, on the same messages."""
    sc = scenario_from_data(deepcopy(SCENARIO))
    msgs = messages(sc)
    tag = uuid.uuid4().hex[:8]
    prefix = f"limes-test/{tag}/sensors"
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'ref.db'}"
    service = Service(ServiceConfig(scenario=scenario_file, database_url=url, http=None,
                                    mqtt_client_id=f"limes-ref-{tag}", mqtt_topic_prefix=prefix,
                                    tick_s=None))  # fmt: skip
    service.start()
    store = Store(url)
    pub = Publisher(prefix, msgs, 0.0)
    try:
        pub.thread.start()
        pub.close()
        wait_until(lambda: store.detections() >= total_detections(msgs), 30, "reference store")
    finally:
        service.stop()
    alerts = store.alerts()
    store.close()
    assert len(alerts) >= len(WALKERS), "the reference run should alert on every walker"
    return msgs, sorted(alerts)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'limes.db'}"
        return
    name = "limes_restart_" + uuid.uuid4().hex[:10]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_a_hard_kill_mid_stream_stores_every_detection_and_alert_exactly_once(
    reference: Any, scenario_file: Path, database: str, tmp_path: Path
) -> None:
    lines, _ = kill_and_restart(reference, scenario_file, database, tmp_path)
    recovered = [x for x in lines if x["message"].startswith("recovered")]
    assert recovered, "the restarted service should have replayed the stored detections"


def test_after_a_snapshot_a_restart_replays_only_what_was_stored_since(
    reference: Any, scenario_file: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    lines, killed_at = kill_and_restart(
        reference, scenario_file, url, tmp_path, "--snapshot", "0.5"
    )
    loaded = [x for x in lines if x["message"].startswith("snapshot of")]
    assert loaded and "loaded" in loaded[0]["message"], "the restart should use the snapshot"
    replayed = [x for x in lines if x["message"].startswith("recovered")]
    replayed_n = int(replayed[0]["message"].split()[1]) if replayed else 0
    assert replayed_n < killed_at, "a snapshot should spare replaying what came before it"


def test_snapshots_by_count_bound_the_replay_however_long_the_period(
    reference: Any, scenario_file: Path, tmp_path: Path
) -> None:
    # An hour's period never passes here: only the count of tracked detections takes them.
    msgs, _ = reference
    every = max(1, total_detections(msgs) // 8)
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    lines, killed_at = kill_and_restart(
        reference, scenario_file, url, tmp_path, "--snapshot", "3600",
        "--snapshot-detections", str(every),
    )  # fmt: skip
    loaded = [x for x in lines if x["message"].startswith("snapshot of")]
    assert loaded and "loaded" in loaded[0]["message"], "a snapshot by count should be loaded"
    replayed = [x for x in lines if x["message"].startswith("recovered")]
    replayed_n = int(replayed[0]["message"].split()[1]) if replayed else 0
    assert replayed_n < killed_at, "the snapshot by count should spare replaying what it holds"


def kill_and_restart(
    reference: Any, scenario_file: Path, database: str, tmp_path: Path, *extra: str
) -> tuple[list[dict[str, Any]], int]:
    """Stream, SIGKILL once a third is stored, restart, finish: every detection stored once
    and exactly the reference run's alerts. Returns the JSON log lines and the count stored
    at the kill."""
    msgs, expected_alerts = reference
    total = total_detections(msgs)
    tag = uuid.uuid4().hex[:8]
    prefix, client_id = f"limes-test/{tag}/sensors", f"limes-restart-{tag}"
    log = tmp_path / "serve.log"
    store = Store(database)
    first = serve_process(scenario_file, database, client_id, prefix, log, *extra)
    second = None
    pub = None
    try:
        wait_until(lambda: subscribed(log, 1), 60, "the first service to subscribe")
        pub = Publisher(prefix, msgs, 0.02)
        pub.thread.start()
        wait_until(lambda: store.detections() >= total // 3, 30, "a third of the stream stored")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = store.detections()
        assert killed_at < total, "the kill came too late to test anything"
        second = serve_process(scenario_file, database, client_id, prefix, log, *extra)
        pub.close()
        wait_until(lambda: store.detections() >= total, 60, "the whole stream stored")
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0, "limes serve should exit 0 on SIGTERM"
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(10)
        if pub is not None:
            pub.client.loop_stop()
    text_lines = log.read_text(encoding="utf-8").splitlines()
    lines = [json.loads(x) for x in text_lines if x.startswith("{")]
    assert store.detections() == total == store.distinct_keys()
    alerts = store.alerts()
    store.close()
    assert len(alerts) == len(set(alerts)), "an alert was stored twice"
    assert sorted(alerts) == expected_alerts
    return lines, killed_at

"""Sustained ingest through `limes serve` over MQTT into PostgreSQL, with the live picture read.

`limes serve` runs as a subprocess (PostgreSQL store, its own Mosquitto on a free loopback
port with a 1000-message in-flight window, HTTP API on loopback). A publisher process sends
JSON batches (one sensor's scan of the targets in its sector per message, QoS 1) with report
times at the wall clock, for `--targets` walkers crossing an invented straight border at
`--hz` reports per second each. Meanwhile this process reads `GET /api/tracks` and
`GET /api/alerts` with a viewer token.

Figures:
- ours: detections/s stored, sustained: every detection sent, committed in PostgreSQL, per
  second from the first publication to the moment the last one was found stored (the service
  acknowledges a message only after its detections, tracks and alerts are committed, so a
  service that falls behind drains a backlog after publishing ends: `drain_after_publishing_s`
  says how long); `steady_fit_per_s`, the slope of stored rows over the middle of the run;
  p50/p99 detection-to-alert latency, from the moment the service's MQTT door read the message
  of the alert's last detection to the commit of the alert (the service's own measure, logged
  at shutdown), over all alerts and over those after the first 5 s of alerting (every walker
  is in view from the first scan, so all are confirmed, and most alert, in the same scan: a
  start-up burst of ~2000 alerts that no later minute of a floor sees); the service's
  garbage-collector pauses; p50/p99 of the two API reads under that load.
- anchors, side by side: the same messages through the same Mosquitto to a consumer that only
  acknowledges (what broker and client library alone carry), and the same detections
  COPY'd straight into a bare PostgreSQL table (what the database alone takes).

The machine has 2 cores, shared by the publisher, Mosquitto, PostgreSQL and the service.
Only loopback is used. The last line is one JSON object.

    python benchmarks/service.py [--quick] [--targets 2000] [--hz 5] [--seconds 40]
                                 [--serve-args="--no-tune-gc"]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import yaml

PG_ADMIN = os.environ.get("LIMES_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SENSORS = 12
LENGTH_KM = 36.0
LAW = {"range_m": 8000, "hazard_per_s": 0.5, "position_sd_m": 10}


def scenario() -> dict[str, Any]:
    """A straight 36 km border with towers every 3 km (invented positions)."""
    return {
        "name": "service-bench",
        "title": "Straight benchmark border (invented positions)",
        "border": {"line": [[41.0, 34.0], [41.0 + LENGTH_KM / 92.5, 34.0]], "inside": "right"},
        "terrain": {"synthetic": {}},
        "controllers": [{"name": "far", "channel": "net 1"}],
        "sectors": [
            {
                "name": f"s{i}",
                "command": "A",
                "far_side": "far",
                "from_km": i * 12.0,
                "to_km": (i + 1) * 12.0 if i < 2 else LENGTH_KM,
            }
            for i in range(3)
        ],
        "sensor_models": [
            {
                "name": "tower",
                "kind": "thermal_camera",
                "laws": {"person": {"day": LAW, "night": LAW}},
            }
        ],
        "sensors": [
            {
                "id": f"t{i}",
                "model": "tower",
                "position": {"chainage_km": 1.5 + 3.0 * i, "offset_m": 500},
            }
            for i in range(SENSORS)
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the publisher (its own process) ----------------------------------------------------------


def publish(
    scenario_path: str, port: int, prefix: str, targets: int, hz: float, seconds: float,
    counter: Any, fast: bool, span: Any = None,
) -> None:  # fmt: skip
    """Walkers crossing at `hz` reports/s each; one message per sensor per step."""
    import paho.mqtt.client as mqtt

    from limes.scenario.load import load_scenario

    sc = load_scenario(scenario_path)
    rng = np.random.default_rng(1)
    chain = rng.uniform(0.5e3, (LENGTH_KM - 0.5) * 1e3, targets)
    sensor_of = np.clip((chain / 3000.0).astype(int), 0, SENSORS - 1)
    off0 = rng.uniform(-400.0, 200.0, targets)
    speed = rng.uniform(1.0, 2.0, targets)
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")  # fmt: skip
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    seq = np.zeros(SENSORS, dtype=np.int64)
    step = 1.0 / hz
    start = time.monotonic()
    if span is not None:
        span[0] = start  # CLOCK_MONOTONIC: the same clock in every process
    k = 0
    while time.monotonic() - start < seconds:
        t_el = k * step
        due = start + t_el
        if not fast and time.monotonic() < due:
            time.sleep(max(0.0, due - time.monotonic()))
        now = datetime.now(UTC).isoformat()
        off = off0 + speed * t_el
        x, y = sc.border.point_at(chain, off)
        lon, lat = sc.frame.to_lonlat(x + rng.normal(0, 5, targets), y + rng.normal(0, 5, targets))
        for s in range(SENSORS):
            idx = np.flatnonzero(sensor_of == s)
            items = []
            for i in idx.tolist():
                items.append({"sensor_id": f"t{s}", "seq": int(seq[s]), "time": now,
                              "lon": float(lon[i]), "lat": float(lat[i]), "position_sd_m": 5.0,
                              "class": "person"})  # fmt: skip
                seq[s] += 1
            if items:
                body = json.dumps({"detections": items})
                client.publish(f"{prefix}/t{s}/detections", body, qos=1)
                with counter.get_lock():
                    counter.value += len(items)
        k += 1
    if span is not None:
        span[1] = time.monotonic()
    client.loop_stop()
    client.disconnect()


# -- anchors ----------------------------------------------------------------------------------


def mqtt_anchor(scenario_path: str, port: int, targets: int, hz: float, seconds: float) -> float:
    """Detections/s the broker carries to a consumer that only acknowledges (QoS 1)."""
    import paho.mqtt.client as mqtt

    prefix = f"anchor/{uuid.uuid4().hex[:6]}/sensors"
    got = {"n": 0, "first": 0.0, "last": 0.0}

    def on_message(c: Any, u: Any, m: Any) -> None:
        n = m.payload.count(b'"seq"')
        if not got["n"]:
            got["first"] = time.monotonic()
        got["n"] += n
        got["last"] = time.monotonic()

    sub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                      client_id=f"anchor-{uuid.uuid4().hex[:6]}", clean_session=True)  # fmt: skip
    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.subscribe(f"{prefix}/+/detections", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    counter = mp.get_context("spawn").Value("q", 0)
    p = mp.get_context("spawn").Process(
        target=publish,
        args=(scenario_path, port, prefix, targets, hz, seconds, counter, True),
    )
    p.start()
    p.join()
    deadline = time.monotonic() + 20
    while got["n"] < counter.value and time.monotonic() < deadline:
        time.sleep(0.05)
    sub.loop_stop()
    sub.disconnect()
    return got["n"] / max(got["last"] - got["first"], 1e-9)


def copy_anchor(url: str, n: int) -> float:
    """Detections/s of a bare COPY of the same rows into an unindexed-but-keyed table."""
    now = datetime.now(UTC)
    rows = [(f"t{i % SENSORS}", i, now, now, 41.1, 33.9, 1.0, 2.0, 25.0, 0.0, 25.0, "person",
             1.0, None, False) for i in range(n)]  # fmt: skip
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS anchor_detections")
        conn.execute(
            "CREATE TABLE anchor_detections (id bigserial primary key, sensor_id text, seq bigint,"
            " time timestamptz, received timestamptz, lon float8, lat float8, x float8, y float8,"
            " var_xx float8, var_xy float8, var_yy float8, target_class text, confidence float8,"
            " group_size int, late bool, unique (sensor_id, seq))"
        )
        t0 = time.perf_counter()
        batch = 2000
        for i in range(0, n, batch):
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(
                    "COPY anchor_detections (sensor_id, seq, time, received, lon, lat, x, y, "
                    "var_xx, var_xy, var_yy, target_class, confidence, group_size, late) "
                    "FROM STDIN"
                ) as copy,
            ):
                for r in rows[i : i + batch]:
                    copy.write_row(r)
        took = time.perf_counter() - t0
        conn.execute("DROP TABLE anchor_detections")
    return n / took


# -- the run ----------------------------------------------------------------------------------


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM detections").fetchone()[0])  # type: ignore[index]


def backends(url: str, dbname: str) -> list[int]:
    """Process ids of the PostgreSQL backends serving `dbname` (this one's excluded)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def cpu_seconds(*pids: int) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None}
    a = np.asarray(values)
    return {"p50": float(np.quantile(a, 0.5)), "p99": float(np.quantile(a, 0.99))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    ap.add_argument("--targets", type=int, default=2000)
    ap.add_argument("--hz", type=float, default=5.0)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument(
        "--serve-args", default="", help="more `limes serve` options, e.g. --no-tune-gc"
    )
    a = ap.parse_args()
    seconds = 12.0 if a.quick else a.seconds
    work = Path(tempfile.mkdtemp(prefix="limes-bench-"))
    sc_path = work / "scenario.yaml"
    sc_path.write_text(yaml.safe_dump(scenario()), encoding="utf-8")
    port = free_port()
    (work / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_inflight_messages 1000\nmax_queued_messages 0\n", encoding="utf-8")  # fmt: skip
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(work / "mosquitto.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    dbname = "limes_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    from limes.store.accounts import add_user

    token = add_user(url, "bench-viewer", "viewer")
    http_port = free_port()
    log = work / "serve.log"
    serve = subprocess.Popen(
        [sys.executable, "-m", "limes.service", "--scenario", str(sc_path), "--database", url,
         "--mqtt", f"127.0.0.1:{port}", "--mqtt-client-id", "bench-serve", "--http",
         f"127.0.0.1:{http_port}", "--reorder-window", "0.05", "--scan-window", "0.05",
         "--tick", "0.5", "--tick-lag", "2", "--log-json", *a.serve_args.split()],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip
    figures: dict[str, Any] = {}
    try:
        api = httpx.Client(base_url=f"http://127.0.0.1:{http_port}",
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if api.get("/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or serve.poll() is not None:
                raise SystemExit(f"limes serve did not start; see {log}")
            time.sleep(0.2)
        time.sleep(1.0)
        counter = mp.get_context("spawn").Value("q", 0)
        span = mp.get_context("spawn").Array("d", [0.0, 0.0])  # publishing start and end
        prefix = "limes/v1/sensors"
        pub = mp.get_context("spawn").Process(
            target=publish,
            args=(str(sc_path), port, prefix, a.targets, a.hz, seconds, counter, False, span),
        )
        reads: dict[str, list[float]] = {"tracks": [], "alerts": []}
        stop_reads = threading.Event()

        def reader() -> None:
            while not stop_reads.is_set():
                for name, path in (("tracks", "/api/tracks?limit=500"),
                                   ("alerts", "/api/alerts?limit=100")):  # fmt: skip
                    t0 = time.perf_counter()
                    try:
                        r = api.get(path)
                    except httpx.HTTPError:
                        continue  # the service is stopping
                    if r.status_code == 200:
                        reads[name].append(time.perf_counter() - t0)
                stop_reads.wait(0.2)

        samples: list[tuple[float, int]] = []
        cpu0 = cpu_seconds(serve.pid), cpu_seconds(*backends(url, dbname))
        pub.start()
        threading.Thread(target=reader, daemon=True).start()
        t_end = time.monotonic() + seconds + 30
        while time.monotonic() < t_end:
            samples.append((time.monotonic(), count(url)))
            if not pub.is_alive() and samples[-1][1] >= counter.value:
                break
            time.sleep(0.25)
        cpu1 = cpu_seconds(serve.pid), cpu_seconds(*backends(url, dbname))
        stop_reads.set()
        pub.join()
        sent = int(counter.value)
        stored = samples[-1][1]
        # Steady phase: the middle of the run, away from start-up and the drain.
        t = np.array([s[0] for s in samples]) - samples[0][0]
        n = np.array([s[1] for s in samples], dtype=float)
        lo, hi = 0.2 * seconds, 0.9 * seconds
        m = (t >= lo) & (t <= hi)
        steady = float(np.polyfit(t[m], n[m], 1)[0]) if m.sum() >= 3 else float("nan")
        # Sustained: every detection sent, stored, per second from the first publication to
        # the sample that found the last one stored (the drain of any backlog included). A
        # service that keeps up stores at the offered rate and drains in well under a second.
        all_in = next((ts for ts, c in samples if c >= sent), samples[-1][0])
        rate = stored / max(all_in - span[0], 1e-9)
        drain = all_in - span[1]
        serve.send_signal(signal.SIGTERM)
        rc = serve.wait(120)
        stats = {}
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.startswith("{") and '"limes serve stopped"' in line:
                stats = json.loads(line)
        figures.update({
            "sent_detections": sent, "stored_detections": stored, "exit_code": rc,
            "offered_per_s": a.targets * a.hz,
            "stored_per_s": rate,
            "steady_fit_per_s": steady,
            "drain_after_publishing_s": drain,
            "alerts_stored": stats.get("alerts_stored"),
            "alert_latency_p50_s": stats.get("alert_latency_p50_s"),
            "alert_latency_p99_s": stats.get("alert_latency_p99_s"),
            "alert_latency_later_p50_s": stats.get("alert_latency_later_p50_s"),
            "alert_latency_later_p99_s": stats.get("alert_latency_later_p99_s"),
            "serve_cpu_us_per_detection": (cpu1[0] - cpu0[0]) / max(stored, 1) * 1e6,
            "postgres_cpu_us_per_detection": (cpu1[1] - cpu0[1]) / max(stored, 1) * 1e6,
            "gc_pause_total_s": stats.get("gc_pause_total_s"),
            "gc_pause_max_s": stats.get("gc_pause_max_s"),
            "api_tracks_s": quantiles(reads["tracks"]),
            "api_alerts_s": quantiles(reads["alerts"]),
        })  # fmt: skip
        print(f"limes serve: {rate:,.0f} detections/s stored (offered "
              f"{a.targets * a.hz:,.0f}/s), {stored}/{sent} stored, the last {drain:.2f} s "
              f"after publishing ended; exit {rc}")  # fmt: skip
        print(
            f"  alert latency p50 {stats.get('alert_latency_p50_s')} s, "
            f"p99 {stats.get('alert_latency_p99_s')} s over {stats.get('alerts_timed')} alerts; "
            f"after the start-up burst p50 {stats.get('alert_latency_later_p50_s')} s, "
            f"p99 {stats.get('alert_latency_later_p99_s')} s"
        )
        print(f"  GET /api/tracks {figures['api_tracks_s']}, /api/alerts {figures['api_alerts_s']}")
        print(f"  CPU per detection stored: limes serve "
              f"{figures['serve_cpu_us_per_detection']:.0f} us, its PostgreSQL backends "
              f"{figures['postgres_cpu_us_per_detection']:.0f} us")  # fmt: skip
        figures["anchor_mqtt_per_s"] = mqtt_anchor(str(sc_path), port, a.targets, a.hz,
                                                   min(seconds, 8.0))  # fmt: skip
        figures["anchor_copy_per_s"] = copy_anchor(url, 100_000 if not a.quick else 40_000)
        figures["ratio_vs_mqtt"] = rate / figures["anchor_mqtt_per_s"]
        figures["ratio_vs_copy"] = rate / figures["anchor_copy_per_s"]
        print(
            f"anchors: Mosquitto to an ack-only consumer {figures['anchor_mqtt_per_s']:,.0f}/s"
            f" (ratio {figures['ratio_vs_mqtt']:.2f}); bare COPY into PostgreSQL "
            f"{figures['anchor_copy_per_s']:,.0f}/s (ratio {figures['ratio_vs_copy']:.2f})"
        )
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        broker.terminate()
        broker.wait()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

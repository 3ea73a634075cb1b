"""End-to-end ingest: detections through the real Mosquitto into the service, to alerts.

A publisher process sends JSON batches (one sensor scan of up to `--batch` detections per
message, QoS 1) on `…/sensors/<id>/detections` to Mosquitto on 127.0.0.1:1883, paced at
`--rate` detections/s, for `--targets` targets heading across an invented straight border
(walkers and vehicles, most crossing during the run). This process runs what `limes serve`
runs (`limes.service.Service`, MQTT in, no HTTP): the service's MQTT door (parse, check, queue),
its committer (dedup, the tracker per sector, the rules), the store (`--database`, default an
SQLite file in a temporary folder, the embedded default) and the acknowledgement of each
message once what it produced is committed.

Figures:
- ours: detections/s the pipeline took in while the publisher was sending, and p50/p99
  detection-to-alert latency, from the detection's time stamp (set to the wall clock when
  the message is published) to the alert's emission on the bus; detections stored, and the
  service's own alert latency (message read → alert committed);
- anchor: the same messages published as fast as possible to a no-op MQTT consumer, i.e.
  what the broker and the client library alone carry here; the ratio says how much of that
  the pipeline keeps;
- stages: the same messages through the JSON door's parser alone and through
  `Pipeline.submit` alone, each on one core without the broker, to show where time goes.

The tracker runs with a 0.05 s reorder window and 0.05 s scan bins (the 1 s default would
put a one-second floor under the latency). Only loopback is used. The machine has 2 cores,
shared by the publisher, Mosquitto and the pipeline. The last line is one JSON object.

    python benchmarks/ingest.py [--quick] [--rate 20000] [--targets 4000] [--batch 500]
                                [--database sqlite:///…|postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import yaml

from limes.ops.alert import Alert
from limes.ops.bus import Topic
from limes.ops.ingest.json_format import parse_json_message
from limes.ops.pipeline import Pipeline
from limes.ops.tracker import TrackerConfig
from limes.ops.tracker.tracker import warm_up as tracker_warm_up
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario
from limes.service import Service, ServiceConfig
from limes.service.gc_pauses import tune_gc

HOST, PORT = "127.0.0.1", 1883
PLACEHOLDER = "2000-01-01T00:00:00.000000+00:00"
N_SECTORS = 4
SENSORS_PER_SECTOR = 2
SECTOR_KM = 23.0
POSITION_SD_M = 5.0
GOAL_RATE, GOAL_P99_MS = 20_000, 250
STALL_S = 20.0
LAW = {"range_m": 30_000, "hazard_per_s": 0.5, "position_sd_m": POSITION_SD_M}


def bench_scenario() -> Scenario:
    """An invented straight 92 km border, 4 sectors, 2 radars each (positions invented)."""
    return scenario_from_data(bench_scenario_data())


def bench_scenario_data() -> dict[str, Any]:
    """The benchmark's scenario as a scenario file's contents."""
    n_sensors = N_SECTORS * SENSORS_PER_SECTOR
    spacing = SECTOR_KM * N_SECTORS / n_sensors
    return {
        "name": "ingest-bench", "title": "Invented straight border for the ingest benchmark",
        "border": {"line": [[40.0, 34.0], [41.0, 34.0]], "inside": "right"},
        "terrain": {"synthetic": {}},
        "controllers": [{"name": "far", "channel": "liaison"}],
        "sectors": [
            {"name": f"s{i}", "command": f"Command {i}", "far_side": "far",
             "from_km": SECTOR_KM * i, "to_km": SECTOR_KM * (i + 1)}
            for i in range(N_SECTORS)
        ],
        "sensor_models": [{"name": "radar", "kind": "radar",
                           "laws": {"person": {"day": LAW}, "vehicle": {"day": LAW}}}],
        "sensors": [
            {"id": f"radar-{k}", "model": "radar",
             "position": {"chainage_km": spacing * (k + 0.5), "offset_m": 2000}}
            for k in range(n_sensors)
        ],
    }  # fmt: skip


@dataclass(frozen=True)
class Workload:
    """Pre-encoded messages: topic, body with a time placeholder, send offset (s), count."""

    topics: list[str]
    bodies: list[bytes]
    offsets_s: np.ndarray
    counts: np.ndarray

    @property
    def detections(self) -> int:
        return int(self.counts.sum())


def build_workload(
    sc: Scenario, prefix: str, targets: int, rate: float, seconds: float, batch: int, seed: int
) -> Workload:
    """Targets cross the line; each is reported by its nearest sensor every targets/rate s."""
    rng = np.random.default_rng(seed)
    period = targets / rate
    length = sc.border.length_m
    chain0 = rng.uniform(1000.0, length - 1000.0, targets)
    vehicle = rng.random(targets) < 0.2
    speed_in = np.where(vehicle, rng.uniform(6.0, 12.0, targets), rng.uniform(0.8, 1.8, targets))
    speed_along = rng.normal(0.0, 0.3, targets)
    # Start just outside so most cross during the run.
    off0 = -rng.uniform(0.1, 0.8, targets) * speed_in * seconds
    group = rng.integers(1, 6, targets)
    cls = np.where(vehicle, "vehicle", "person")
    sensors = sorted(sc.sensors)
    sensor_km = np.array([sc.sensors[s].position.chainage_km or 0.0 for s in sensors]) * 1000.0
    owner = np.abs(chain0[:, None] - sensor_km[None, :]).argmin(axis=1)
    members = [np.flatnonzero(owner == k) for k in range(len(sensors))]
    seq = [0] * len(sensors)
    topics, bodies, offsets, counts = [], [], [], []
    for p in range(int(seconds / period)):
        for k, sensor in enumerate(sensors):
            t = p * period + k * period / len(sensors)  # sensors' scans staggered in a period
            idx = members[k]
            x, y = sc.border.point_at(
                chain0[idx] + speed_along[idx] * t, off0[idx] + speed_in[idx] * t
            )
            x = x + rng.normal(0.0, POSITION_SD_M, idx.size)
            y = y + rng.normal(0.0, POSITION_SD_M, idx.size)
            lon, lat = sc.frame.to_lonlat(x, y)
            for c in range(0, idx.size, batch):
                part = range(c, min(c + batch, idx.size))
                items = [
                    {"sensor_id": sensor, "seq": seq[k] + j - c, "time": PLACEHOLDER,
                     "lon": round(float(lon[j]), 7), "lat": round(float(lat[j]), 7),
                     "position_sd_m": POSITION_SD_M, "class": str(cls[idx[j]]),
                     "confidence": 0.9, "group_size": int(group[idx[j]])}
                    for j in part
                ]  # fmt: skip
                seq[k] += len(items)
                topics.append(f"{prefix}/{sensor}/detections")
                bodies.append(json.dumps({"detections": items}).encode())
                offsets.append(t)
                counts.append(len(items))
    return Workload(topics, bodies, np.array(offsets), np.array(counts))


# --- the publisher process ------------------------------------------------------------------


def publish(work: Workload, paced: bool, go: Any, done: Any, sent_at: Any) -> None:
    """Send every message (paced on its offset, or as fast as possible), QoS 1."""
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         client_id=f"limes-bench-pub-{uuid.uuid4().hex[:8]}")  # fmt: skip
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect(HOST, PORT)
    client.loop_start()
    go.wait()
    start = time.time()
    placeholder = PLACEHOLDER.encode()
    last = None
    for topic, body, offset in zip(work.topics, work.bodies, work.offsets_s.tolist(), strict=True):
        if paced:
            delay = start + offset - time.time()
            if delay > 0:
                time.sleep(delay)
        stamp = datetime.now(UTC).isoformat(timespec="microseconds").encode()
        last = client.publish(topic, body.replace(placeholder, stamp), qos=1)
    if last is not None:
        last.wait_for_publish(60)
    sent_at.value = time.time() - start
    client.loop_stop()
    client.disconnect()
    done.set()


def start_publisher(work: Workload, paced: bool) -> tuple[Any, Any, Any, Any]:
    ctx = mp.get_context("fork")  # the workload is inherited, not pickled
    go, done, sent_at = ctx.Event(), ctx.Event(), ctx.Value("d", 0.0)
    proc = ctx.Process(target=publish, args=(work, paced, go, done, sent_at), daemon=True)
    proc.start()
    return proc, go, done, sent_at


# --- anchor: a no-op consumer -----------------------------------------------------------------


def run_anchor(work: Workload, prefix: str, timeout_s: float) -> dict[str, float]:
    """Messages and detections per second Mosquitto delivers to a consumer that does nothing."""
    got = {"n": 0, "det": 0, "first": 0.0, "last": 0.0}
    all_done = threading.Event()
    total = len(work.bodies)
    ready = threading.Event()

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        now = time.time()
        if got["n"] == 0:
            got["first"] = now
        got["n"] += 1
        got["last"] = now
        if got["n"] == total:
            all_done.set()

    consumer = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                           client_id=f"limes-bench-noop-{uuid.uuid4().hex[:8]}")  # fmt: skip
    consumer.on_message = on_message
    consumer.on_subscribe = lambda *a: ready.set()
    consumer.connect(HOST, PORT)
    consumer.subscribe(f"{prefix}/+/detections", qos=1)
    consumer.loop_start()
    ready.wait(10)
    proc, go, _, _ = start_publisher(work, paced=False)
    time.sleep(0.5)
    go.set()
    all_done.wait(timeout_s)
    proc.join(10)
    consumer.loop_stop()
    consumer.disconnect()
    span = max(got["last"] - got["first"], 1e-9)
    received = got["n"]
    mean_batch = work.detections / len(work.bodies)
    return {
        "messages": received,
        "messages_lost": total - received,
        "messages_per_s": round(received / span, 1),
        "detections_per_s": round(received * mean_batch / span, 1),
    }


# --- ours: the pipeline ----------------------------------------------------------------------


def tracker_settings() -> dict[str, float]:
    """A 0.05 s reorder window and scan bins (the 1 s default is a floor under latency)."""
    return {"reorder_window_s": 0.05, "scan_window_s": 0.05}


def tracker_config() -> TrackerConfig:
    return TrackerConfig(**tracker_settings())


def run_pipeline(
    work: Workload, prefix: str, timeout_s: float, database_url: str | None
) -> dict[str, Any]:
    """The service (MQTT door, committer, store) on the workload; figures as it ran."""
    with tempfile.TemporaryDirectory(prefix="limes-bench-ingest-") as folder:
        scenario_file = Path(folder) / "scenario.yaml"
        scenario_file.write_text(yaml.safe_dump(bench_scenario_data()), encoding="utf-8")
        client_id = f"limes-bench-{uuid.uuid4().hex[:8]}"
        config = ServiceConfig(
            scenario=scenario_file, database_url=database_url or f"sqlite:///{folder}/bench.db",
            mqtt=f"{HOST}:{PORT}", mqtt_client_id=client_id, mqtt_topic_prefix=prefix,
            http=None, log_level="WARNING", **tracker_settings(),
        )  # fmt: skip
        service = Service(config)
        try:
            service.start()
            tune_gc()  # as `limes serve` does in its own process
            return _measure(service, work, timeout_s)
        finally:
            service.stop()
            _forget_session(client_id)


def _measure(service: Service, work: Workload, timeout_s: float) -> dict[str, Any]:
    assert service.pipeline is not None and service.committer is not None
    pipeline, committer = service.pipeline, service.committer
    latencies: list[float] = []
    first_last = [0.0, 0.0]
    seen = [0]

    def on_detections(batch: Sequence[Any]) -> None:
        now = time.time()
        if seen[0] == 0:
            first_last[0] = now
        seen[0] += len(batch)
        first_last[1] = now

    def on_alerts(alerts: Sequence[Alert]) -> None:
        now = time.time()
        latencies.extend(now - a.time.timestamp() for a in alerts)

    pipeline.bus.subscribe(Topic.DETECTIONS, on_detections)
    pipeline.bus.subscribe(Topic.ALERTS, on_alerts)
    cpu0 = time.process_time()
    proc, go, done, sent_at = start_publisher(work, paced=True)
    time.sleep(0.5)
    go.set()
    started = time.time()
    deadline = started + timeout_s
    # Done when everything is stored, or when nothing more was taken in or stored for
    # `STALL_S` after the publisher finished (Mosquitto drops what overflows a client's queue,
    # `max_queued_messages`; a large first transaction may take seconds on a loaded machine).
    stored = committer.stats
    progress = (time.time(), (0, 0))
    while time.time() < deadline:
        if done.is_set() and stored.detections_stored + _rejected(pipeline) >= work.detections:
            break
        now_at = (seen[0], stored.detections_stored)
        if now_at != progress[1]:
            progress = (time.time(), now_at)
        elif done.is_set() and time.time() - progress[0] > STALL_S:
            break
        time.sleep(0.05)
    complete = stored.detections_stored + _rejected(pipeline) >= work.detections
    finished = time.time() if complete else min(time.time(), progress[0])
    cpu = time.process_time() - cpu0
    proc.join(10)
    lat = np.array(latencies)
    span = max(first_last[1] - first_last[0], 1e-9)
    m = pipeline.metrics
    figures = service.figures()
    return {
        "detections_in": seen[0],
        "detections_stored": stored.detections_stored,
        "detections_sent": work.detections,
        # Not stored when the wait ended: still with the broker, unacknowledged (a service
        # that goes on stores them; nothing is acknowledged before it is stored).
        "detections_not_stored_in_time": (
            work.detections - stored.detections_stored - _rejected(pipeline)
        ),
        "offered_per_s": round(work.detections / max(sent_at.value, 1e-9), 1),
        "detections_per_s": round(seen[0] / span, 1),
        "stored_per_s": round(stored.detections_stored / max(finished - started, 1e-9), 1),
        "drained_after_publisher_s": round(finished - started - sent_at.value, 2),
        "alerts": len(latencies),
        "alerts_by_rule": {k[0]: int(v) for k, v in m.alerts.values().items()},
        "alerts_stored": stored.alerts_stored,
        "rejected": int(sum(m.rejected.values().values())),
        "untracked": int(sum(m.untracked.values().values())),
        "p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 1) if lat.size else None,
        "p99_ms": round(float(np.percentile(lat, 99)) * 1e3, 1) if lat.size else None,
        "committed_p50_ms": _ms(figures.get("alert_latency_p50_s")),
        "committed_p99_ms": _ms(figures.get("alert_latency_p99_s")),
        "pipeline_cpu_s_per_s": round(cpu / max(finished - started, 1e-9), 2),
        # CPU per detection (door, committer, store) is what contention does not distort.
        "cpu_us_per_detection": round(cpu / max(seen[0], 1) * 1e6, 1),
        "tracks_alive_end": int(m.tracks_alive.value),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e3, 1)


def _forget_session(client_id: str) -> None:
    """Leave no persistent session (and no queued messages) behind on the broker."""
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         client_id=client_id, clean_session=True)  # fmt: skip
    client.connect(HOST, PORT)
    client.disconnect()


def _rejected(pipeline: Pipeline) -> int:
    return int(sum(pipeline.metrics.rejected.values().values()))


# --- stages alone --------------------------------------------------------------------------


def run_stages(sc: Scenario, work: Workload, limit: int) -> dict[str, float]:
    """Parse alone and `Pipeline.submit` alone over the first `limit` messages, one core."""
    pipeline = Pipeline(sc, tracker_config())
    t0 = work.offsets_s[0]
    base = datetime.now(UTC).timestamp() - (work.offsets_s[limit - 1] - t0) - 1.0
    bodies = [
        b.replace(PLACEHOLDER.encode(),
                  datetime.fromtimestamp(base + o - t0, UTC).isoformat().encode())
        for b, o in zip(work.bodies[:limit], work.offsets_s[:limit].tolist(), strict=True)
    ]  # fmt: skip
    ctx = pipeline.context
    start = time.perf_counter()
    outcomes = [parse_json_message(b, ctx, source="bench") for b in bodies]
    parse_s = time.perf_counter() - start
    n = sum(len(o.detections) for o in outcomes)
    start = time.perf_counter()
    for o in outcomes:
        pipeline.submit(o.detections)
    pipeline.flush()
    submit_s = time.perf_counter() - start
    return {
        "parse_detections_per_s": round(n / parse_s, 1),
        "submit_detections_per_s": round(n / submit_s, 1),
        "both_on_one_core_detections_per_s": round(n / (parse_s + submit_s), 1),
    }


def warm_up(sc: Scenario, work: Workload) -> None:
    """Compile the tracker's numba kernels before anything is timed."""
    tracker_warm_up()
    run_stages(sc, work, min(len(work.bodies), 16))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short run (under a minute)")
    ap.add_argument("--rate", type=float, default=20_000.0, help="offered detections/s")
    ap.add_argument("--targets", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=500, help="detections per message (≤ 1000)")
    ap.add_argument("--seconds", type=float, default=None, help="publishing time (default 30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--database", default=None, help="the service's store (default: a temporary SQLite file)"
    )
    args = ap.parse_args(argv)
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    try:
        socket.create_connection((HOST, PORT), timeout=2.0).close()
    except OSError as exc:
        raise SystemExit(
            f"Mosquitto is not reachable on {HOST}:{PORT} ({exc}); start it with "
            "`mosquitto -d -c /etc/mosquitto/mosquitto.conf`"
        ) from None
    prefix = f"limes-bench/{uuid.uuid4().hex[:8]}/sensors"
    sc = bench_scenario()
    t = time.perf_counter()
    work = build_workload(sc, prefix, args.targets, args.rate, seconds, args.batch, args.seed)
    print(f"workload: {len(work.bodies)} messages, {work.detections} detections "
          f"({work.detections / len(work.bodies):.0f} per message), {args.targets} targets, "
          f"built in {time.perf_counter() - t:.1f} s; {os.cpu_count()} cores")  # fmt: skip
    warm_up(sc, work)
    stages = run_stages(sc, work, min(len(work.bodies), max(16, len(work.bodies) // 4)))
    print(f"stages on one core, no broker: parse {stages['parse_detections_per_s']:,.0f}/s, "
          f"submit (dedup+tracker+rules) {stages['submit_detections_per_s']:,.0f}/s, "
          f"both {stages['both_on_one_core_detections_per_s']:,.0f}/s")  # fmt: skip
    wait_s = seconds * 2 + 10 if args.quick else seconds * 4 + 30
    anchor = run_anchor(work, prefix, timeout_s=wait_s)
    print(
        f"anchor (Mosquitto → no-op consumer): {anchor['detections_per_s']:,.0f} detections/s "
        f"({anchor['messages_per_s']:,.0f} messages/s, {anchor['messages_lost']} lost)"
    )
    ours = run_pipeline(work, prefix, wait_s, args.database)
    print(
        f"ours (Mosquitto → service → store): {ours['detections_per_s']:,.0f} detections/s "
        f"of {ours['offered_per_s']:,.0f}/s offered; p50 {ours['p50_ms']} ms, "
        f"p99 {ours['p99_ms']} ms over {ours['alerts']} alerts; "
        f"drained {ours['drained_after_publisher_s']} s after the publisher finished, "
        f"{ours['detections_stored']:,} stored ({ours['stored_per_s']:,.0f}/s), "
        f"{ours['detections_not_stored_in_time']:,} not stored within the wait; "
        f"alert committed p50 {ours['committed_p50_ms']} ms, "
        f"p99 {ours['committed_p99_ms']} ms after its message was read; "
        f"{ours['cpu_us_per_detection']} µs CPU per detection "
        f"({ours['pipeline_cpu_s_per_s']} cores busy)"
    )
    # The same per-target cadence, fewer targets: the latency when the pipeline keeps up.
    kept_up = (
        ours["detections_per_s"] >= 0.95 * ours["offered_per_s"]
        and (ours["p99_ms"] or 1e9) < GOAL_P99_MS
    )
    easy_rate = args.rate if kept_up else 0.8 * min(ours["detections_per_s"], args.rate)
    if easy_rate < args.rate:
        easy_targets = max(1, round(args.targets * easy_rate / args.rate))
        easy = build_workload(sc, prefix, easy_targets, easy_rate, seconds, args.batch, args.seed)
        sustained = run_pipeline(easy, prefix, wait_s, args.database)
        print(
            f"ours at {sustained['offered_per_s']:,.0f}/s offered ({easy_targets} targets): "
            f"{sustained['detections_per_s']:,.0f} detections/s; p50 {sustained['p50_ms']} ms, "
            f"p99 {sustained['p99_ms']} ms over {sustained['alerts']} alerts"
        )
    else:
        sustained = ours
    ratio = ours["detections_per_s"] / max(anchor["detections_per_s"], 1e-9)
    goal_met = ours["detections_per_s"] >= GOAL_RATE and (ours["p99_ms"] or 1e9) < GOAL_P99_MS
    print(
        f"ratio ours/anchor: {ratio:.3f}; goal (≥ 20,000/s, p99 < 250 ms) "
        f"{'met' if goal_met else 'not met'}"
    )
    print(json.dumps({
        "benchmark": "ingest", "quick": args.quick, "seconds": seconds, "rate": args.rate,
        "targets": args.targets, "batch": args.batch, "cores": os.cpu_count(), "door": "service",
        "ours": ours, "ours_below_saturation": sustained, "anchor": anchor,
        "ratio": round(ratio, 4), "stages": stages,
        "goal": {"detections_per_s": GOAL_RATE, "p99_ms": GOAL_P99_MS, "met": goal_met},
    }))  # fmt: skip


if __name__ == "__main__":
    main()

"""The store writer alone against a bare COPY: what one watch-floor transaction costs.

A synthetic watch floor (`--targets` walkers reported at `--hz` per second, invented positions)
is written through `StoreWriter.write` into a throwaway PostgreSQL database, one transaction per
`--commit-ms` of traffic, as `limes serve` does: every detection, one track state per track per
`--track-store-s`, and an alert on one track in `--alert-every` per second (each opening or
joining an incident, with the change log for the live stream). The writer runs in this process
on one core, PostgreSQL on the other.

Figures:
- ours: detections/s through the writer (detections, track states, alerts, incidents and the
  change log all committed), and the same per part (detections only, track states only, alerts
  only) in microseconds per item;
- anchor: the same detections COPY'd row by row (psycopg `write_row`) into a bare table with
  the same unique key, one transaction per batch, which is what PostgreSQL and its driver
  alone take; the ratio says how much of that the writer keeps while storing everything else.

    python benchmarks/store_write.py [--quick] [--targets 2000] [--hz 5] [--seconds 20]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from limes.geo.frame import Frame
from limes.ops.alert import Alert, Rule, Severity
from limes.ops.detection import Detection, TargetClass
from limes.ops.tracker.state import TrackState, TrackStatus
from limes.store.database import connect
from limes.store.migrate import migrate
from limes.store.writer import StoreWriter

PG_ADMIN = os.environ.get("LIMES_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
FRAME = Frame.transverse_mercator(41.2, 34.0)
SENSORS = 12
RULES = (Rule.CROSSING_IMMINENT, Rule.CROSSED, Rule.INTRUSION)


def floor_batches(
    targets: int, hz: float, seconds: float, commit_s: float, track_store_s: float,
    alerts_per_s: float,
) -> list[tuple[list[Detection], list[TrackState], list[Alert]]]:  # fmt: skip
    """What `limes serve` hands the writer, one entry per transaction."""
    rng = np.random.default_rng(3)
    start = datetime.now(UTC) - timedelta(seconds=seconds)
    x0 = rng.uniform(0.0, 36_000.0, targets)
    y0 = rng.uniform(-400.0, 200.0, targets)
    speed = rng.uniform(1.0, 2.0, targets)
    sensor = (x0 // 3000).astype(int).clip(0, SENSORS - 1)
    seq = np.zeros(SENSORS, dtype=np.int64)
    stored_at = np.full(targets, -np.inf)
    steps_per_commit = max(1, round(commit_s * hz))
    batches = []
    step, alert_no = 0, 0
    cov = tuple(float(i == j) * 25.0 for i in range(4) for j in range(4))
    while step / hz < seconds:
        dets: list[Detection] = []
        states: list[TrackState] = []
        for _ in range(steps_per_commit):
            t_s = step / hz
            t = start + timedelta(seconds=t_s)
            x, y = x0, y0 + speed * t_s
            lon, lat = FRAME.to_lonlat(x, y)
            order = np.argsort(sensor, kind="stable")
            for i in order.tolist():
                s = int(sensor[i])
                dets.append(Detection(
                    f"t{s}", int(seq[s]), t, float(lon[i]), float(lat[i]), float(x[i]),
                    float(y[i]), 25.0, 0.0, 25.0, TargetClass.PERSON, 1.0, None, t, False,
                ))  # fmt: skip
                seq[s] += 1
            due = np.flatnonzero(t_s - stored_at >= track_store_s)
            stored_at[due] = t_s
            for i in due.tolist():
                states.append(TrackState(
                    f"T{i}", t, float(x[i]), float(y[i]), 0.0, float(speed[i]), cov,
                    TargetClass.PERSON, {"person": 0.9, "unknown": 0.1}, None,
                    TrackStatus.CONFIRMED, 5 + step, 0, (f"t{sensor[i]}",), None,
                ))  # fmt: skip
            step += 1
        n_alerts = rng.poisson(alerts_per_s * steps_per_commit / hz)
        alerts = []
        for _ in range(n_alerts):
            i = int(rng.integers(targets))
            rule = RULES[alert_no % len(RULES)]
            alert_no += 1
            alerts.append(Alert(
                f"{rule.value}:T{i}:{alert_no}", rule, f"T{i}", start, 41.2, 34.0, "person",
                None, float(x0[i]) / 1000, 0.0, f"s{int(x0[i] // 12_000)}", "A", "far", "net 1",
                Severity.MEDIUM,
            ))  # fmt: skip
        batches.append((dets, states, alerts))
    return batches


def copy_anchor(url: str, batches: Sequence[Sequence[Detection]]) -> float:
    """Detections/s COPY'd row by row into a bare keyed table, one transaction per batch."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE anchor_detections (id bigserial primary key, sensor_id text, seq bigint,"
            " time timestamptz, received timestamptz, lon float8, lat float8, x float8, y float8,"
            " var_xx float8, var_xy float8, var_yy float8, target_class text, confidence float8,"
            " group_size int, late bool, unique (sensor_id, seq))"
        )
        n = 0
        t0 = time.perf_counter()
        for batch in batches:
            with conn.transaction(), conn.cursor() as cur, cur.copy(
                "COPY anchor_detections (sensor_id, seq, time, received, lon, lat, x, y, var_xx,"
                " var_xy, var_yy, target_class, confidence, group_size, late) FROM STDIN"
            ) as copy:  # fmt: skip
                for d in batch:
                    copy.write_row((d.sensor_id, d.seq, d.time, d.received, d.lon, d.lat, d.x,
                                    d.y, d.var_xx, d.var_xy, d.var_yy, d.target_class.value,
                                    d.confidence, d.group_size, d.late))  # fmt: skip
            n += len(batch)
        took = time.perf_counter() - t0
        conn.execute("DROP TABLE anchor_detections")
    return n / took


def timed(writer: StoreWriter, batches: list[dict[str, Any]]) -> float:
    t0 = time.perf_counter()
    for b in batches:
        writer.write(**b)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    ap.add_argument("--targets", type=int, default=2000)
    ap.add_argument("--hz", type=float, default=5.0)
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds of traffic written")
    ap.add_argument("--commit-ms", type=float, default=200.0)
    ap.add_argument("--track-store-s", type=float, default=1.0)
    ap.add_argument("--alerts-per-s", type=float, default=200.0)
    a = ap.parse_args()
    seconds = 6.0 if a.quick else a.seconds
    batches = floor_batches(a.targets, a.hz, seconds, a.commit_ms / 1000, a.track_store_s,
                            a.alerts_per_s)  # fmt: skip
    n_det = sum(len(d) for d, _, _ in batches)
    n_states = sum(len(s) for _, s, _ in batches)
    n_alerts = sum(len(al) for _, _, al in batches)
    dbname = "limes_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    figures: dict[str, Any] = {
        "transactions": len(batches), "detections": n_det, "track_states": n_states,
        "alerts": n_alerts,
    }  # fmt: skip
    try:
        db = connect(url)
        migrate(db)
        # Parts first, each on its own fresh keys (one writer, tables emptied in between).
        parts: dict[str, list[dict[str, Any]]] = {
            "detections": [{"detections": d} for d, _, _ in batches],
            "track_states": [{"tracks": s} for _, s, _ in batches],
            "alerts": [{"alerts": al} for _, _, al in batches],
        }
        for name, work in parts.items():
            writer = StoreWriter(db, FRAME)
            took = timed(writer, work)
            count = {"detections": n_det, "track_states": n_states, "alerts": n_alerts}[name]
            figures[f"{name}_us_each"] = took / max(count, 1) * 1e6
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE detections, tracks, track_history, alerts, incidents,"
                             " incident_events, changes, sectors CASCADE")  # fmt: skip
        writer = StoreWriter(db, FRAME)
        took = timed(writer, [{"detections": d, "tracks": s, "alerts": al}
                              for d, s, al in batches])  # fmt: skip
        figures["ours_detections_per_s"] = n_det / took
        figures["ours_transaction_ms"] = took / len(batches) * 1000
        db.dispose()
        figures["anchor_copy_per_s"] = copy_anchor(url, [d for d, _, _ in batches])
        figures["ratio_vs_copy"] = figures["ours_detections_per_s"] / figures["anchor_copy_per_s"]
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    print(f"{len(batches)} transactions of {a.commit_ms:g} ms of traffic: {n_det} detections, "
          f"{n_states} track states, {n_alerts} alerts")  # fmt: skip
    print(
        f"  per item: detections {figures['detections_us_each']:.1f} us, track states "
        f"{figures['track_states_us_each']:.1f} us, alerts {figures['alerts_us_each']:.0f} us"
    )
    print(
        f"StoreWriter.write, everything: {figures['ours_detections_per_s']:,.0f} detections/s "
        f"({figures['ours_transaction_ms']:.1f} ms per transaction)"
    )
    print(
        f"bare COPY anchor: {figures['anchor_copy_per_s']:,.0f} detections/s; "
        f"ratio {figures['ratio_vs_copy']:.2f}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

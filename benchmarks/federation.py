"""Federation over NATS JetStream: cross-site latency, catch-up after an outage, and loss.

A hub and two sites (an operations command and the JOC), each site a real nats-server leaf node
in its own JetStream domain, all on loopback; each site's store a SQLite file; what flows is
what the release guard gives the JOC (alerts and incidents of the command's sector, sensors
withheld), read from the sharing layer's feed. Measured:

- **latency**: the origin stores an alert every 20 ms; the time from its commit to the JOC's
  commit of the received copy (p50/p99). Anchor: a plain NATS publish on the origin's server to
  a subscriber on the JOC's, through the same hub — the transport alone, no store, no stream.
- **catch-up**: the origin's server stopped, N incident changes stored while it is down, the
  server started; changes applied per second at the JOC until it holds them all. Anchor: the
  JOC's stream sourcing the same number of messages already in a stream at the origin
  (JetStream's own rate, nothing applied).
- **lost / duplicated**: released changes missing at the JOC, and changes applied twice.
- **workers**: detections/s through the partitioned path inside one site (detections split by
  sector onto `limes.det.<site>.<k>`, tracker worker processes owning partitions; what they
  produce is kept in memory, not stored) with 1, 2 and 4 workers on the same synthetic load:
  walkers in four of the built-in scenario's five sectors, so 1, 2 and 4 workers share it
  evenly. Timed from the moment every worker is warm and bound to the last acknowledgement;
  the 1-worker figure is the anchor of the ratio.

    python benchmarks/federation.py [--quick]

The last line is one JSON object: latency_p50_s, latency_p99_s, catch_up_per_s, lost,
duplicated, and the anchors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import numpy as np
from nats.js.api import ExternalStream, StreamConfig, StreamSource
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "federation"))
from federation_support import Federation, alert_row, incident_row, share_context, start_federation

from limes.federation.site import FederatedSite
from limes.store.changes import record_changes
from limes.store.database import Database, connect
from limes.store.federated import received_objects
from limes.store.migrate import migrate
from limes.store.tables import ChangeRow


def _db(root: Path, name: str) -> Database:
    db = connect(f"sqlite:///{root / name}.db")
    migrate(db)
    return db


def _count(db: Database) -> int:
    with db.reader() as session:
        query = select(func.count()).select_from(ChangeRow).where(ChangeRow.kind == "federated")
        return int(session.scalar(query) or 0)


def _applied(db: Database) -> list[ChangeRow]:
    with db.reader() as session:
        query = select(ChangeRow).where(ChangeRow.kind == "federated").order_by(ChangeRow.id)
        return list(session.scalars(query).all())


async def _until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return False


async def measure_sites(fed: Federation, root: Path, alerts: int, outage: int) -> dict[str, Any]:
    deployment = fed.deployment([("ops", "joc")])
    dbs = {n: _db(root, n) for n in ("ops", "joc")}
    sites = [FederatedSite(share_context(dbs[n], n), deployment, deployment.site(n),
                           heartbeat_s=1.0, watch_s=1.0) for n in dbs]  # fmt: skip
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(stop)) for s in sites]
    await asyncio.sleep(1.0)
    for i in range(alerts):
        with dbs["ops"].session() as session:
            now = datetime.now(UTC)
            row = alert_row(i, "Nineveh", now)
            record_changes(session, [("alert", {**row, "detail": str(now.timestamp())})], now)
        await asyncio.sleep(0.02)
    await _until(lambda: _count(dbs["joc"]) >= alerts, 60)
    rows = _applied(dbs["joc"])
    latency = [r.time.timestamp() - float(r.payload["payload"]["fields"]["detail"]) for r in rows]

    fed.sites["ops"].stop()
    with dbs["ops"].session() as session:
        now = datetime.now(UTC)
        incidents = [("incident", incident_row(i, "Nineveh", "new", now)) for i in range(outage)]
        record_changes(session, incidents, now)
    fed.sites["ops"].start()
    started = time.perf_counter()
    await _until(lambda: _count(dbs["joc"]) > alerts, 120)
    first = time.perf_counter()
    done = await _until(lambda: _count(dbs["joc"]) >= alerts + outage, 600)
    catch_up_s = time.perf_counter() - first
    recovery_s = first - started
    stop.set()
    await asyncio.gather(*tasks)

    applied = _applied(dbs["joc"])
    keys = [(r.payload["kind"], r.payload["id"], r.payload["version"]) for r in applied]
    with dbs["joc"].reader() as session:
        held = {(r.kind, r.object_id) for r in received_objects(session, "ops")}
    expected = {("alert", f"alert:{uuid.UUID(int=i)}") for i in range(alerts)} | {
        ("incident", f"incident:{i}") for i in range(outage)
    }
    return {
        "latency_p50_s": float(np.percentile(latency, 50)),
        "latency_p99_s": float(np.percentile(latency, 99)),
        "catch_up_per_s": outage / catch_up_s if done else 0.0,
        "catch_up_s": catch_up_s,
        "recovery_s": recovery_s,
        "lost": len(expected - held),
        "duplicated": len(keys) - len(set(keys)),
    }


async def measure_anchor(fed: Federation, messages: int, pings: int) -> dict[str, Any]:
    origin = await nats.connect(fed.sites["ops"].url)
    joc = await nats.connect(fed.sites["joc"].url)
    delays: list[float] = []

    async def on_ping(message: Any) -> None:
        delays.append(time.time() - float(message.data))

    await joc.subscribe("anchor.ping", cb=on_ping)
    await joc.flush()
    await asyncio.sleep(0.5)  # the interest crosses the hub
    for _ in range(pings):
        await origin.publish("anchor.ping", str(time.time()).encode())
        await origin.flush()
        await asyncio.sleep(0.02)
    await _until(lambda: len(delays) >= pings, 10)

    js_o, js_j = origin.jetstream(), joc.jetstream()
    await js_o.add_stream(StreamConfig(name="ANCHOR", subjects=["anchor.data.>"]))
    body = json.dumps({"payload": {"id": 1, "state": "new"}, "pad": "x" * 60}).encode()
    for start in range(0, messages, 500):
        n = min(500, messages - start)
        await asyncio.gather(*(js_o.publish(f"anchor.data.{i}", body) for i in range(n)))
    started = time.perf_counter()
    await js_j.add_stream(StreamConfig(name="ANCHOR_IN", sources=[StreamSource(
        name="ANCHOR", external=ExternalStream(api="$JS.ops.API"))]))  # fmt: skip

    async def sourced() -> int:
        return int((await js_j.stream_info("ANCHOR_IN")).state.messages)

    while await sourced() < messages:
        await asyncio.sleep(0.02)
    rate = messages / (time.perf_counter() - started)
    await origin.close()
    await joc.close()
    return {
        "anchor_latency_p50_s": float(np.percentile(delays, 50)),
        "anchor_latency_p99_s": float(np.percentile(delays, 99)),
        "anchor_sourcing_per_s": rate,
    }


def _worker_process(url: str, site: str, owned: list[int], ready: Any, go: Any) -> None:
    from limes.federation.worker import PartitionOutput, run_worker
    from limes.scenario.load import load_scenario

    sc = load_scenario("iraq-syria")
    kept: list[int] = []

    def sink(out: PartitionOutput) -> None:
        kept.append(len(out.alerts))

    def on_ready() -> None:
        ready.set()
        go.wait()

    asyncio.run(run_worker(sc, url, site, owned, sink, asyncio.Event(), on_ready=on_ready))


def _load(walkers: int, seconds: int) -> list[list[Any]]:
    from datetime import timedelta

    from limes.ops.detection import Detection, TargetClass
    from limes.scenario.load import load_scenario

    sc = load_scenario("iraq-syria")
    rng = np.random.default_rng(5)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    batches: list[list[Any]] = [[] for _ in range(seconds)]
    for s in sc.spec.sectors[:4]:
        lo, hi = s.from_km * 1000.0 + 3000.0, s.to_km * 1000.0 - 3000.0
        for w in range(walkers):
            c0 = lo + (hi - lo) * (w + 0.5) / walkers
            t = np.arange(seconds, dtype=float)
            x, y = sc.border.point_at(c0 + 0.3 * t, -400.0 + 1.2 * t)
            x, y = x + rng.normal(0, 5, seconds), y + rng.normal(0, 5, seconds)
            lon, lat = sc.frame.to_lonlat(x, y)
            for k in range(seconds):
                batches[k].append(Detection(
                    sensor_id=f"{s.name[:8]}-{w}", seq=k, time=t0 + timedelta(seconds=k),
                    lon=float(lon[k]), lat=float(lat[k]), x=float(x[k]), y=float(y[k]),
                    var_xx=25.0, var_xy=0.0, var_yy=25.0, target_class=TargetClass.PERSON,
                    confidence=0.9, group_size=1))  # fmt: skip
    return batches


async def _prepare(url: str, site: str, batches: list[list[Any]]) -> int:
    from limes.federation.partitions import SectorPartitions
    from limes.federation.publisher import DetectionPublisher
    from limes.federation.worker import ensure_detection_stream
    from limes.scenario.load import load_scenario

    sc = load_scenario("iraq-syria")
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_detection_stream(js, site, len(sc.spec.sectors))
    publisher = DetectionPublisher(js, site, SectorPartitions(sc))
    for batch in batches:
        await publisher.publish(batch)
    await nc.close()
    return len(sc.spec.sectors)


def measure_workers(url: str, walkers: int, seconds: int) -> dict[str, float]:
    """Detections/s through the partitioned path with 1, 2 and 4 worker processes."""
    import multiprocessing

    from limes.federation.partitions import assign
    from limes.federation.worker import partitions_drained

    batches = _load(walkers, seconds)
    total = sum(len(b) for b in batches)
    ctx = multiprocessing.get_context("spawn")
    rates: dict[str, float] = {}
    for n in (1, 2, 4):
        site = f"bench{n}"
        partitions = asyncio.run(_prepare(url, site, batches))
        go = ctx.Event()
        readies = [ctx.Event() for _ in range(n)]
        procs = [ctx.Process(target=_worker_process, args=(url, site, owned, r, go))
                 for owned, r in zip(assign(partitions, n), readies, strict=True)]  # fmt: skip
        for p in procs:
            p.start()
        for r in readies:
            r.wait(120)
        started = time.perf_counter()
        go.set()
        while not asyncio.run(partitions_drained(url, site, partitions)):
            time.sleep(0.05)
        rates[str(n)] = total / (time.perf_counter() - started)
        for p in procs:
            p.terminate()
            p.join(30)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer alerts and a smaller outage")
    args = parser.parse_args()
    alerts, outage = (200, 5_000) if args.quick else (1_000, 50_000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fed = start_federation(root / "nats", ["ops", "joc"])
        try:
            ours = asyncio.run(measure_sites(fed, root, alerts, outage))
            anchor = asyncio.run(measure_anchor(fed, outage, alerts))
            walkers, seconds = (15, 120) if args.quick else (40, 300)
            workers = measure_workers(fed.sites["ops"].url, walkers, seconds)
        finally:
            fed.stop()
    out = {**ours, **anchor, "alerts": alerts, "outage_changes": outage,
           "workers": workers}  # fmt: skip
    print(f"latency alert at site → stored at JOC: p50 {out['latency_p50_s'] * 1e3:.1f} ms, "
          f"p99 {out['latency_p99_s'] * 1e3:.1f} ms (plain NATS through the hub: "
          f"p50 {out['anchor_latency_p50_s'] * 1e3:.2f} ms, p99 "
          f"{out['anchor_latency_p99_s'] * 1e3:.2f} ms)")  # fmt: skip
    print(f"back to applying {out['recovery_s']:.1f} s after the origin's server restarted")
    print(f"catch-up after the outage: {out['catch_up_per_s']:,.0f} changes/s applied "
          f"(JetStream sourcing alone: {out['anchor_sourcing_per_s']:,.0f} messages/s; "
          f"ratio {out['catch_up_per_s'] / out['anchor_sourcing_per_s']:.2f})")  # fmt: skip
    print(f"lost {out['lost']}, duplicated {out['duplicated']}")
    print("partitioned tracking: " + ", ".join(f"{n} worker(s) {r:,.0f} detections/s"
                                               for n, r in workers.items())
          + f"; 2 workers ÷ 1: {workers['2'] / workers['1']:.2f}, "
          f"4 ÷ 1: {workers['4'] / workers['1']:.2f} on {os.cpu_count()} cores")  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()

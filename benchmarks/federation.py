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

    python benchmarks/federation.py [--quick]

The last line is one JSON object: latency_p50_s, latency_p99_s, catch_up_per_s, lost,
duplicated, and the anchors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
        finally:
            fed.stop()
    out = {**ours, **anchor, "alerts": alerts, "outage_changes": outage,
           "workers": None}  # fmt: skip
    print(f"latency alert at site → stored at JOC: p50 {out['latency_p50_s'] * 1e3:.1f} ms, "
          f"p99 {out['latency_p99_s'] * 1e3:.1f} ms (plain NATS through the hub: "
          f"p50 {out['anchor_latency_p50_s'] * 1e3:.2f} ms, p99 "
          f"{out['anchor_latency_p99_s'] * 1e3:.2f} ms)")  # fmt: skip
    print(f"back to applying {out['recovery_s']:.1f} s after the origin's server restarted")
    print(f"catch-up after the outage: {out['catch_up_per_s']:,.0f} changes/s applied "
          f"(JetStream sourcing alone: {out['anchor_sourcing_per_s']:,.0f} messages/s; "
          f"ratio {out['catch_up_per_s'] / out['anchor_sourcing_per_s']:.2f})")  # fmt: skip
    print(f"lost {out['lost']}, duplicated {out['duplicated']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

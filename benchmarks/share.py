"""Sharing: the release guard, TAXII pages over a large feed, CoT fan-out to many partners.

Figures:
- **guard**: `release(partner, obj)` calls per second over random alerts and reports for the
  nine `iraq-syria` partners (relays, consents, coarsening and withheld fields included);
  anchor: the projection alone (`dataclasses.replace` with the withheld keys filtered out, no
  policy), the least any guard must do; the ratio is the policy's cost.
- **TAXII page**: latency p50/p95 of `GET …/objects/?limit=100` pages walked with `next`
  through a feed of `--objects` stored alerts (in process, through the whole app: auth, guard,
  STIX 2.1 via `stix2`, JSON) for the coalition (everything, no delay) and for the
  quadrilateral centre (one alert in five is about IS in its sectors, an hour's delay: the
  scan skips most rows); anchor: the same keyset page read straight from SQL with the records
  as stored (no guard, no STIX), what a bare server would do.
- **CoT fan-out**: `--partners` partners each with a TLS client connected to the CoT out port;
  `--events` alerts appended to the feed; seconds until every client has every event, as
  events delivered per second; anchor: the same bytes written to the same 20 TLS clients by a
  bare asyncio server (no feed, no guard).

    python benchmarks/share.py [--quick] [--objects 100000] [--partners 20] [--events 500]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, tuple_

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "share"))
from tls_certs import SERVER_NAME, Authority

from limes.api.app import create_app
from limes.api.routes.taxii import collection_id
from limes.api.settings import Settings
from limes.scenario.load import load_scenario
from limes.scenario.sharing import WITHHELD_FIELDS, ObjectKind, Sharing, Tlp
from limes.service.cot_tls import server_tls_context
from limes.share import partner_policy, release
from limes.share.context import ShareContext
from limes.share.cot_out import CotOutServer
from limes.share.shareable import Shareable, to_record
from limes.share.stix import stix_uid
from limes.store.database import connect
from limes.store.migrate import migrate
from limes.store.tables import SharedObjectRow
from limes.store.users import Role, create_user

SC = load_scenario("iraq-syria")
SECTORS = [s.name for s in SC.spec.sectors]
NOW = datetime.now(UTC)


def objects(n: int, rng: random.Random) -> list[Shareable]:
    out = []
    for i in range(n):
        kind = ObjectKind.ALERT if rng.random() < 0.8 else ObjectKind.INTEL_REPORT
        lon, lat = rng.uniform(39.0, 42.3), rng.uniform(33.4, 37.1)
        out.append(
            Shareable(
                kind=kind,
                key=f"{kind.value}:{uuid.UUID(int=i)}",
                version=1,
                time=NOW - timedelta(seconds=rng.uniform(0, 7200)),
                originator=rng.choice(["watch-floor"] * 6 + ["coalition", "peshmerga"]),
                sector=rng.choice(SECTORS),
                tlp=rng.choice([Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER]),
                releasable_to=None if kind is ObjectKind.ALERT else frozenset({"*"}),
                topics=frozenset({"IS"}) if rng.random() < 0.2 else frozenset(),
                position=(lon, lat),
                fields={
                    "rule": "crossed",
                    "severity": "high",
                    "detail": "crossed inward",
                    "sensors": ["tw-jz-02"],
                    "sensor_positions": {"tw-jz-02": [lon, lat]},
                    "unit_id": "jz-patrol-1",
                    "unit_position": [lon, lat],
                    "title": "t",
                    "text": "words",
                    "source": "post",
                    "reliability": "B",
                    "credibility": 2,
                    "reported": NOW.isoformat(),
                },
            )
        )
    return out


def bench_guard(seconds: float) -> dict[str, float]:
    rng = random.Random(1)
    objs = objects(2000, rng)
    sharing = SC.spec.sharing
    partners = [partner_policy(sharing, p.id) for p in sharing.partners]
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for p in partners:
            for o in objs:
                release(p, o, now=NOW)
            calls += len(objs)
    ours = calls / (time.perf_counter() - start)
    drop = {k for keys in WITHHELD_FIELDS.values() for k in keys}
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in partners:
            for o in objs:
                replace(o, fields={k: v for k, v in o.fields.items() if k not in drop})
            calls += len(objs)
    anchor = calls / (time.perf_counter() - start)
    return {"guard_releases_per_s": ours, "guard_anchor_per_s": anchor,
            "guard_ratio": ours / anchor}  # fmt: skip


def fill(db: Any, objs: list[Shareable], stored: datetime) -> None:
    """Feed rows as `Feed.append` writes them, in bulk (the feeding is not what is timed)."""
    rows = []
    for i, o in enumerate(objs):
        record = to_record(o)
        record["modified"] = stored.isoformat()
        rows.append({"key": o.key, "uid": stix_uid(o.key), "kind": o.kind.value, "version": 1,
                     "stored": stored + timedelta(microseconds=i), "time": o.time,
                     "sector": o.sector, "originator": o.originator, "change_id": None,
                     "record": record})  # fmt: skip
    with db.session() as session:
        for k in range(0, len(rows), 5000):
            session.execute(insert(SharedObjectRow), rows[k : k + 5000])


def bench_taxii(n_objects: int, pages: int) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp())
    db = connect(f"sqlite:///{tmp / 'share.db'}")
    migrate(db)
    stored = NOW - timedelta(hours=3)
    objs = [replace(o, time=min(o.time, stored)) for o in objects(n_objects, random.Random(2))]
    fill(db, objs, stored)
    tokens = {}
    with db.session() as s:
        for pid in ("coalition", "quadrilateral"):
            _, tokens[pid] = create_user(s, f"{pid}-t", Role.PARTNER, speaks_for=[pid],
                                         actor="bench", now=NOW)  # fmt: skip
    app = create_app(Settings(migrate=False, share_settle_s=0.0), db=db, scenario_obj=SC)
    client = TestClient(app)
    out: dict[str, float] = {}
    for pid in ("coalition", "quadrilateral"):
        url = f"/taxii2/limes/collections/{collection_id(pid)}/objects/?limit=100"
        headers = {"Authorization": f"Bearer {tokens[pid]}"}
        times, nxt = [], ""
        for _ in range(pages):
            t = time.perf_counter()
            body = client.get(url + (f"&next={nxt}" if nxt else ""), headers=headers).json()
            times.append(time.perf_counter() - t)
            if not body.get("more"):
                break
            nxt = body["next"]
        out[f"taxii_{pid}_p50_ms"] = statistics.median(times) * 1000
        out[f"taxii_{pid}_p95_ms"] = statistics.quantiles(times, n=20)[-1] * 1000
    # anchor: the keyset page straight from SQL, records as stored, dumped to JSON
    times, last = [], None
    for _ in range(pages):
        t = time.perf_counter()
        query = select(SharedObjectRow.stored, SharedObjectRow.seq, SharedObjectRow.record)
        query = query.order_by(SharedObjectRow.stored, SharedObjectRow.seq).limit(100)
        if last is not None:
            query = query.where(tuple_(SharedObjectRow.stored, SharedObjectRow.seq) > last)
        with db.reader() as session:
            rows = session.execute(query).all()
        json.dumps({"objects": [r.record for r in rows]}, default=str)
        times.append(time.perf_counter() - t)
        last = tuple_(rows[-1].stored, rows[-1].seq) if rows else last
    out["taxii_anchor_p50_ms"] = statistics.median(times) * 1000
    out["taxii_anchor_p95_ms"] = statistics.quantiles(times, n=20)[-1] * 1000
    out["taxii_ratio_p50"] = out["taxii_coalition_p50_ms"] / out["taxii_anchor_p50_ms"]
    client.close()
    db.dispose()
    return out


async def _clients(port: int, ca: Authority, names: list[str], want: int) -> float:
    """Connect one TLS client per name; seconds until each has `want` events."""

    async def one(name: str) -> None:
        pem = ca.issue(name)
        ctx = ssl.create_default_context(cafile=str(ca.pem.cert))
        ctx.load_cert_chain(str(pem.cert), str(pem.key))
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname=SERVER_NAME
        )
        got = 0
        while got < want:
            await reader.readuntil(b"</event>")
            got += 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(one(n) for n in names))
    return time.perf_counter() - start


def bench_cot(partners: int, events: int) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp())
    ca = Authority(tmp)
    server_pem = ca.issue(SERVER_NAME, server=True)
    context = server_tls_context(server_pem.cert, server_pem.key, ca.pem.cert)
    names = [f"partner-{i:02d}" for i in range(partners)]
    sharing = Sharing.model_validate({"home": "watch-floor", "partners": [
        {"id": n, "name": n, "rules": [{"name": "all", "kinds": ["alert"], "sectors": ["*"],
         "precision_m": 1000, "withhold": ["sensor_ids", "sensor_positions"],
         "tlp_ceiling": "amber"}]} for n in names]})  # fmt: skip
    db = connect(f"sqlite:///{tmp / 'cot.db'}")
    migrate(db)
    share = ShareContext(db, sharing, SC, settle_s=0.0)
    objs = [replace(o, kind=ObjectKind.ALERT, tlp=Tlp.GREEN, originator="watch-floor",
                    time=NOW - timedelta(seconds=1))
            for o in objects(events, random.Random(3))]  # fmt: skip

    async def run() -> float:
        server = CotOutServer(share, context, poll_s=0.02, backlog_s=60)
        await server.start()
        port = server.address[1]
        clients = asyncio.ensure_future(_clients(port, ca, names, events))
        await asyncio.sleep(0.5)  # all connected and polling an empty feed
        start = time.perf_counter()
        await asyncio.to_thread(share.feed.append, objs, datetime.now(UTC))
        await clients
        took = time.perf_counter() - start
        await server.stop()
        return took

    ours = asyncio.run(run())
    payload = [b"<event version='2.0' uid='x'>" + b"x" * 400 + b"</event>"] * events

    async def anchor() -> float:
        async def serve(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await gate.wait()
            for p in payload:
                w.write(p)
            await w.drain()

        gate = asyncio.Event()
        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
        clients = asyncio.ensure_future(_clients(port, ca, names, events))
        await asyncio.sleep(0.5)
        start = time.perf_counter()
        gate.set()
        await clients
        took = time.perf_counter() - start
        server.close()
        return took

    bare = asyncio.run(anchor())
    delivered = partners * events
    db.dispose()
    return {"cot_partners": partners, "cot_events_per_partner": events,
            "cot_seconds": ours, "cot_delivered_per_s": delivered / ours,
            "cot_anchor_delivered_per_s": delivered / bare, "cot_ratio": bare / ours}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--partners", type=int, default=20)
    ap.add_argument("--events", type=int, default=500)
    a = ap.parse_args()
    n_objects = 10_000 if a.quick else a.objects
    pages = 10 if a.quick else a.pages
    events = 100 if a.quick else a.events
    figures: dict[str, Any] = {"quick": a.quick, "objects": n_objects}
    figures |= bench_guard(1.0 if a.quick else 5.0)
    print(f"guard: {figures['guard_releases_per_s']:,.0f} releases/s "
          f"(projection alone {figures['guard_anchor_per_s']:,.0f}/s; "
          f"ratio {figures['guard_ratio']:.2f})")  # fmt: skip
    figures |= bench_taxii(n_objects, pages)
    print(f"TAXII pages of 100 at {n_objects:,} objects: coalition p50/p95 "
          f"{figures['taxii_coalition_p50_ms']:.0f}/{figures['taxii_coalition_p95_ms']:.0f} ms, "
          f"quadrilateral {figures['taxii_quadrilateral_p50_ms']:.0f}/"
          f"{figures['taxii_quadrilateral_p95_ms']:.0f} ms; bare SQL page "
          f"{figures['taxii_anchor_p50_ms']:.1f}/"
          f"{figures['taxii_anchor_p95_ms']:.1f} ms")  # fmt: skip
    figures |= bench_cot(a.partners, events)
    print(f"CoT fan-out: {events} alerts to {a.partners} partners over TLS in "
          f"{figures['cot_seconds']:.2f} s = {figures['cot_delivered_per_s']:,.0f} events/s "
          f"(bare TLS writes {figures['cot_anchor_delivered_per_s']:,.0f}/s; "
          f"ratio {figures['cot_ratio']:.2f})")  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

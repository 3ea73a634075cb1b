"""Dispatch advice latency under load: the assign dialog's answer, p50/p95, on the built-in
scenario, while the store takes a demo's load; against the per-request search it replaced.

Starts the real app (API + map) on the Iraq–Syria scenario with a SQLite store on an ephemeral
localhost port and builds the units' travel fields (`ops.dispatch_fields.AdviceCache`, timed).
While a writer thread stores what a busy demo stores (`demo_load.DemoLoad`: 300 live track
states a second and a new alert, and incident, every second along the whole border) the map's
advice route (`GET /api/web/incidents/{id}/advice`) is asked for incidents at random places,
one after another, and timed end to end over HTTP. The anchor is `ops.dispatch.advise`, the
per-request search from the target over the target-and-units box (what the route ran before,
at its best: in-process, no HTTP, same incidents), timed on a few of the same places.
`benchmarks/map.py` measures the same route beside a page following 2,000 live tracks.

Goal: advice p95 < 300 ms under load. `--quick` asks fewer times. The last line printed is
one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
from demo_load import DemoLoad, ask_advice, bench_app, pct, serve

from limes.ops.dispatch import advise, target_at_lonlat
from limes.store.tables import IncidentRow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (under 2 minutes)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--anchor", type=int, default=6, help="per-request searches timed")
    args = parser.parse_args()
    n_req, n_anchor = (40, 2) if args.quick else (args.requests, args.anchor)

    bench = bench_app("limes-advice-bench-")
    services = bench.services
    t0 = time.perf_counter()
    services.advice.warm()
    warm_s = time.perf_counter() - t0
    serve(bench)

    load = DemoLoad(bench, tracks=300, alerts_per_s=1.0, batches=1).start()
    load.wait_incidents(3)
    served = ask_advice(bench.url, bench.token, load.incidents, n_req, seed=7)
    made = list(load.incidents)
    load.stop()

    searched: list[float] = []
    with bench.db.reader() as session:
        rows = [session.get(IncidentRow, i) for i in made[:n_anchor]]
        places = [(r.lon, r.lat) for r in rows if r is not None]
    for lon, lat in places:
        t = time.perf_counter()
        advise(bench.scenario, target_at_lonlat(bench.scenario, lon, lat))
        searched.append(time.perf_counter() - t)
    bench.stop()

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

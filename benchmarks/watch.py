"""The watch floor measured by what it catches: the exercise's crossings against the alerts.

Runs `limes simulate iraq-syria --hours 336 --seed S --actors-per-day 48 --in-process` (the
live JSON reader, the tracker, the rules, in this process) with an all-modes, all-light
assessment at 200 m, on seeds 12, 13 and 14 (`--quick`: 48 h, seed 12), and scores:

- `recall_3` / `recall_1`: of the hostile and suspect groups that crossed (or tried) and were
  reported at least 3 times / at least once before they reached their goal inside, the share
  that raised an alert matched to them (the scorecard's matching: an alert within
  `alert_match_m` of the group's true position at the alert's time). Per stance (refugees
  included) under `stances`.
- `median_report_to_alert_s`: median, over alerted groups, of exercise seconds from the
  detection behind the group's first report to the detection that raised its first alert
  (the sensor's sending latency comes on top of both alike); per stance under
  `median_report_to_alert_s_by_stance`.
- `false_alerts_per_day`: alerts matching no crossing group (a nuisance group, or nothing).
- `incidents_per_crossing`: incidents opened for alerted crossing groups, per alerted group.
  An incident is what the store opens for an alert's incident key (`Alert.incident_key`
  where the alert has one, else its track, as before).
- `sectors`: per sector, the plan's mean P(interruption) of the groups that finished and the
  exercise's observed share interrupted with its 95 % Wilson interval (`low`, `high`).

The anchor is the same script run on the tree before this work (2-of-3 confirmation, fixed
coasting, alerts per track, the referee's dispatch): `PYTHONPATH=<old tree>/src python
benchmarks/watch.py` (the script finds the exercise API where that tree has it). The response
is the live system's (units sent to its first alert on a group) unless `--dispatch referee`.
The last line is one JSON object.

    python benchmarks/watch.py [--quick] [--dispatch referee] [--seeds 12,13,14] [--hours 336]
                               [--plan ASSESSMENT_FOLDER]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from limes.scenario.load import load_scenario
from limes.sim.config import SimConfig

SCENARIO = "iraq-syria"
ACTORS_PER_DAY = 48.0
ALERTING = ("hostile", "suspect")


def _exercise_api() -> Any:
    """(run, Door, plan_from_summary) of the application layer, where it stands."""
    try:
        from limes.exercise.door import Door
        from limes.exercise.plan_file import plan_from_summary
        from limes.exercise.run import simulate

        return simulate, Door, plan_from_summary
    except ImportError:  # an older tree, for the figures before
        from limes.sim import demo  # type: ignore[attr-defined]

        return demo.run_exercise, demo.Door, demo.plan_from_summary


def _make_assessment(folder: Path) -> Path:
    import subprocess
    import sys

    summary = folder / "summary.json"
    if not summary.exists():
        subprocess.run(
            [sys.executable, "-m", "limes.cli", "assess", SCENARIO, "--mode", "all",
             "--light", "all", "--resolution", "200", "-o", str(folder)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return summary


def run_seed(
    seed: int, hours: float, plan_dir: Path, dispatch: str | None, work: Path
) -> dict[str, Any]:
    """One exercise: the scorecard's crossings, alerts matched to incidents, timings."""
    run, door, plan_from_summary = _exercise_api()
    from limes.ops.plan_lookup import PlanLookup

    scenario = load_scenario(SCENARIO)
    cfg = replace(SimConfig(), actors_per_day=ACTORS_PER_DAY)
    plan = plan_from_summary(plan_dir, scenario)
    lookup = PlanLookup.load(plan_dir)
    out_dir = work / f"seed-{seed}"
    started = time.perf_counter()
    extra = {"dispatch": dispatch} if dispatch else {}
    result = run(
        scenario, hours, None, seed, door("in-process"), out_dir, plan,
        config=cfg, plan=lookup, **extra,
    )  # fmt: skip
    wall = time.perf_counter() - started
    card = result.scorecard.as_dict()
    start = cfg.start
    # Reports before the goal, per group, from what was sent.
    goal = {c["actor_id"]: c["goal_s"] for c in card["crossings"]}
    before: dict[str, int] = defaultdict(int)
    for e in result.emissions:
        if e.actor_id in goal and (goal[e.actor_id] is None or e.time_s <= goal[e.actor_id]):
            before[e.actor_id] += 1
    # Incidents: alerts matched to their group, counted by incident key.
    incidents = _incidents_per_group(scenario, result, cfg)
    return {
        "seed": seed,
        "hours": hours,
        "wall_s": round(wall, 1),
        "card": card,
        "before": dict(before),
        "incidents": incidents,
        "start": start.isoformat(),
    }


def _incidents_per_group(scenario: Any, result: Any, cfg: SimConfig) -> dict[str, int]:
    """Per crossing group, how many incidents its matched alerts open."""
    import math

    actors = [a for a in result.actors if a.crossing]
    keys: dict[str, set[str]] = defaultdict(set)
    for alert in result.alerts:
        t = (alert.time - cfg.start).total_seconds()
        ax, ay = scenario.frame.to_xy(alert.lon, alert.lat)
        best: tuple[float, str] | None = None
        for a in actors:
            if not (a.start_s - cfg.alert_match_s <= t <= a.end_s + cfg.alert_match_s):
                continue
            px, py = a.position(np.array([t]))
            d = float(math.hypot(float(px[0]) - float(ax), float(py[0]) - float(ay)))
            if d <= cfg.alert_match_m and (best is None or d < best[0]):
                best = (d, a.id)
        if best is not None:
            keys[best[1]].add(getattr(alert, "incident_key", None) or alert.track_id)
    return {k: len(v) for k, v in keys.items()}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The contract's figures over all runs."""
    crossings = [(r, c) for r in runs for c in r["card"]["crossings"]]

    def recall(stances: tuple[str, ...], least: int) -> tuple[float | None, int, int]:
        pool = [
            c for r, c in crossings
            if c["stance"] in stances and r["before"].get(c["actor_id"], 0) >= least
        ]  # fmt: skip
        hit = sum(1 for c in pool if c["alerted"])
        return (hit / len(pool) if pool else None), hit, len(pool)

    r3, h3, n3 = recall(ALERTING, 3)
    r1, h1, n1 = recall(ALERTING, 1)
    stances = {}
    for stance in ("hostile", "suspect", "humanitarian"):
        s3, a3, b3 = recall((stance,), 3)
        s1, a1, b1 = recall((stance,), 1)
        stances[stance] = {"recall_3": _r(s3), "alerted_3": a3, "reported_3": b3,
                           "recall_1": _r(s1), "alerted_1": a1, "reported_1": b1}  # fmt: skip
    delays = [
        c["first_alert_s"] - c["first_detection_s"]
        for _, c in crossings
        if c["alerted"] and c["first_detection_s"] is not None
    ]
    by_stance = {
        stance: _r(statistics.median(d)) if (d := [
            c["first_alert_s"] - c["first_detection_s"] for _, c in crossings
            if c["stance"] == stance and c["alerted"] and c["first_detection_s"] is not None
        ]) else None
        for stance in ("hostile", "suspect", "humanitarian")
    }  # fmt: skip
    days = sum(r["hours"] for r in runs) / 24.0
    false_alerts = sum(r["card"]["false_alerts"] or 0 for r in runs)
    alerted = [(r, c) for r, c in crossings if c["alerted"]]
    n_incidents = sum(r["incidents"].get(c["actor_id"], 0) for r, c in alerted)
    sectors = []
    names = [s["name"] for s in runs[0]["card"]["sectors"]]
    from limes.analysis.monte_carlo import wilson

    for name in names:
        done = [
            c for _, c in crossings
            if c["sector"] == name and c["outcome"] in ("interrupted", "crossed")
        ]  # fmt: skip
        hits = sum(1 for c in done if c["outcome"] == "interrupted")
        planned = [c["plan_p"] for c in done if c["plan_p"] is not None]
        lo, hi = wilson(hits, len(done)) if done else (None, None)
        sectors.append({
            "name": name,
            "plan_p": _r(float(np.mean(planned))) if planned else None,
            "observed_p": _r(hits / len(done)) if done else None,
            "low": _r(lo), "high": _r(hi), "crossings": len(done),
        })  # fmt: skip
    return {
        "recall_3": _r(r3), "alerted_3": h3, "reported_3": n3,
        "recall_1": _r(r1), "alerted_1": h1, "reported_1": n1,
        "median_report_to_alert_s": _r(statistics.median(delays)) if delays else None,
        "median_report_to_alert_s_by_stance": by_stance,
        "false_alerts_per_day": _r(false_alerts / days) if days else None,
        "incidents_per_crossing": _r(n_incidents / len(alerted)) if alerted else None,
        "stances": stances,
        "sectors": sectors,
    }  # fmt: skip


def _r(v: float | None) -> float | None:
    return None if v is None else round(float(v), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="48 h, one seed (about a minute)")
    parser.add_argument(
        "--dispatch", default=None, help="alerts (default) or referee: who starts the response"
    )
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default 12,13,14)")
    parser.add_argument("--hours", type=float, default=None)
    parser.add_argument("--plan", type=Path, default=None, help="assessment folder to reuse")
    args = parser.parse_args()
    seeds = [int(s) for s in (args.seeds or ("12" if args.quick else "12,13,14")).split(",")]
    hours = args.hours or (48.0 if args.quick else 336.0)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plan_dir = args.plan or work / "assessment"
        _make_assessment(plan_dir)
        runs = []
        for seed in seeds:
            run = run_seed(seed, hours, plan_dir, args.dispatch, work)
            runs.append(run)
            one = summarise([run])
            print(
                f"seed {seed}: {hours:g} h in {run['wall_s']} s; recall ≥3 reports "
                f"{one['alerted_3']}/{one['reported_3']}, ≥1 report {one['alerted_1']}/"
                f"{one['reported_1']}; median report→alert {one['median_report_to_alert_s']} s; "
                f"false alerts/day {one['false_alerts_per_day']}; incidents per alerted "
                f"crossing {one['incidents_per_crossing']}",
                flush=True,
            )
    figures = summarise(runs)
    figures.update(
        {"quick": args.quick, "seeds": seeds, "hours": hours,
         "dispatch": args.dispatch or "default"}
    )  # fmt: skip
    for s in figures["sectors"]:
        print(f"  {s['name']:<20} plan {s['plan_p']}  observed {s['observed_p']} "
              f"({s['low']}–{s['high']}, {s['crossings']} crossings)")  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""The plan against the exercise per sector, for groups that follow the plan's own paths.

On the built-in `iraq-syria` border: the whole-border assessment (foot; every km's best path
kept) and, per sector, `--groups` plan-following groups sent through the exercise's steps with
every unit at home (`limes.sim.sector_calibration`). Per sector: the plan's P (the mean of its
groups' km P, as the scorecard aggregates), the observed share interrupted, its 95 % Wilson
interval, and whether the plan lies inside it; beside them EASI along the same paths, and EASI
with the hazard at the path's points (the simulator's view), which say why where they differ.

`--quick`: 200 m, night, 300 groups per sector (about a minute once the numba kernels are
compiled). The full run: 100 m, night and day, 500 groups per sector. The anchor is the
exercise's own groups (`benchmarks/watch.py`'s `sectors`), which choose their routes. The
last line is one JSON object.

    python benchmarks/calibration.py [--quick] [--seed N] [--groups N] [--resolution M]
                                     [--light night|day|all] [--hours H] [--profile NAME]
                                     [--mode foot|vehicle]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

import numpy as np

from limes.scenario.load import load_scenario
from limes.scenario.schema import Light, Mode
from limes.sim.sector_calibration import assess_every_km, calibrate_sectors

SCENARIO = "iraq-syria"


def drift(sc: Any, run: Any) -> tuple[int, int, float | None]:
    """How many of a run's best paths meet the line in another km than their own, and the mean
    of (P of the km met − P of the path's km) over those: what the scorecard set beside a
    plan-following group before it used the path's own km."""
    p_of = {int(k.chainage_km): k.p_interruption for k in run.per_km}
    moved: list[float] = []
    for path in run.worst_paths:
        s, off = sc.locate(path.xy[:, 0], path.xy[:, 1])
        j = int(np.flatnonzero(off >= 0)[0])
        f = off[j - 1] / (off[j - 1] - off[j]) if j and off[j - 1] != off[j] else 1.0
        met = (
            math.floor((s[j - 1] + f * (s[j] - s[j - 1])) / 1000.0)
            if j
            else math.floor(s[0] / 1000.0)
        )
        own = int(path.start_chainage_km)
        if met != own and met in p_of:
            moved.append(p_of[met] - p_of[own])
    return len(run.worst_paths), len(moved), float(np.mean(moved)) if moved else None


def field_with_path_times(run: Any) -> dict[str, float]:
    """Per sector, the mean over its km of the field's formula, 1 − Π(1 − P_D·P_timely), with
    P_timely taken with the time left along the path itself (as EASI takes it) instead of the
    fastest time to goal: beside the plan's P and EASI it tells which of the field's two
    approximations (docs/assessment.md) moves a sector's figure."""
    paths = {int(p.start_chainage_km): p for p in run.worst_paths}
    by: dict[str, list[float]] = {}
    for k in run.per_km:
        p = paths.get(int(k.chainage_km))
        if p is not None:
            by.setdefault(k.sector, []).append(float(1 - np.prod(1 - p.p_detect * p.p_timely)))
    return {name: float(np.mean(v)) for name, v in by.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 m, night, 300 groups per sector")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--groups", type=int, default=None, help="groups per sector")
    ap.add_argument("--resolution", type=float, default=None, help="analysis cell (m)")
    ap.add_argument("--light", default=None, help="night, day or all")
    ap.add_argument("--mode", default="foot", help="foot or vehicle")
    ap.add_argument("--hours", type=float, default=720.0, help="window the starts spread over")
    ap.add_argument(
        "--profile", default=None, help="a threat profile of the scenario to walk the paths "
        "instead of the plan's adversary (e.g. 'IS cell (informed)', 4.5 km/h)",
    )  # fmt: skip
    args = ap.parse_args()
    groups = args.groups or (300 if args.quick else 500)
    resolution = args.resolution or (200.0 if args.quick else 100.0)
    light_arg = args.light or ("night" if args.quick else "all")
    lights = [Light.NIGHT, Light.DAY] if light_arg == "all" else [Light(light_arg)]

    mode = Mode(args.mode)
    sc = load_scenario(SCENARIO)
    sc.terrain()
    profile = None
    if args.profile is not None:
        profile = next(t for t in sc.spec.threats if t.name == args.profile)
    t0 = time.perf_counter()
    plan = assess_every_km(sc, [mode], lights, resolution)
    assess_s = time.perf_counter() - t0
    print(f"assessment at {resolution:g} m, every km's path: {assess_s:.1f} s", flush=True)
    runs: list[dict[str, Any]] = []
    for light in lights:
        t0 = time.perf_counter()
        checks = calibrate_sectors(sc, plan, mode, light, groups, seed=args.seed,
                                   window_h=args.hours, profile=profile)  # fmt: skip
        took = time.perf_counter() - t0
        print(f"{mode.value}, {light.value}: {groups} groups per sector in {took:.1f} s")
        for c in checks:
            mark = "inside" if c.inside else "OUTSIDE"
            print(f"  {c.sector:<18} plan {c.plan_p:.3f} (EASI {c.plan_p_easi or 0:.3f}, at "
                  f"points {c.easi_at_points:.3f})  observed {c.observed:.3f} "
                  f"[{c.low:.3f}, {c.high:.3f}] n={c.n} +{c.blocked} blocked {mark}")  # fmt: skip
        paths, moved, shift = drift(sc, plan.run(mode, light))
        path_times = field_with_path_times(plan.run(mode, light))
        print("  field with the path's own time left (km mean): "
              + ", ".join(f"{k} {v:.3f}" for k, v in path_times.items()))  # fmt: skip
        print(f"  best paths meeting the line in another km: {moved} of {paths}, P there "
              f"{shift:+.3f} on average" if shift is not None else "")  # fmt: skip
        runs.append({
            "mode": mode.value, "light": light.value, "seconds": round(took, 1),
            "paths": paths, "paths_meeting_another_km": moved,
            "p_there_minus_own": None if shift is None else round(shift, 4),
            "sectors": [
                {**c.record(), "field_path_times_km_mean": round(path_times[c.sector], 4)}
                for c in checks
            ],
            "inside": sum(c.inside for c in checks), "checked": len(checks),
        })  # fmt: skip
    figures = {
        "benchmark": "calibration",
        "scenario": SCENARIO,
        "resolution_m": resolution,
        "groups_per_sector": groups,
        "seed": args.seed,
        "profile": args.profile or "plan adversary",
        "assess_s": round(assess_s, 1),
        "runs": runs,
        "sectors_inside": sum(r["inside"] for r in runs),
        "sectors_checked": sum(r["checked"] for r in runs),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

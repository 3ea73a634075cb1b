"""Randomised patrols on `iraq-syria`: the Stackelberg LPs checked, and what randomising buys.

    .venv/bin/python benchmarks/patrols.py [--quick]

1. Correctness: on random small games (2–4 schedules × 2–4 targets) the multiple-LPs and the
   DOBSS equilibria against brute-force vertex enumeration; the largest difference in the
   defender's value must stay under 1e-6. Solve times of both formulations on the border game.
2. The border game: the costliest weak stretches of a foot-at-night assessment (8; --quick 5)
   × the scenario's time windows a day (`patrols.windows`: night, day), 4 patrols (--quick 3)
   each on one (stretch, window); a patrol on the spot catches a crossing with the scenario's
   `patrols.catch_p` (the built-in scenario's figure is invented).
3. The exercise: an informed adversary crosses every day for 1000 days (--quick 500), having
   watched the last 30 days' patrols, against the equilibrium's most frequent schedule played
   every day (a fixed patrol) and against schedules drawn daily from the equilibrium: its
   success rate with the 95 % (Wilson) interval, beside the game's predicted value.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from limes.analysis.assess import AssessConfig, assess
from limes.analysis.patrols import (
    Game,
    brute_force,
    daily_schedules,
    dobss,
    exercise,
    multiple_lps,
    scenario_patrol_game,
    weak_targets,
)
from limes.scenario.load import load_scenario
from limes.scenario.schema import Light, Mode


def correctness(n_games: int) -> dict[str, float]:
    worst_lp = worst_dobss = 0.0
    for seed in range(n_games):
        rng = np.random.default_rng(seed)
        n, m = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        g = Game.single(rng.uniform(-1, 1, (n, m)), rng.uniform(-1, 1, (n, m)))
        ref = brute_force(g).defender_value
        worst_lp = max(worst_lp, abs(multiple_lps(g).defender_value - ref))
        worst_dobss = max(worst_dobss, abs(dobss(g).defender_value - ref))
    print(
        f"  {n_games} random games: |LPs − enumeration| ≤ {worst_lp:.1e}, "
        f"|DOBSS − enumeration| ≤ {worst_dobss:.1e}"
    )
    return {"games": n_games, "max_diff_lps": worst_lp, "max_diff_dobss": worst_dobss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer games, stretches and days")
    args = ap.parse_args()
    out: dict[str, object] = {}
    print("correctness:")
    out["correctness"] = correctness(100 if args.quick else 500)
    res = 400.0 if args.quick else 200.0
    sc = load_scenario("iraq-syria")
    a = assess(sc, (Mode.FOOT,), (Light.NIGHT,), res, config=AssessConfig(worst_paths=0))
    run = a.runs[0]
    stretches = weak_targets(run, sc, 5 if args.quick else 8)
    patrols = 3 if args.quick else 4
    pg = scenario_patrol_game(sc, stretches, patrols)
    windows = pg.windows
    out["patrol_catch"] = pg.patrol_catch
    t0 = time.perf_counter()
    eq = multiple_lps(pg.game)
    lps_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    eq_d = dobss(pg.game)
    dobss_s = time.perf_counter() - t0
    print(
        f"border game: {len(stretches)} stretches × {windows} windows, {patrols} patrols, "
        f"{len(pg.schedules)} schedules: LPs {lps_s:.2f} s, DOBSS {dobss_s:.2f} s, values "
        f"{eq.attacker_values[0]:.4f} / {eq_d.attacker_values[0]:.4f}"
    )
    days = 500 if args.quick else 1000
    fixed_s = int(np.argmax(eq.x))
    fixed = exercise(pg, [fixed_s] * days, watch_days=30, seed=11)
    mixed = exercise(pg, list(daily_schedules(eq, days, seed=12)), watch_days=30, seed=11)
    best_pure = min(float(pg.game.attacker[0, s].max()) for s in range(len(pg.schedules)))
    print(
        f"informed adversary, {days} days: fixed patrol {fixed.rate:.2f} "
        f"[{fixed.low:.2f}, {fixed.high:.2f}], randomised {mixed.rate:.2f} "
        f"[{mixed.low:.2f}, {mixed.high:.2f}]; the game predicts {eq.attacker_values[0]:.2f} "
        f"against the mix, {best_pure:.2f} against the best fixed patrol"
    )
    out.update(
        {
            "resolution_m": res,
            "stretches": [list(map(lambda v: round(v, 3), s)) for s in stretches],
            "windows": windows,
            "patrols": patrols,
            "schedules": len(pg.schedules),
            "lps_s": round(lps_s, 3),
            "dobss_s": round(dobss_s, 3),
            "value_lps": eq.attacker_values[0],
            "value_dobss": eq_d.attacker_values[0],
            "days": days,
            "fixed": {"rate": fixed.rate, "low": fixed.low, "high": fixed.high},
            "randomised": {"rate": mixed.rate, "low": mixed.low, "high": mixed.high},
            "predicted_randomised": eq.attacker_values[0],
            "predicted_best_fixed": best_pure,
        }
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()

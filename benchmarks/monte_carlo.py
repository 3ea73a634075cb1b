"""The analysis's Monte Carlo check on a real crossing path, against a step-by-step anchor.

The path: the built-in Iraq–Syria scenario assessed for foot crossings at night (200 m cells),
and of the kilometres whose best path it kept, the one whose EASI P(interruption) is nearest
0.5 (ties: the longest). On it:

- ours: `limes.analysis.monte_carlo.simulate`, one million crossings (first detection drawn
  by inverting its distribution, barrier delays and responses drawn as normals);
- anchor: the same model drawn the plain way, a Bernoulli draw at every step of every
  crossing (numpy, chunked), then the same delays and responses.

Both estimates must bracket the exact EASI value within their 95 % intervals. Printed: the
seconds each took (wall and this process's CPU), crossings per second, the ratio, and both
estimates beside EASI. The goal is under 10 s for a million crossings on 2 cores. The last line
is one JSON object.

    python benchmarks/monte_carlo.py [--quick] [--samples N] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from limes.analysis.assess import AssessConfig, assess
from limes.analysis.easi import PathSteps, remaining_time
from limes.analysis.monte_carlo import MonteCarlo, simulate, wilson
from limes.analysis.result import CrossingPath
from limes.scenario.load import load_scenario
from limes.scenario.schema import Light, Mode

CHUNK = 20_000


def real_path(resolution_m: float) -> CrossingPath:
    """The kept path of the built-in scenario whose EASI P is nearest 0.5."""
    sc = load_scenario("iraq-syria")
    plan = assess(
        sc, [Mode.FOOT], [Light.NIGHT], resolution_m=resolution_m,
        config=AssessConfig(worst_paths=1000, mc_samples=1000),
    )  # fmt: skip
    paths = plan.run(Mode.FOOT, Light.NIGHT).worst_paths
    return min(paths, key=lambda p: (abs(p.p_interruption - 0.5), -len(p.xy)))


def steps_of(path: CrossingPath) -> PathSteps:
    """The path's steps (the response is passed to `simulate` per step, as chosen there)."""
    return PathSteps(
        path.step_time_s,
        path.delay_sd_s,
        path.p_detect,
        np.asarray(path.response_mean_s)[None, :],
        np.array([0.0]),
    )


def step_by_step(path: CrossingPath, samples: int, seed: int) -> MonteCarlo:
    """The anchor: every step of every crossing drawn, then delays and the response."""
    rng = np.random.default_rng(seed)
    pd = np.asarray(path.p_detect)
    n = len(pd)
    mean_rem, _ = remaining_time(path.step_time_s, np.zeros(n))
    sd = np.asarray(path.delay_sd_s)
    mu, sig = np.asarray(path.response_mean_s), np.asarray(path.response_sd_s)
    hits = 0
    done = 0
    while done < samples:
        m = min(CHUNK, samples - done)
        seen = rng.random((m, n)) < pd
        any_seen = seen.any(axis=1)
        first = np.argmax(seen, axis=1)[any_seen]
        dev = rng.standard_normal((m, n))[any_seen] * sd
        after = np.arange(n)[None, :] > first[:, None]
        at = np.arange(n)[None, :] == first[:, None]
        left = mean_rem[first] + (dev * after).sum(axis=1) + 0.5 * (dev * at).sum(axis=1)
        resp = mu[first] + sig[first] * rng.standard_normal(first.size)
        hits += int(np.count_nonzero(resp < left))
        done += m
    lo, hi = wilson(hits, samples)
    return MonteCarlo(hits / samples, lo, hi, samples)


def timed(fn: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 000 crossings instead of 10⁶")
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    samples = args.samples or (200_000 if args.quick else 1_000_000)

    path = real_path(200.0)
    exact = path.p_interruption  # the analysis's exact EASI along this path
    print(f"path: km {path.start_chainage_km:.0f}, {len(path.xy)} steps, EASI P = {exact:.4f}")
    # Warm up both (first-call costs are not what is measured).
    simulate(steps_of(path), 1000, args.seed, path.response_mean_s, path.response_sd_s)
    step_by_step(path, 1000, args.seed)

    ours, w_ours, c_ours = timed(
        lambda: simulate(
            steps_of(path), samples, args.seed, path.response_mean_s, path.response_sd_s
        )
    )
    anchor, w_anchor, c_anchor = timed(lambda: step_by_step(path, samples, args.seed))
    for name, mc, w, c in (("ours", ours, w_ours, c_ours), ("anchor", anchor, w_anchor, c_anchor)):
        ok = mc.low <= exact <= mc.high
        print(
            f"{name:6s}: {samples} crossings in {w:.3f} s wall ({c:.3f} s CPU), "
            f"{samples / w:,.0f}/s; P = {mc.p_interruption:.4f} "
            f"[{mc.low:.4f}, {mc.high:.4f}] {'brackets' if ok else 'MISSES'} EASI"
        )
    ratio = w_anchor / w_ours
    print(f"ours is {ratio:.1f}× the anchor's speed; goal: 10⁶ crossings < 10 s")
    print(
        json.dumps(
            {
                "benchmark": "monte_carlo",
                "samples": samples,
                "path_steps": len(path.xy),
                "path_km": path.start_chainage_km,
                "easi": round(exact, 6),
                "ours_s": round(w_ours, 4),
                "ours_cpu_s": round(c_ours, 4),
                "ours_p": round(ours.p_interruption, 6),
                "ours_brackets_easi": bool(ours.low <= exact <= ours.high),
                "anchor_s": round(w_anchor, 4),
                "anchor_cpu_s": round(c_anchor, 4),
                "anchor_p": round(anchor.p_interruption, 6),
                "anchor_brackets_easi": bool(anchor.low <= exact <= anchor.high),
                "ratio": round(ratio, 2),
                "ours_per_million_s": round(w_ours * 1e6 / samples, 3),
                "goal_met": bool(w_ours * 1e6 / samples < 10.0),
            }
        )
    )


if __name__ == "__main__":
    main()

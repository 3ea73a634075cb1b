"""Whole-border interruption analysis of `iraq-syria`: wall time per stage, peak memory, and
our Dijkstra against scikit-image's MCP_Geometric on the same cost grids.

    .venv/bin/python benchmarks/assess.py [--quick]

Full: 100 m and 50 m, foot at night. --quick: 200 m only (under a minute). Compilation of the
numba kernels happens in a warm-up run first and is not counted (a first run in a fresh checkout
compiles them: about 10 s more). Wall time is given beside process CPU time and the load
average: on a shared machine the gap between the two is time spent waiting for a core. Then
what the assessment says: mean P(interruption) per sector for foot crossings by night and by
day, and over the closed and the open part of the vulnerable north, at the finest resolution
run. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np

from limes.analysis.assess import AssessConfig, assess, lateral_freedom, tile_margin_m
from limes.analysis.interruption import adversary_motion
from limes.analysis.shortest_path import half_steps, shortest_paths
from limes.analysis.tiles import make_tile, plan_spans
from limes.scenario.load import load_scenario
from limes.scenario.schema import Light, Mode
from limes.sensing.barrier import barrier_field


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def anchor(sc, resolution: float, cfg: AssessConfig) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Time-to-goal on every tile's cost grid: ours vs MCP_Geometric.find_costs."""
    try:
        from skimage.graph import MCP_Geometric
    except ImportError:
        return {}
    strip = sc.spec.strip
    margin = tile_margin_m(sc, cfg)
    ours = mcp = 0.0
    cells = 0
    worst = 0.0
    terrain = sc.terrain()
    for i, (core, span) in enumerate(
        plan_spans(sc.border.length_m, cfg.tile_core_km * 1000.0, margin)
    ):
        tile = make_tile(i, sc.border, core, span, strip.outside_m, strip.inside_m, resolution)
        elev = terrain.resample(tile.grid).elevation
        bars = barrier_field(tile.grid, sc.border, [], Mode.FOOT)
        m = adversary_motion(
            tile,
            elev,
            bars,
            np.zeros(tile.grid.shape, bool),
            Mode.FOOT,
            sc.spec.movement,
            strip.outside_m,
            strip.inside_m,
        )
        per_m = m.pace_s_per_m
        seeds = np.flatnonzero(m.goal.ravel())
        t0 = time.perf_counter()
        ho, hd = half_steps(per_m, resolution)
        dist, _ = shortest_paths(ho, hd, seeds)
        ours += time.perf_counter() - t0
        costs = np.where(np.isfinite(per_m), per_m, -1.0)  # negative: impassable for MCP
        t0 = time.perf_counter()
        graph = MCP_Geometric(costs, fully_connected=True, sampling=(resolution, resolution))
        ref, _ = graph.find_costs([tuple(rc) for rc in np.argwhere(m.goal)])
        mcp += time.perf_counter() - t0
        ok = np.isfinite(dist) & np.isfinite(ref)
        if ok.any():
            worst = max(worst, float(np.max(np.abs(dist[ok] - ref[ok]) / np.maximum(ref[ok], 1.0))))
        cells += tile.grid.width * tile.grid.height
    return {
        "ours_s": ours,
        "mcp_s": mcp,
        "ratio": mcp / ours if ours else float("nan"),
        "grid_cells": cells,
        "max_rel_diff": worst,
    }


def verdict(sc, resolution: float) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Mean P per sector, foot, night and day; closed vs open part of the vulnerable north."""
    a = assess(
        sc,
        modes=(Mode.FOOT,),
        lights=(Light.NIGHT, Light.DAY),
        resolution_m=resolution,
        config=AssessConfig(worst_paths=0),
    )
    (north,) = [s for s in sc.spec.stretches if s.name == "vulnerable north"]
    km = np.arange(int(north.from_km), int(north.to_km))
    shut = np.zeros(km.size, dtype=bool)
    for b in sc.spec.barriers:
        if b.status.value == "built":
            shut |= (km + 0.5 >= b.from_km) & (km + 0.5 <= b.to_km)
    out: dict[str, object] = {"resolution_m": resolution}
    print(f"\nfoot crossings at {resolution:.0f} m: mean P(interruption)")
    print(f"  {'sector':<18} {'night':>6} {'day':>6}")
    means = {
        r.light.value: {
            s.name: float(np.mean([k.p_interruption for k in r.per_km if k.sector == s.name]))
            for s in sc.spec.sectors
        }
        for r in a.runs
    }
    for s in sc.spec.sectors:
        print(f"  {s.name:<18} {means['night'][s.name]:6.2f} {means['day'][s.name]:6.2f}")
    for r in a.runs:
        p = {int(k.chainage_km): k.p_interruption for k in r.per_km}
        v = np.array([p[int(k)] for k in km])
        out[r.light.value] = {
            "sectors": {k: round(v_, 3) for k, v_ in means[r.light.value].items()},
            "closed": round(float(v[shut].mean()), 3),
            "open": round(float(v[~shut].mean()), 3),
        }
        print(
            f"  vulnerable north, {r.light.value}: closed {shut.sum()} km {v[shut].mean():.2f}, "
            f"open {(~shut).sum()} km {v[~shut].mean():.2f}"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 m only, under a minute")
    args = ap.parse_args()
    resolutions = [200.0] if args.quick else [100.0, 50.0]
    cfg = AssessConfig()
    sc = load_scenario("iraq-syria")
    t0 = time.perf_counter()
    sc.terrain()
    terrain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assess(sc, resolution_m=400.0, config=AssessConfig(worst_paths=1, mc_samples=1000))
    warm_s = time.perf_counter() - t0
    print(
        f"iraq-syria: {sc.length_km:.0f} km; terrain built in {terrain_s:.1f} s; "
        f"warm-up (compilation) {warm_s:.1f} s; lateral freedom {lateral_freedom(sc, cfg):.0f} m"
    )
    out: dict[str, object] = {
        "scenario": sc.name,
        "mode": "foot",
        "light": "night",
        "terrain_s": round(terrain_s, 2),
    }
    for res in resolutions:
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        a = assess(sc, modes=(Mode.FOOT,), lights=(Light.NIGHT,), resolution_m=res, config=cfg)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        load1 = os.getloadavg()[0]
        stages = {k: round(v, 2) for k, v in a.timings_s.items()}
        # Wall well above CPU with a load average above the cores means the run waited for a
        # core, not for I/O or threads: the analysis is single-threaded and reads nothing.
        print(
            f"\n{res:.0f} m: {a.cells:,} strip cells, wall {wall:.1f} s, CPU {cpu:.1f} s, "
            f"load average {load0:.1f} → {load1:.1f} on {os.cpu_count()} cores, "
            f"peak RSS {peak_mb():.0f} MB"
        )
        for k, v in stages.items():
            print(f"  {k:<14} {v:7.2f} s")
        anc = anchor(sc, res, cfg)
        if anc:
            print(
                f"  time-to-goal on all tiles ({anc['grid_cells']:,} cells): ours "
                f"{anc['ours_s']:.2f} s, MCP_Geometric {anc['mcp_s']:.2f} s, "
                f"ratio {anc['ratio']:.1f}x, max rel. diff {anc['max_rel_diff']:.1e}"
            )
        out[f"{res:.0f}m"] = {
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "load_average": [round(load0, 2), round(load1, 2)],
            "cells": a.cells,
            "stages_s": stages,
            "peak_rss_mb": round(peak_mb()),
            "anchor": anc,
        }
    out["verdict"] = verdict(sc, resolutions[-1] if args.quick else 100.0)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Per-tower line of sight: limes' viewshed kernel against GDAL's, on the same DEM and towers.

A seeded fractal DEM at 30 m cells (61 km square; 31 km with --quick), written once as a
GeoTIFF on a sphere of R = 6 371 000 m. The towers stand at random cell centres at least 10 km
from the edges, 20 m masts, target 1.7 m, 10 km range, cc = 0.85714. Printed:

- GDAL: `gdal.ViewshedGenerate` called in-process by one child of Debian's /usr/bin/python3
  that opens the GeoTIFF once and loops over the towers, timing only the calls (never
  process launches); ms per tower, wall and CPU.
- limes, one tower at a time (`viewshed`, single-threaded): ms per tower, wall and CPU of the
  calling thread. The first call (numba compile, or loading the on-disk cache) is timed
  apart and excluded.
- limes, all towers at once (`viewsheds`, spread over the cores): wall ms per tower.
- the ratios GDAL / limes (above 1: limes is faster), the best of `--rounds` for each side.
- agreement: the share of in-range cells on which limes and GDAL agree, over all towers;
  and, on 7.2 km DEMs of four roughnesses where a brute force is affordable, each side's IoU
  with the brute force (tests/sensing/line_of_sight_oracle.py, half-cell steps), the share of
  cells each side sees that the brute force does not and the reverse, and limes-GDAL
  agreement, for a 1.7 m target (and, without --quick, a target on the ground).

The last line is one JSON object with all figures.

    python benchmarks/viewshed.py [--quick] [--towers N] [--rounds N] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.crs import CRS

from limes.sensing.line_of_sight import Observer, Sightline, viewshed, viewsheds

# GDAL's viewshed, the brute-force oracle and the synthetic terrain live with the tests that
# hold us to them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sensing"))
from line_of_sight_gdal import gdal_available, gdal_viewsheds
from line_of_sight_oracle import brute_force_viewshed, fractal_terrain

CELL_M = 30.0
RANGE_M = 10_000.0
MAST_M = 20.0
TARGET_M = 1.7
CC = 0.85714
SPHERE = CRS.from_proj4("+proj=tmerc +R=6371000 +units=m +no_defs")


def write_dem(path: Path, dem: NDArray[np.float64]) -> Affine:
    transform = Affine(CELL_M, 0.0, 400_000.0, 0.0, -CELL_M, 3_800_000.0)
    profile = {
        "driver": "GTiff",
        "width": dem.shape[1],
        "height": dem.shape[0],
        "count": 1,
        "dtype": "float32",
        "transform": transform,
        "crs": SPHERE,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(dem.astype(np.float32), 1)
    return transform


def towers(n_cells: int, count: int, seed: int, transform: Affine) -> list[Observer]:
    rng = np.random.default_rng(seed)
    margin = int(np.ceil(RANGE_M / CELL_M)) + 2
    rows = rng.integers(margin, n_cells - margin, count)
    cols = rng.integers(margin, n_cells - margin, count)
    out = []
    for r, c in zip(rows, cols, strict=True):
        x, y = transform @ (c + 0.5, r + 0.5)
        out.append(Observer(x, y, height_m=MAST_M, max_range_m=RANGE_M))
    return out


def time_ours_single(
    dem: NDArray[np.float32], transform: Affine, obs: list[Observer]
) -> tuple[float, float]:
    """(wall, CPU) ms per tower, one `viewshed` call at a time."""
    wall = cpu = 0.0
    for o in obs:
        t0, c0 = time.perf_counter(), time.thread_time()
        viewshed(dem, transform, o, Sightline(TARGET_M, CC))
        cpu += time.thread_time() - c0
        wall += time.perf_counter() - t0
    return 1e3 * wall / len(obs), 1e3 * cpu / len(obs)


def time_ours_batch(dem: NDArray[np.float32], transform: Affine, obs: list[Observer]) -> float:
    """Wall ms per tower, all towers in one `viewsheds` call."""
    t0 = time.perf_counter()
    viewsheds(dem, transform, obs, Sightline(TARGET_M, CC))
    return 1e3 * (time.perf_counter() - t0) / len(obs)


def agreement_with_gdal(
    dem: NDArray[np.float32], transform: Affine, path: Path, obs: list[Observer]
) -> tuple[float, float]:
    """(share of in-range cells agreeing, IoU) of limes against GDAL over all towers."""
    run = gdal_viewsheds(path, [(o.x, o.y, o.height_m) for o in obs], TARGET_M, RANGE_M, CC)
    same = total = inter = union = 0
    for o, theirs in zip(obs, run.results, strict=True):
        ours = viewshed(dem, transform, o, Sightline(TARGET_M, CC))
        in_range = theirs.in_range(dem.shape)
        a = ours.paste(dem.shape)
        b = theirs.visible(dem.shape)
        same += int((a == b)[in_range].sum())
        total += int(in_range.sum())
        inter += int((a & b).sum())
        union += int((a | b).sum())
    return same / total, inter / union


TERRAINS = {
    # name: (beta, seed); amplitude ~ f^-beta, 300 m of relief over 7.2 km. Lower beta is
    # rougher at the scale of a cell; 1.6 has crests narrower than the half-cell sampling.
    "fractal-2.2": (2.2, 1),
    "fractal-2.0": (2.0, 4),
    "fractal-1.8": (1.8, 4),
    "fractal-1.6": (1.6, 2),
}


def agreement_table(tmp: Path, quick: bool) -> list[dict[str, float | str]]:
    """Per terrain, observer and target height: limes and GDAL against the brute force."""
    rows: list[dict[str, float | str]] = []
    cells = [(120, 120)] if quick else [(120, 120), (90, 140)]
    heights = [TARGET_M] if quick else [TARGET_M, 0.0]
    for name, (beta, seed) in TERRAINS.items():
        dem = fractal_terrain(241, seed=seed, relief_m=300.0, beta=beta)
        path = tmp / f"{name}.tif"
        transform = write_dem(path, dem)
        dem32 = dem.astype(np.float32)
        for r, c in cells:
            x, y = transform @ (c + 0.5, r + 0.5)
            obs = Observer(x, y, height_m=15.0, max_range_m=115 * CELL_M)
            for tz in heights:
                truth, in_range = brute_force_viewshed(dem32, r, c, 15.0, tz, 115.0, CELL_M, CC)
                ours = viewshed(dem32, transform, obs, Sightline(tz, CC)).paste(dem.shape)
                run = gdal_viewsheds(path, [(x, y, 15.0)], tz, obs.max_range_m, CC)
                theirs = run.results[0].visible(dem.shape)
                n = int(in_range.sum())
                rows.append(
                    {
                        "terrain": name,
                        "observer": f"{r},{c}",
                        "target_m": tz,
                        "seen_share": round(float(truth[in_range].mean()), 3),
                        "limes_iou": round(_iou(ours, truth), 4),
                        "gdal_iou": round(_iou(theirs, truth), 4),
                        "limes_gdal_agree": round(float((ours == theirs)[in_range].mean()), 4),
                        "limes_extra_seen": round(float((ours & ~truth).sum()) / n, 4),
                        "limes_extra_hidden": round(float((~ours & truth).sum()) / n, 4),
                        "gdal_extra_seen": round(float((theirs & ~truth).sum()) / n, 4),
                        "gdal_extra_hidden": round(float((~theirs & truth).sum()) / n, 4),
                    }
                )
    return rows


def _iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller DEM, fewer towers")
    parser.add_argument("--towers", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not gdal_available():
        sys.exit("GDAL's Python bindings are needed: apt-get install python3-gdal")
    n_cells = 1024 if args.quick else 2048
    count = args.towers or (20 if args.quick else 100)
    rounds = args.rounds or (2 if args.quick else 3)

    dem = fractal_terrain(n_cells, seed=args.seed, relief_m=600.0 * n_cells / 2048, beta=2.2)
    dem32 = dem.astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="limes-viewshed-") as tmp_dir:
        tmp = Path(tmp_dir)
        path = tmp / "dem.tif"
        transform = write_dem(path, dem)
        obs = towers(n_cells, count, args.seed, transform)

        t0 = time.perf_counter()
        viewshed(dem32, transform, obs[0], Sightline(TARGET_M, CC))
        viewsheds(dem32, transform, obs[:2], Sightline(TARGET_M, CC))
        first_call_s = time.perf_counter() - t0

        gdal_wall, gdal_cpu, ours_wall, ours_cpu, batch = [], [], [], [], []
        version = ""
        xyz = [(o.x, o.y, o.height_m) for o in obs]
        for _ in range(rounds):
            run = gdal_viewsheds(path, xyz, TARGET_M, RANGE_M, CC, keep_results=False)
            version = run.version
            gdal_wall.append(1e3 * float(np.mean(run.seconds)))
            gdal_cpu.append(1e3 * float(np.mean(run.cpu_seconds)))
            w, c = time_ours_single(dem32, transform, obs)
            ours_wall.append(w)
            ours_cpu.append(c)
            batch.append(time_ours_batch(dem32, transform, obs))
        agree, iou = agreement_with_gdal(dem32, transform, path, obs[: min(count, 20)])
        table = agreement_table(tmp, args.quick)

    g_wall, g_cpu = min(gdal_wall), min(gdal_cpu)
    o_wall, o_cpu, o_batch = min(ours_wall), min(ours_cpu), min(batch)
    print(
        f"DEM {n_cells} x {n_cells} cells of {CELL_M:.0f} m, {count} towers, range {RANGE_M:.0f} m"
    )
    print(f"GDAL {version} ViewshedGenerate: {g_wall:7.2f} ms/tower wall, {g_cpu:7.2f} CPU")
    print(f"limes viewshed, one at a time: {o_wall:7.2f} ms/tower wall, {o_cpu:7.2f} CPU")
    print(f"limes viewsheds, all at once:  {o_batch:7.2f} ms/tower wall (all cores)")
    print(
        f"ratio GDAL/limes: single {g_wall / o_wall:.2f} (CPU {g_cpu / o_cpu:.2f}), "
        f"batch {g_wall / o_batch:.2f}"
    )
    print(f"limes first call (compile or cache load): {first_call_s:.2f} s, excluded")
    print(f"agreement with GDAL: {100 * agree:.2f} % of in-range cells, IoU {iou:.4f}")
    print("against the brute force (7.2 km DEMs, 15 m mast, 3.45 km range; shares of in-range")
    print("cells seen by one side only):")
    print(
        f"{'terrain':12s} {'observer':9s} {'tz':>4s} {'seen':>5s} {'limes IoU':>9s} "
        f"{'GDAL IoU':>9s} {'agree':>6s} {'limes +seen/+hid':>17s} {'GDAL +seen/+hid':>16s}"
    )
    for row in table:
        print(
            f"{row['terrain']:12s} {row['observer']:9s} {row['target_m']:4.1f} "
            f"{row['seen_share']:5.2f} {row['limes_iou']:9.4f} {row['gdal_iou']:9.4f} "
            f"{row['limes_gdal_agree']:6.3f} "
            f"{row['limes_extra_seen']:8.4f}/{row['limes_extra_hidden']:.4f} "
            f"{row['gdal_extra_seen']:7.4f}/{row['gdal_extra_hidden']:.4f}"
        )
    figures = {
        "dem_cells": n_cells,
        "towers": count,
        "range_m": RANGE_M,
        "gdal_version": version,
        "gdal_ms_per_tower": round(g_wall, 3),
        "gdal_cpu_ms_per_tower": round(g_cpu, 3),
        "limes_ms_per_tower": round(o_wall, 3),
        "limes_cpu_ms_per_tower": round(o_cpu, 3),
        "limes_batch_ms_per_tower": round(o_batch, 3),
        "ratio_gdal_over_limes": round(g_wall / o_wall, 3),
        "ratio_gdal_over_limes_cpu": round(g_cpu / o_cpu, 3),
        "ratio_gdal_over_limes_batch": round(g_wall / o_batch, 3),
        "limes_first_call_s": round(first_call_s, 3),
        "agreement_with_gdal": round(agree, 4),
        "iou_with_gdal": round(iou, 4),
        "brute_force": table,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

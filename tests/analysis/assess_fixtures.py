"""Hand-built scenarios and assessments for the output, report and comparison tests.

The assessment is made the way the analysis would make it (per-km results, worst paths with
their EASI product, rasters NaN outside the strip) but with values chosen so every expected
output is known in advance: which km are weak, how many coverage polygons there are, which
cells hold which value.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from limes.analysis.result import Assessment, CrossingPath, KmResult, Raster, Run, Weakness
from limes.geo.grid import Grid
from limes.geo.terrain import Dem
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode

SENSOR_LAW = {"range_m": 6000.0, "hazard_per_s": 0.05}


def scenario_data(
    line: list[tuple[float, float]], sector_ends_km: list[float], name: str = "testline"
) -> dict[str, Any]:
    """A complete scenario as YAML would give it, with three barrier statuses and two sensors."""
    sectors = []
    start = 0.0
    for i, end in enumerate(sector_ends_km):
        sectors.append(
            {
                "name": f"S{i + 1}",
                "command": f"Command {i + 1}",
                "from_km": start,
                "to_km": end,
                "far_side": "Far",
            }
        )
        start = end
    length = sector_ends_km[-1]
    return {
        "name": name,
        "title": f"Test border {name}",
        "description": "A short straight-ish line for output tests <b>not bold</b>.",
        "demonstration_note": "Positions are invented for testing.",
        "border": {"line": [list(p) for p in line], "inside": "right"},
        "strip": {"outside_m": 3000.0, "inside_m": 4000.0},
        "terrain": {"synthetic": {"seed": 3}, "resolution_m": 200.0},
        "controllers": [{"name": "Far", "channel": "liaison"}],
        "sectors": sectors,
        "barriers": [
            {
                "id": "trench-1",
                "kind": "trench",
                "from_km": 0.0,
                "to_km": length * 0.4,
                "status": "built",
                "delay": {"foot": {"mean_s": 120.0, "sd_s": 30.0}},
            },
            {
                "id": "berm-1",
                "kind": "berm",
                "from_km": length * 0.4,
                "to_km": length * 0.7,
                "status": "under_construction",
                "progress_pct": 40.0,
                "delay": {"foot": {"mean_s": 60.0}},
            },
            {
                "id": "fence-1",
                "kind": "fence",
                "from_km": length * 0.7,
                "to_km": length,
                "status": "planned",
                "delay": {"foot": {"mean_s": 90.0}},
            },
        ],
        "sensor_models": [
            {
                "name": "tower-cam",
                "kind": "thermal_camera",
                "laws": {"person": {"day": SENSOR_LAW, "night": SENSOR_LAW}},
            }
        ],
        "sensors": [
            {"id": "T1", "model": "tower-cam", "position": {"chainage_km": 3.0, "offset_m": 500}},
            {"id": "T2", "model": "tower-cam", "position": {"chainage_km": 9.0, "offset_m": 800}},
        ],
        "units": [
            {
                "id": "QRF-1",
                "kind": "qrf",
                "base": {"chainage_km": 6.0, "offset_m": 3000},
                "readiness": {"mean_s": 300.0, "sd_s": 60.0},
                "speeds": {"road_kmh": 60.0, "off_road_kmh": 30.0},
            }
        ],
    }


LINE = [(41.20, 35.00), (41.215, 35.06), (41.21, 35.12)]


def make_scenario(
    line: list[tuple[float, float]] | None = None, name: str = "testline", n_sectors: int = 3
) -> Scenario:
    """A valid, checked scenario over `line`, its sectors splitting it evenly."""
    line = line or LINE
    draft = scenario_from_data(scenario_data(line, [1000.0], name), check=False)
    length = math.floor(draft.length_km * 10) / 10
    ends = [round(length * (i + 1) / n_sectors, 1) for i in range(n_sectors)]
    ends[-1] = length
    sc = scenario_from_data(scenario_data(line, ends, name))
    sc._terrain = make_dem(sc)  # type: ignore[assignment]
    return sc


def make_dem(sc: Scenario, cell_m: float = 200.0) -> Dem:
    """A smooth hill east of the line over the strip's neighbourhood (known, deterministic)."""
    xmin, ymin, xmax, ymax = sc.strip_polygon().buffer(5000).bounds
    grid = Grid.north_up(xmin, ymin, xmax, ymax, cell_m)
    x, y = grid.cell_centres()
    cx, cy = (xmin + xmax) / 2 + 2000, (ymin + ymax) / 2
    z = 300 + 250 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 3000.0**2))
    return Dem(grid, z.astype(np.float32))


# --- the assessment ---------------------------------------------------------------------------


# P(interruption) of each km for foot/night (index = km); the weak km are 4–6 and 9.
def foot_night_p(n_km: int) -> NDArray[np.float64]:
    p = np.full(n_km, 0.82)
    p[4], p[5], p[6] = 0.30, 0.12, 0.45
    p[9] = 0.05
    p[1] = 0.66
    return p


def reason_for(p: float) -> Weakness:
    if p < 0.1:
        return Weakness.NOT_SEEN
    if p < 0.2:
        return Weakness.TOO_FAST_TO_STOP
    if p < 0.5:
        return Weakness.SEEN_TOO_LATE
    return Weakness.HELD


def crossing_path(sc: Scenario, start_km: float, p_detect_peak: float, mc: bool) -> CrossingPath:
    """A straight crossing from the outer edge of the strip to the goal, with its EASI value."""
    offsets = np.linspace(-sc.spec.strip.outside_m, sc.spec.strip.inside_m, 8)
    x, y = sc.border.point_at(np.full_like(offsets, start_km * 1000.0), offsets)
    xy = np.column_stack([x, y])
    lon, lat = sc.frame.to_lonlat(x, y)
    steps = np.hypot(*np.diff(xy, axis=0).T)
    time_s = np.concatenate([[0.0], np.cumsum(steps / 1.4)])
    p_detect = np.array([0.0, 0.05, p_detect_peak, 0.3, 0.1, 0.05, 0.02, 0.0])
    p_timely = np.clip(1.0 - time_s / time_s[-1], 0.0, 1.0)
    # EASI: the first detection at step i, times the chance the response is still in time.
    miss_before = np.concatenate([[1.0], np.cumprod(1.0 - p_detect)[:-1]])
    contrib = p_detect * miss_before * p_timely
    p = float(contrib.sum())
    return CrossingPath(
        start_chainage_km=start_km,
        xy=xy,
        lonlat=np.column_stack([lon, lat]),
        time_s=time_s,
        p_detect=p_detect,
        p_timely=p_timely,
        p_interruption=p,
        critical_index=int(np.argmax(contrib)),
        p_monte_carlo=p + 0.01 if mc else None,
        mc_interval=(p - 0.02, p + 0.04) if mc else None,
        p_detection=float(1 - np.prod(1 - p_detect)),
    )


def strip_grid(sc: Scenario, cell_m: float) -> tuple[Grid, NDArray[np.bool_]]:
    """The north-up analysis grid over the strip, and which cells lie in the strip."""
    strip = sc.strip_polygon()
    grid = Grid.north_up(*strip.bounds, cell_m)
    cx, cy = grid.cell_centres()
    return grid, shapely.contains_xy(strip, cx, cy)


def make_rasters(
    sc: Scenario, cell_m: float, p_scale: float
) -> tuple[dict[str, Raster], list[tuple[slice, slice]]]:
    """The four layers; hazard > 0 only in two separate blocks of cells (returned)."""
    grid, inside = strip_grid(sc, cell_m)
    cx, cy = grid.cell_centres()
    chain, offset = sc.locate(cx, cy)
    blocks = []
    for km in (2.0, 11.0):
        bx, by = sc.border.point_at(km * 1000.0, 0.0)
        r, c = (int(v) for v in np.floor(grid.rowcol(bx, by)))
        blocks.append((slice(r - 1, r + 2), slice(c - 1, c + 2)))
    hazard = np.zeros(grid.shape, np.float32)
    for b in blocks:
        hazard[b] = 0.02
    layers = {
        "hazard": ("1/s", hazard),
        "response_time_s": ("s", (600 + np.abs(offset) / 10).astype(np.float32)),
        "time_to_goal_s": ("s", ((sc.spec.strip.inside_m - offset) / 1.4).astype(np.float32)),
        "p_interruption": ("1", (p_scale * (0.3 + 0.6 * (chain % 7000) / 7000)).astype(np.float32)),
    }
    out = {}
    for name, (units, data) in layers.items():
        arr = np.where(inside, data, np.nan).astype(np.float32)
        out[name] = Raster(name, units, grid, arr)
    # Every block must lie in the strip for the polygon count to be what the test expects.
    for b in blocks:
        assert inside[b].all(), "fixture block leaves the strip"
    return out, blocks


def make_run(sc: Scenario, mode: Mode, light: Light, p: NDArray[np.float64], cell_m: float) -> Run:
    per_km = [
        KmResult(
            chainage_km=float(k),
            p_interruption=float(pk),
            sector=sc.sector_at(k + 0.5).name,
            reason=reason_for(float(pk)),
            p_detection=float(min(1.0, pk + 0.1)),
            coverage=float(min(1.0, pk + 0.05)),
            p_easi=float(pk) + 0.01,
            crossing_time_s=3600.0 + 60 * k,
            response_time_s=900.0,
        )
        for k, pk in enumerate(p)
    ]
    order = np.argsort(p)[:3]
    paths = [crossing_path(sc, float(k) + 0.5, 0.2 + p[k], mc=i < 2) for i, k in enumerate(order)]
    rasters, _ = make_rasters(sc, cell_m, p_scale=1.0 if mode is Mode.FOOT else 0.8)
    return Run(mode, light, per_km, paths, rasters)


def make_assessment(sc: Scenario, cell_m: float = 250.0) -> Assessment:
    """Two runs (foot at night, vehicle by day) over every whole km of the line."""
    n_km = math.ceil(sc.length_km)
    p_foot = foot_night_p(n_km)
    p_vehicle = np.clip(p_foot + 0.1, 0, 1)
    p_vehicle[9] = 0.95
    runs = [
        make_run(sc, Mode.FOOT, Light.NIGHT, p_foot, cell_m),
        make_run(sc, Mode.VEHICLE, Light.DAY, p_vehicle, cell_m),
    ]
    timings = {"line_of_sight": 1.25, "hazard": 0.5, "paths": 2.0}
    return Assessment(sc.name, cell_m, runs, timings, cell_m, 1234)


def with_km_changed(a: Assessment, run_index: int, km: int, p_new: float) -> Assessment:
    """The same assessment with one km of one run set to a new P(interruption)."""
    runs = list(a.runs)
    run = runs[run_index]
    per_km = list(run.per_km)
    per_km[km] = replace(per_km[km], p_interruption=p_new, reason=reason_for(p_new))
    runs[run_index] = replace(run, per_km=per_km)
    return replace(a, runs=runs)

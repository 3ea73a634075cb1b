"""The scenario's terrain: its DEM file or its synthetic ground, over the area it needs.

The area is the bounding box of the analysed strip, every sensor and every unit base, plus a
margin, snapped to whole cells of `terrain.resolution_m`. A DEM that leaves part of the strip
uncovered is a `ScenarioError` naming `terrain.file`, the missing stretch and the DEM's bounds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer

from limes.geo.frame import WGS84
from limes.geo.grid import Grid
from limes.geo.terrain import (
    Dem,
    DemError,
    Landform,
    SyntheticGround,
    dem_footprint,
    load_dem,
    synthetic_dem,
)
from limes.scenario.errors import Problem, ScenarioError
from limes.scenario.model import Scenario
from limes.scenario.schema import Sensor, SyntheticTerrain

# Cells of terrain kept beyond the outermost strip edge, sensor or unit base, so that bilinear
# sampling and line of sight from a sensor at the edge have ground around them.
MARGIN_CELLS = 10


def build_terrain(scenario: Scenario) -> Dem:
    """The scenario's terrain on a north-up frame grid at `terrain.resolution_m`."""
    spec = scenario.spec.terrain
    bounds = terrain_bounds(scenario)
    if spec.synthetic is not None:
        grid = Grid.north_up(*bounds, spec.resolution_m)
        return synthetic_dem(grid, synthetic_ground(scenario, spec.synthetic), scenario.frame.crs)
    path = dem_path(scenario)
    if not path.is_file():
        raise ScenarioError([Problem("terrain.file", "no such DEM file", str(path))])
    try:
        dem = load_dem(path, scenario.frame.crs, bounds, spec.resolution_m)
    except DemError as exc:
        raise ScenarioError([Problem("terrain.file", str(exc), str(path))]) from None
    problem = _uncovered_strip(scenario, dem, path)
    if problem is not None:
        raise ScenarioError([problem])
    return dem


def terrain_bounds(scenario: Scenario) -> tuple[float, float, float, float]:
    """Frame bounds of the terrain: strip, sensors and unit bases plus a margin, on whole cells."""
    cell = scenario.spec.terrain.resolution_m
    xmin, ymin, xmax, ymax = scenario.strip_polygon().bounds
    # Each sensor's whole reach is covered, so a viewshed never runs off the terrain.
    points = [
        (*scenario.position_xy(s.position), _reach_m(scenario, s)) for s in scenario.spec.sensors
    ]
    points += [(*scenario.position_xy(u.base), 0.0) for u in scenario.spec.units]
    if points:
        px, py, reach = np.asarray(points).T
        xmin, xmax = min(xmin, (px - reach).min()), max(xmax, (px + reach).max())
        ymin, ymax = min(ymin, (py - reach).min()), max(ymax, (py + reach).max())
    m = MARGIN_CELLS * cell
    return (
        math.floor((xmin - m) / cell) * cell,
        math.floor((ymin - m) / cell) * cell,
        math.ceil((xmax + m) / cell) * cell,
        math.ceil((ymax + m) / cell) * cell,
    )


def _reach_m(scenario: Scenario, sensor: Sensor) -> float:
    """The longest range of any of a sensor's detection laws (0 for an unknown model)."""
    model = scenario.sensor_models.get(sensor.model)
    if model is None:
        return 0.0
    return max((law.range_m for laws in model.laws.values() for law in laws.values()), default=0.0)


def synthetic_ground(scenario: Scenario, spec: SyntheticTerrain) -> SyntheticGround:
    """The synthetic terrain's parameters with its landforms projected into the frame."""
    landforms = []
    for f in spec.features:
        lonlat = np.asarray(f.path if f.path is not None else [f.centre], dtype=float)
        x, y = scenario.frame.to_xy(lonlat[:, 0], lonlat[:, 1])
        landforms.append(
            Landform(f.name, f.kind.value, np.column_stack([x, y]), f.width_m, f.height_m)
        )
    return SyntheticGround(
        seed=spec.seed,
        base_elevation_m=spec.base_elevation_m,
        slope_m_per_km=spec.slope_m_per_km,
        roughness_m=spec.roughness_m,
        roughness_scale_m=spec.roughness_scale_m,
        octaves=spec.octaves,
        landforms=tuple(landforms),
    )


def dem_path(scenario: Scenario) -> Path:
    """The DEM file, relative paths taken from the scenario file's folder."""
    assert scenario.spec.terrain.file is not None
    path = Path(scenario.spec.terrain.file).expanduser()
    return path if path.is_absolute() else (scenario.base_dir or Path.cwd()) / path


def check_terrain_source(scenario: Scenario) -> list[Problem]:
    """Cheap checks of a DEM file (exists, readable, footprint covers the strip), header only."""
    if scenario.spec.terrain.file is None:
        return []
    path = dem_path(scenario)
    if not path.is_file():
        return [Problem("terrain.file", "no such DEM file", str(path))]
    try:
        crs, (left, bottom, right, top) = dem_footprint(path)
    except DemError as exc:
        return [Problem("terrain.file", str(exc), str(path))]
    # Compare in the DEM's own CRS, where its footprint is a plain box: the strip is local and
    # projects anywhere, while a continental or global DEM's edges may not project into the frame.
    strip = shapely.segmentize(scenario.strip_polygon(), 1000.0)
    to_dem = Transformer.from_crs(scenario.frame.crs, crs, always_xy=True)
    strip_dem = shapely.transform(strip, lambda xy: np.column_stack(to_dem.transform(*xy.T)))
    if not strip_dem.is_valid or not np.isfinite(shapely.get_coordinates(strip_dem)).all():
        return [Problem("terrain.file", "the strip cannot be placed in the DEM's CRS", str(path))]
    missing_dem = strip_dem.difference(shapely.box(left, bottom, right, top))
    if missing_dem.area <= 1e-6 * strip_dem.area:
        return []
    to_frame = Transformer.from_crs(crs, scenario.frame.crs, always_xy=True)
    missing = shapely.transform(missing_dem, lambda xy: np.column_stack(to_frame.transform(*xy.T)))
    return [
        _missing_problem(scenario, missing, path, _lonlat_bounds(crs, left, bottom, right, top))
    ]


def _uncovered_strip(scenario: Scenario, dem: Dem, path: Path) -> Problem | None:
    """A problem naming where the loaded DEM has no data within the strip, or None."""
    spec = scenario.spec.strip
    step = scenario.spec.terrain.resolution_m
    s = np.arange(0.0, scenario.border.length_m + step / 2, step)
    d = np.arange(-spec.outside_m, spec.inside_m + step / 2, step)
    ss, dd = np.meshgrid(s, d)
    x, y = scenario.border.point_at(ss, dd)
    bad = np.isnan(dem.sample(x, y))
    if not bad.any():
        return None
    missing = shapely.MultiPoint(np.column_stack([x[bad], y[bad]])).buffer(step, quad_segs=1)
    good = np.isfinite(dem.elevation)
    if good.any():
        rows, cols = np.nonzero(good)
        gx, gy = dem.grid.xy(rows + 0.5, cols + 0.5)
        lon, lat = scenario.frame.to_lonlat(gx, gy)
        covers = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    else:
        covers = None
    return _missing_problem(scenario, missing, path, covers)


def _missing_problem(
    scenario: Scenario,
    missing: shapely.Geometry,
    path: Path,
    covers: tuple[float, float, float, float] | None,
) -> Problem:
    pts = shapely.get_coordinates(missing)
    s, _ = scenario.locate(pts[:, 0], pts[:, 1])
    lon, lat = scenario.frame.to_lonlat(pts[:, 0], pts[:, 1])
    where = (
        f"km {s.min() / 1000:.1f}–{s.max() / 1000:.1f} of the strip "
        f"(lon {lon.min():.3f}–{lon.max():.3f}, lat {lat.min():.3f}–{lat.max():.3f})"
    )
    has = (
        "no data at all"
        if covers is None
        else f"lon {covers[0]:.3f}–{covers[2]:.3f}, lat {covers[1]:.3f}–{covers[3]:.3f}"
    )
    return Problem(
        "terrain.file",
        f"the DEM does not cover the border strip: {where} is missing; the DEM covers {has}",
        str(path),
    )


def _lonlat_bounds(
    crs: CRS, left: float, bottom: float, right: float, top: float
) -> tuple[float, float, float, float]:
    t = np.linspace(0.0, 1.0, 21)
    xs = np.concatenate(
        [
            left + (right - left) * t,
            left + (right - left) * t,
            np.full_like(t, left),
            np.full_like(t, right),
        ]
    )
    ys = np.concatenate(
        [
            np.full_like(t, bottom),
            np.full_like(t, top),
            bottom + (top - bottom) * t,
            bottom + (top - bottom) * t,
        ]
    )
    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(xs, ys)
    return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))

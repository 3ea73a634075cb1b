"""A scenario's terrain: synthetic or from a DEM file, over the strip, sensors and units."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from scenario_fixtures import example_yaml, write_dem

from limes.scenario.errors import ScenarioError
from limes.scenario.load import load_scenario
from limes.scenario.terrain import build_terrain, terrain_bounds


def utm37(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """An analytic ground in UTM 37N metres (lon 36–42 E)."""
    return 350.0 + 60.0 * np.sin(x / 3000.0) + 40.0 * np.cos(y / 4500.0)


TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True)


def with_file(text: str, name: str) -> str:
    start, end = text.index("terrain:\n"), text.index("controllers:\n")
    return text[:start] + f"terrain:\n  file: {name}\n  resolution_m: 50\n" + text[end:]


def utm_bounds(
    lon0: float, lat0: float, lon1: float, lat1: float
) -> tuple[float, float, float, float]:
    x0, y0 = TO_UTM.transform(lon0, lat0)
    x1, y1 = TO_UTM.transform(lon1, lat1)
    return (
        float(np.floor(min(x0, x1) / 30) * 30),
        float(np.floor(min(y0, y1) / 30) * 30),
        float(np.ceil(max(x0, x1) / 30) * 30),
        float(np.ceil(max(y0, y1) / 30) * 30),
    )


def test_synthetic_terrain_covers_strip_sensors_and_units(example_file: Path) -> None:
    sc = load_scenario(example_file)
    dem = sc.terrain()
    assert sc.terrain() is dem
    cell = sc.spec.terrain.resolution_m
    assert dem.grid.cell_m == pytest.approx(cell)
    xmin, ymin, xmax, ymax = dem.bounds()
    assert all(abs(v / cell - round(v / cell)) < 1e-6 for v in (xmin, ymin, xmax, ymax))
    sx, sy = sc.strip_polygon().exterior.xy
    assert np.isfinite(dem.sample(np.asarray(sx), np.asarray(sy))).all()
    for pos in [s.position for s in sc.spec.sensors] + [u.base for u in sc.spec.units]:
        assert np.isfinite(dem.sample(*sc.position_xy(pos)))
    assert dem.crs == sc.frame.crs


def test_the_bounds_reach_a_unit_far_behind_the_line(example_file: Path) -> None:
    sc = load_scenario(example_file)
    x, _ = sc.position_xy(sc.units["helo-1"].base)  # ~15 km east of the line
    assert terrain_bounds(sc)[2] >= x + 10 * sc.spec.terrain.resolution_m


def test_a_utm_dem_file_is_read_into_the_frame(tmp_path: Path) -> None:
    write_dem(tmp_path / "dem.tif", "EPSG:32637", utm_bounds(39.8, 34.8, 40.4, 35.4), 30.0, utm37)
    (tmp_path / "s.yaml").write_text(with_file(example_yaml(), "dem.tif"))
    sc = load_scenario(tmp_path / "s.yaml")
    dem = build_terrain(sc)
    s = np.linspace(0, sc.border.length_m, 300)
    x, y = sc.border.point_at(s, np.linspace(-2500, 3500, 300))
    lon, lat = sc.frame.to_lonlat(x, y)
    truth = utm37(*map(np.asarray, TO_UTM.transform(lon, lat)))
    assert np.abs(dem.sample(x, y) - truth).max() < 1.0


def test_a_dem_with_a_hole_in_the_strip_is_refused_when_built(tmp_path: Path) -> None:
    bounds = utm_bounds(39.8, 34.8, 40.4, 35.4)
    hole_x, hole_y = TO_UTM.transform(40.05, 35.10)  # on the line, at its middle vertex

    def hole(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (np.abs(x - hole_x) < 1500) & (np.abs(y - hole_y) < 1500)

    write_dem(tmp_path / "dem.tif", "EPSG:32637", bounds, 30.0, utm37, nodata=-32768, hole=hole)
    (tmp_path / "s.yaml").write_text(with_file(example_yaml(), "dem.tif"))
    sc = load_scenario(tmp_path / "s.yaml")  # the footprint covers the strip
    with pytest.raises(ScenarioError) as caught:
        build_terrain(sc)
    (problem,) = caught.value.problems
    assert problem.path == "terrain.file"
    assert "does not cover the border strip" in problem.reason
    km = [float(v) for v in problem.reason.split("km ")[1].split(" ")[0].split("–")]
    assert km[0] < 22.5 < km[1] and km[1] - km[0] < 5  # names the stretch around the hole


def test_a_dem_off_to_one_side_names_the_missing_area_and_its_own_bounds(tmp_path: Path) -> None:
    write_dem(tmp_path / "dem.tif", "EPSG:32637", utm_bounds(40.1, 34.8, 40.6, 35.4), 60.0, utm37)
    text = with_file(example_yaml(), "dem.tif")
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "s.yaml")
    (problem,) = caught.value.problems
    assert problem.path == "terrain.file"
    assert "km 0.0–45.0 of the strip" in problem.reason
    # The file's own extent, in lon/lat: it starts east of most of the line.
    covers = re.search(
        r"the DEM covers lon ([\d.]+)–([\d.]+), lat ([\d.]+)–([\d.]+)", problem.reason
    )
    assert covers is not None
    assert [float(v) for v in covers.groups()] == pytest.approx([40.1, 40.6, 34.8, 35.4], abs=0.01)
    assert problem.line == text.splitlines().index("  file: dem.tif") + 1


def test_building_without_checks_still_refuses_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(with_file(example_yaml(), "gone.tif"))
    sc = load_scenario(tmp_path / "s.yaml", check=False)
    with pytest.raises(ScenarioError, match="no such DEM file"):
        build_terrain(sc)


def test_synthetic_features_shape_the_example(example_file: Path) -> None:
    sc = load_scenario(example_file)
    dem = sc.terrain()
    ridge = dem.sample(*sc.frame.to_xy(40.12, 35.15))
    beside = dem.sample(*sc.frame.to_xy(40.20, 35.15))
    assert ridge - beside > 150  # the 250 m ridge stands out of the plain


def test_a_scenario_without_sensors_or_units_still_gets_terrain(tmp_path: Path) -> None:
    text = example_yaml()
    text = text[: text.index("sensors:\n")] + text[text.index("roads:\n") :]
    (tmp_path / "s.yaml").write_text(text)
    sc = load_scenario(tmp_path / "s.yaml")
    assert sc.terrain().elevation.size > 0


def test_a_global_dem_in_lonlat_is_accepted(tmp_path: Path) -> None:
    # A world-wide raster: its edges do not project into a local frame, the strip still fits.
    write_dem(
        tmp_path / "world.tif",
        "EPSG:4326",
        (-180.0, -90.0, 180.0, 90.0),
        0.25,
        lambda lon, lat: 100.0 + 2.0 * lon + 1.0 * lat,
    )
    (tmp_path / "s.yaml").write_text(with_file(example_yaml(), "world.tif"))
    sc = load_scenario(tmp_path / "s.yaml")
    dem = build_terrain(sc)
    x, y = sc.border.point_at(np.array([0.0, 20_000.0, 40_000.0]), 0.0)
    lon, lat = sc.frame.to_lonlat(x, y)
    # Bilinear reproduces a plane in lon/lat up to the frame's slight curvature of it.
    assert dem.sample(x, y) == pytest.approx(100.0 + 2.0 * lon + 1.0 * lat, abs=0.5)

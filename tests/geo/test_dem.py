"""Dem sampling and resampling, and DEM files in other CRSs, against analytic surfaces."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from limes.geo.frame import Frame
from limes.geo.grid import Grid
from limes.geo.terrain import Dem, DemError, load_dem


def plane(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 250.0 + 0.03 * x - 0.02 * y


def plane_dem(grid: Grid) -> Dem:
    x, y = grid.cell_centres()
    return Dem(grid, plane(x, y).astype(np.float32))


ROTATED = Grid.aligned(1000.0, -500.0, math.cos(0.6), math.sin(0.6), 3000.0, 2000.0, 50.0)


@pytest.mark.parametrize("grid", [Grid.north_up(0, 0, 3000, 2000, 50.0), ROTATED])
def test_bilinear_sampling_reproduces_a_plane_exactly(grid: Grid) -> None:
    dem = plane_dem(grid)
    rng = np.random.default_rng(1)
    rows = rng.uniform(0.5, grid.height - 0.5, 500)
    cols = rng.uniform(0.5, grid.width - 0.5, 500)
    x, y = grid.xy(rows, cols)
    np.testing.assert_allclose(dem.sample(x, y), plane(x, y), atol=1e-3)


def test_sampling_between_four_cells_is_the_bilinear_blend() -> None:
    grid = Grid.north_up(0, 0, 20, 20, 10.0)
    dem = Dem(grid, np.array([[1.0, 2.0], [3.0, 7.0]], np.float32))
    # Cell centres: (5, 15) → 1, (15, 15) → 2, (5, 5) → 3, (15, 5) → 7.
    assert dem.sample(10.0, 10.0) == pytest.approx((1 + 2 + 3 + 7) / 4)
    assert dem.sample(7.5, 15.0) == pytest.approx(1.25)
    assert dem.sample(15.0, 7.5) == pytest.approx(2 * 0.25 + 7 * 0.75)


def test_outside_the_grid_is_nan_and_the_edge_half_cell_is_not() -> None:
    grid = Grid.north_up(0, 0, 100, 100, 10.0)
    dem = plane_dem(grid)
    out = dem.sample(np.array([-1.0, 50.0, 101.0, 50.0]), np.array([50.0, -0.5, 50.0, 100.5]))
    assert np.isnan(out).all()
    edge = dem.sample(np.array([1.0, 99.0]), np.array([50.0, 50.0]))
    assert np.isfinite(edge).all()
    # Beyond the last centre the edge value holds along that axis.
    assert edge[0] == pytest.approx(plane(np.array(5.0), np.array(50.0)), abs=1e-3)


def test_a_nodata_cell_spoils_only_its_neighbourhood() -> None:
    grid = Grid.north_up(0, 0, 100, 100, 10.0)
    z = plane_dem(grid).elevation.copy()
    z[5, 5] = np.nan  # centre at (55, 45)
    dem = Dem(grid, z)
    assert np.isnan(dem.sample(55.0, 45.0))
    assert np.isnan(dem.sample(60.0, 40.0))
    assert np.isfinite(dem.sample(30.0, 30.0))


def test_sample_keeps_the_shape_of_its_input() -> None:
    dem = plane_dem(Grid.north_up(0, 0, 100, 100, 10.0))
    x = np.full((3, 4), 50.0)
    assert dem.sample(x, x).shape == (3, 4)
    assert np.ndim(dem.sample(50.0, 50.0)) == 0


def test_resampling_onto_a_rotated_grid_matches_the_surface() -> None:
    source = plane_dem(Grid.north_up(-2000, -2000, 6000, 6000, 25.0))
    target = Grid.aligned(2000.0, 2000.0, math.cos(2.2), math.sin(2.2), 1500.0, 1500.0, 40.0)
    out = source.resample(target)
    assert out.grid == target
    assert out.elevation.dtype == np.float32
    x, y = target.cell_centres()
    np.testing.assert_allclose(out.elevation, plane(x, y), atol=1e-2)


def test_resampling_beyond_the_source_gives_nan() -> None:
    source = plane_dem(Grid.north_up(0, 0, 1000, 1000, 10.0))
    out = source.resample(Grid.north_up(500, 500, 1500, 1500, 10.0))
    # Row 0 is the top (y = 1500): its east end lies beyond the source, the bottom-left does not.
    assert np.isnan(out.elevation[0, -1])
    assert out.elevation[-1, 0] == pytest.approx(plane(np.array(505.0), np.array(505.0)))


def test_elevation_must_match_the_grid() -> None:
    with pytest.raises(ValueError, match="does not match"):
        Dem(Grid.north_up(0, 0, 100, 100, 10.0), np.zeros((3, 3), np.float32))


# --- DEM files in other CRSs ----------------------------------------------------------------

# The frame: a transverse Mercator centred at 44.5 E, 33.5 N (UTM zone 38 covers 42–48 E).
FRAME = Frame.transverse_mercator(44.5, 33.5)
LON0, LAT0 = 44.5, 33.5
SOURCES = {
    # crs: (cell size in that CRS, half extent in that CRS)
    "EPSG:32638": (30.0, 12000.0),
    "EPSG:3857": (36.0, 14400.0),  # Mercator metres are ~1.2 ground metres here
    "EPSG:4326": (0.0003, 0.13),
}


def surface_lonlat(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The analytic ground, defined on the globe so every CRS sees the same hills."""
    u = (lon - LON0) * 92_900.0  # ~metres east at 33.5 N
    v = (lat - LAT0) * 110_900.0
    return 400.0 + 120.0 * np.sin(u / 4000.0) * np.cos(v / 5000.0) + 0.004 * u - 0.002 * v


def _write(path: Path, crs: str) -> None:
    cell, half = SOURCES[crs]
    to_src = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    cx, cy = to_src.transform(LON0, LAT0)
    n = round(2 * half / cell)
    transform = Affine(cell, 0, cx - half, 0, -cell, cy + half)
    cols, rows = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    x, y = transform @ (cols, rows)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    z = surface_lonlat(np.asarray(lon), np.asarray(lat)).astype(np.float32)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=n,
        height=n,
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
    ) as dst:
        dst.write(z, 1)


@pytest.fixture(scope="module", params=list(SOURCES))
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Dem:
    path = tmp_path_factory.mktemp("dem") / "dem.tif"
    _write(path, request.param)
    return load_dem(path, FRAME.crs, (-9000.0, -9000.0, 9000.0, 9000.0), 30.0)


@settings(max_examples=200, deadline=None)
@given(x=st.floats(-8500, 8500), y=st.floats(-8500, 8500))
def test_a_dem_in_another_crs_samples_within_a_metre_of_the_truth(
    loaded: Dem, x: float, y: float
) -> None:
    lon, lat = FRAME.to_lonlat(x, y)
    truth = surface_lonlat(lon, lat)
    assert abs(float(loaded.sample(x, y)) - float(truth)) < 1.0


def test_load_dem_places_the_grid_in_the_frame(loaded: Dem) -> None:
    assert loaded.grid.cell_m == pytest.approx(30.0)
    assert loaded.bounds() == pytest.approx((-9000.0, -9000.0, 9000.0, 9000.0))
    assert CRS(loaded.crs) == FRAME.crs
    assert np.isfinite(loaded.elevation).all()


def test_nodata_becomes_nan_and_uncovered_ground_too(tmp_path: Path) -> None:
    path = tmp_path / "holes.tif"
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    cx, cy = to_utm.transform(LON0, LAT0)
    z = np.full((100, 100), 300.0, np.float32)
    z[40:60, 40:60] = -9999.0
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=100,
        height=100,
        count=1,
        dtype="float32",
        crs="EPSG:32638",
        transform=Affine(30, 0, cx - 1500, 0, -30, cy + 1500),
        nodata=-9999.0,
    ) as dst:
        dst.write(z, 1)
    dem = load_dem(path, FRAME.crs, (-3000.0, -3000.0, 3000.0, 3000.0), 30.0)
    centre = dem.sample(*FRAME.to_xy(LON0, LAT0))
    assert np.isnan(centre)  # the no-data block sits at the centre
    assert np.isnan(dem.sample(-2800.0, -2800.0))  # beyond the file
    corner = to_utm.transform(cx - 1200, cy + 1200, direction="INVERSE")
    assert float(dem.sample(*FRAME.to_xy(*corner))) == pytest.approx(300.0)
    assert np.nanmin(dem.elevation) == pytest.approx(300.0)  # -9999 never leaks in


def test_a_file_that_is_not_a_raster_is_a_dem_error(tmp_path: Path) -> None:
    path = tmp_path / "not.tif"
    path.write_text("hello")
    with pytest.raises(DemError, match="cannot read"):
        load_dem(path, FRAME.crs, (0.0, 0.0, 100.0, 100.0), 10.0)

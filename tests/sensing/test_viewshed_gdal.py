"""Our viewshed against GDAL's (Debian's gdal-bin / python3-gdal), cell by cell.

GDAL is an outside reference, not the truth; the brute force in line_of_sight_oracle is the
oracle. GDAL (Wang et al. 2000, "edge" mode) never follows a sight line: each cell's horizon
height is extrapolated from two already-computed neighbour cells one step nearer the observer,
read at their centres. The disagreements this leaves sit on shadow edges, in three classes
(docs/line-of-sight.md has the figures):

- a neighbour up to half a cell beside the true line carries its own (higher) horizon across:
  GDAL hides cells the brute force sees (its largest class, 0.4-1.4 % of in-range cells);
- extrapolating two neighbours' heights along a plane under-reads a crest that lies between
  them: GDAL sees cells the brute force hides (0.2-0.5 % with a 1.7 m target);
- nothing is sampled between the neighbours and the target, so a target on the ground just
  behind a convex brow counts as seen (with -tz 0, up to 0.9 %).

Conventions matched here: GDAL places the observer at the centre of the cell holding (x, y),
counts a cell in range when its centre lies within `-md` of that centre, and takes the earth's
radius from the raster's CRS, so the GeoTIFFs are written on a sphere of R = 6 371 000 m.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from line_of_sight_gdal import (
    GdalViewshed,
    gdal_available,
    gdal_cli_available,
    gdal_viewsheds,
    gdal_viewsheds_cli,
)
from line_of_sight_oracle import brute_force_viewshed, fractal_terrain, gaussian_hills
from numpy.typing import NDArray
from rasterio.crs import CRS

from limes.sensing.line_of_sight import Observer, Sightline, viewshed

pytestmark = pytest.mark.gdal

CELL = 30.0
SPHERE = CRS.from_proj4("+proj=tmerc +R=6371000 +units=m +no_defs")


@pytest.fixture(scope="module", autouse=True)
def _need_gdal() -> None:
    if not (gdal_available() or gdal_cli_available()):
        reason = "GDAL is not installed (Debian's gdal-bin or python3-gdal)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def gdal_reference(
    path: Path, xyz: list[tuple[float, float, float]], tz: float, md: float, cc: float
) -> list[GdalViewshed]:
    """GDAL's viewsheds: in-process through python3-gdal, else through the gdal_viewshed command."""
    if gdal_available():
        return gdal_viewsheds(path, xyz, tz, md, cc).results
    return gdal_viewsheds_cli(path, xyz, tz, md, cc)


def write_dem(path: Path, dem: NDArray[np.float64]) -> Affine:
    transform = Affine(CELL, 0.0, 400_000.0, 0.0, -CELL, 3_800_000.0)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=dem.shape[1],
        height=dem.shape[0],
        count=1,
        dtype="float64",
        transform=transform,
        crs=SPHERE,
    ) as ds:
        ds.write(dem, 1)
    return transform


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


SMALL = {
    "fractal-2.0": fractal_terrain(241, seed=4, relief_m=300.0, beta=2.0),
    "fractal-1.6": fractal_terrain(241, seed=2, relief_m=300.0, beta=1.6),
    "hills": gaussian_hills(241, seed=3, count=40, height_m=150.0, width_cells=12.0),
}


@pytest.mark.parametrize("terrain", sorted(SMALL))
@pytest.mark.parametrize("cc", [0.85714, 0.0])
def test_small_dem_agrees_with_gdal_and_beats_it_on_the_brute_force(
    tmp_path: Path, terrain: str, cc: float
) -> None:
    dem = SMALL[terrain]
    transform = write_dem(tmp_path / "dem.tif", dem)
    cells = [(120, 120), (90, 140), (200, 35)]
    range_m = 115 * CELL
    observers = [Observer(*(transform @ (c + 0.5, r + 0.5)), 15.0, range_m) for r, c in cells]
    results = gdal_reference(
        tmp_path / "dem.tif", [(o.x, o.y, o.height_m) for o in observers], 1.7, range_m, cc
    )
    for (r, c), obs, theirs in zip(cells, observers, results, strict=True):
        ours = viewshed(dem, transform, obs, Sightline(1.7, curvature_coefficient=cc))
        truth, in_range = brute_force_viewshed(dem, r, c, 15.0, 1.7, 115.0, CELL, cc)
        gdal_vis = theirs.visible(dem.shape)
        assert (theirs.in_range(dem.shape) == in_range).all()
        assert (ours.in_range() == in_range[ours.slices]).all()
        mine = ours.paste(dem.shape)
        assert (mine == gdal_vis)[in_range].mean() >= 0.98
        # The oracle decides who is nearer the truth: the kernel, by a margin.
        assert iou(mine, truth) >= iou(gdal_vis, truth)


def test_ten_km_tower_on_a_large_dem_agrees_with_gdal(tmp_path: Path) -> None:
    dem = fractal_terrain(801, seed=11, relief_m=600.0, beta=2.2)
    transform = write_dem(tmp_path / "dem.tif", dem)
    range_m = 10_000.0
    cells = [(400, 400), (250, 520)]
    observers = [Observer(*(transform @ (c + 0.5, r + 0.5)), 20.0, range_m) for r, c in cells]
    results = gdal_reference(
        tmp_path / "dem.tif", [(o.x, o.y, o.height_m) for o in observers], 1.7, range_m, 0.85714
    )
    for obs, theirs in zip(observers, results, strict=True):
        ours = viewshed(dem, transform, obs, Sightline(1.7))
        in_range = theirs.in_range(dem.shape)
        assert (in_range[ours.slices] == ours.in_range()).all()
        assert (ours.paste(dem.shape) == theirs.visible(dem.shape))[in_range].mean() >= 0.98


def test_gdal_command_line_and_api_give_the_same_viewshed(tmp_path: Path) -> None:
    # What the tests and the benchmark call in-process is what Debian's gdal_viewshed computes.
    if not (gdal_available() and gdal_cli_available()):
        pytest.skip("needs both gdal_viewshed (gdal-bin) and python3-gdal")
    dem = SMALL["hills"]
    transform = write_dem(tmp_path / "dem.tif", dem)
    x, y = transform @ (90.5, 100.5)
    xyz = [(x, y, 12.0)]
    cli = gdal_viewsheds_cli(tmp_path / "dem.tif", xyz, 1.7, 2500.0, 0.85714)[0]
    api = gdal_viewsheds(tmp_path / "dem.tif", xyz, 1.7, 2500.0, 0.85714).results[0]
    assert (api.row0, api.col0) == (cli.row0, cli.col0)
    assert (api.values == cli.values).all()
    assert (api.values == 255).sum() > 100 and (api.values == 0).sum() > 100

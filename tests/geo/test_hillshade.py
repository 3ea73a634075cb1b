"""One hillshade for every picture of the terrain: Horn's, as `gdaldem hillshade` computes it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

import limes.analysis.report
import limes.web.hillshade
from limes.geo.hillshade import hillshade


def test_the_report_and_the_map_shade_with_the_same_function() -> None:
    assert limes.analysis.report.hillshade is hillshade
    assert limes.web.hillshade.hillshade is hillshade


@pytest.mark.gdal
@pytest.mark.parametrize(("azimuth", "altitude", "z_factor"), [(315, 45, 1), (120, 20, 5)])
def test_hillshade_equals_gdaldem_on_a_small_dem(
    tmp_path: Path, azimuth: float, altitude: float, z_factor: float
) -> None:
    if shutil.which("gdaldem") is None:
        pytest.skip("gdaldem (gdal-bin) not installed")
    rng = np.random.default_rng(7)
    # A hill and a valley with noise: every aspect and a range of slopes on 24 × 32 cells.
    rows, cols = np.mgrid[0:24, 0:32]
    z = (40 * np.exp(-((rows - 8) ** 2 + (cols - 10) ** 2) / 40.0)
         - 25 * np.exp(-((rows - 16) ** 2 + (cols - 24) ** 2) / 30.0)
         + rng.normal(0, 0.5, rows.shape)).astype(np.float32)  # fmt: skip
    dem, out = tmp_path / "dem.tif", tmp_path / "hs.tif"
    grid = from_origin(500_000, 4_000_000, 30, 30)
    profile = {"driver": "GTiff", "width": 32, "height": 24, "count": 1, "dtype": "float32",
               "crs": "EPSG:32637", "transform": grid}  # fmt: skip
    with rasterio.open(dem, "w", **profile) as f:
        f.write(z, 1)
    subprocess.run(
        ["gdaldem", "hillshade", str(dem), str(out), "-az", str(azimuth), "-alt", str(altitude),
         "-z", str(z_factor), "-q"],
        check=True,
    )  # fmt: skip
    with rasterio.open(out) as f:
        gdal = f.read(1).astype(float)
    ours = hillshade(z, 30.0, azimuth_deg=azimuth, altitude_deg=altitude, z_factor=z_factor)
    # gdaldem writes bytes: 1 + 254·cos (1 where the slope faces away); its edges are nodata.
    expected = np.where(ours <= 0, 1.0, np.round(1.0 + 254.0 * ours))
    assert np.array_equal(gdal[1:-1, 1:-1], expected[1:-1, 1:-1])

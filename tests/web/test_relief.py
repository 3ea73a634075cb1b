"""Relief tiles: Horn hillshade against GDAL and an analytic plane, PNG bytes against Pillow,
tile geometry against pyproj's Web Mercator."""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from pyproj import Transformer
from rasterio.transform import from_origin

from limes.web.hillshade import hillshade
from limes.web.mercator import pixel_lonlat, tile_bounds, tile_range
from limes.web.png import encode_png


@pytest.mark.gdal
def test_hillshade_matches_gdaldem_on_rough_ground(tmp_path: Path) -> None:
    if shutil.which("gdaldem") is None:
        pytest.skip("gdaldem (gdal-bin) not installed")
    rng = np.random.default_rng(1)
    z = np.cumsum(np.cumsum(rng.normal(0, 1, (60, 80)), 0), 1).astype(np.float32)
    dem, out = tmp_path / "dem.tif", tmp_path / "hs.tif"
    grid = from_origin(500_000, 4_000_000, 30, 30)
    profile = {"driver": "GTiff", "width": 80, "height": 60, "count": 1, "dtype": "float32",
               "crs": "EPSG:32637", "transform": grid}  # fmt: skip
    with rasterio.open(dem, "w", **profile) as f:
        f.write(z, 1)
    subprocess.run(
        ["gdaldem", "hillshade", str(dem), str(out), "-az", "300", "-alt", "35", "-z", "2", "-q"],
        check=True,
    )
    with rasterio.open(out) as f:
        gdal = f.read(1).astype(float)
    ours = hillshade(z, 30.0, azimuth_deg=300, altitude_deg=35, z_factor=2)
    # gdaldem writes bytes: 1 + 254·cos (1 where the slope faces away); edges are nodata.
    expected = np.where(ours <= 0, 1.0, np.round(1.0 + 254.0 * ours))
    assert np.array_equal(gdal[1:-1, 1:-1], expected[1:-1, 1:-1])


@given(
    slope_e=st.floats(-2, 2), slope_n=st.floats(-2, 2), az=st.floats(0, 360),
    alt=st.floats(5, 90),
)  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_hillshade_of_a_plane_is_the_cosine_between_normal_and_sun(
    slope_e: float, slope_n: float, az: float, alt: float
) -> None:
    cell = 25.0
    rows, cols = np.mgrid[0:7, 0:9]
    z = slope_e * cols * cell - slope_n * rows * cell  # rows run south
    normal = np.array([-slope_e, -slope_n, 1.0]) / math.sqrt(1 + slope_e**2 + slope_n**2)
    a, h = math.radians(az), math.radians(alt)
    sun = np.array([math.sin(a) * math.cos(h), math.cos(a) * math.cos(h), math.sin(h)])
    expected = max(0.0, float(normal @ sun))
    shade = hillshade(z, cell, az, alt)
    assert shade[1:-1, 1:-1] == pytest.approx(np.full((5, 7), expected), abs=1e-9)


@given(arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.just(4))))
@settings(max_examples=50, deadline=None)
def test_png_decodes_to_the_same_pixels_in_pillow(rgba: np.ndarray) -> None:
    img = Image.open(io.BytesIO(encode_png(rgba)))
    assert img.mode == "RGBA"
    assert np.array_equal(np.asarray(img), rgba)


def test_png_refuses_what_is_not_rgba() -> None:
    with pytest.raises(ValueError, match="RGBA"):
        encode_png(np.zeros((3, 3, 3), dtype=np.uint8))


@pytest.mark.parametrize(("z", "x", "y"), [(0, 0, 0), (6, 39, 25), (11, 1254, 810)])
def test_tile_pixels_and_bounds_agree_with_pyproj_web_mercator(z: int, x: int, y: int) -> None:
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    half = 20037508.342789244
    size = 2 * half / 2**z
    lon, lat = pixel_lonlat(z, x, y)
    mx, my = to_merc.transform(lon, lat)
    col_centres = -half + (x + (np.arange(256) + 0.5) / 256) * size
    row_centres = half - (y + (np.arange(256) + 0.5) / 256) * size
    assert np.allclose(mx[0], col_centres, atol=1e-3)
    assert np.allclose(my[:, 0], row_centres, atol=1e-3)
    w, s, e, n = tile_bounds(z, x, y)
    bx, by = to_merc.transform([w, e], [s, n])
    assert bx == pytest.approx([-half + x * size, -half + (x + 1) * size], abs=1e-3)
    assert by == pytest.approx([half - (y + 1) * size, half - y * size], abs=1e-3)
    cols, rows = tile_range(z, (w + 1e-9, s + 1e-9, e - 1e-9, n - 1e-9))
    assert (list(cols), list(rows)) == ([x], [y])

"""GDAL's viewshed (`gdal.ViewshedGenerate`) as an outside reference for our line of sight.

GDAL's Python bindings live in the system interpreter (Debian's python3-gdal), not in the
project's environment, so the reference runs as one child process of that interpreter: it opens
the GeoTIFF once, calls `ViewshedGenerate` for every observer in memory, times the calls alone
and sends the visibility windows back. Nothing here is used to plan or watch the border; it is
what the tests and the benchmark compare the kernel against.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from numpy.typing import NDArray

SYSTEM_PYTHON = "/usr/bin/python3"

# Runs under the system interpreter: stdlib, numpy and osgeo only.
_RUNNER = r"""
import json, sys, time
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
spec = json.load(sys.stdin)
ds = gdal.Open(spec["dem"])
band = ds.GetRasterBand(1)
gt = ds.GetGeoTransform()
inv = gdal.InvGeoTransform(gt)
arrays, seconds, cpu = {}, [], []
for i, (x, y, oz) in enumerate(spec["observers"]):
    for _ in range(spec["repeat"]):
        t0, c0 = time.perf_counter(), time.thread_time()
        out = gdal.ViewshedGenerate(band, "MEM", "", [], x, y, oz, spec["tz"], 255, 0, 1, -1,
                                    spec["cc"], gdal.GVM_Edge, spec["md"])
        cpu.append(time.thread_time() - c0)
        seconds.append(time.perf_counter() - t0)
    ogt = out.GetGeoTransform()
    col0, row0 = gdal.ApplyGeoTransform(inv, ogt[0], ogt[3])
    arrays[f"v{i}"] = out.ReadAsArray()
    arrays[f"o{i}"] = np.array([int(round(row0)), int(round(col0))])
    out = None
if spec["out"]:
    np.savez(spec["out"], **arrays)
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "gdal": gdal.__version__}))
"""


@dataclass(frozen=True)
class GdalViewshed:
    """One observer's GDAL result: 255 visible, 0 hidden, 1 out of range, placed in the DEM."""

    row0: int
    col0: int
    values: NDArray[np.uint8]

    def visible(self, shape: tuple[int, int]) -> NDArray[np.bool_]:
        """Visibility over a whole DEM of `shape` (cells outside GDAL's window are not seen)."""
        full = np.zeros(shape, dtype=bool)
        h, w = self.values.shape
        full[self.row0 : self.row0 + h, self.col0 : self.col0 + w] = self.values == 255
        return full

    def in_range(self, shape: tuple[int, int]) -> NDArray[np.bool_]:
        """GDAL's in-range cells over a whole DEM of `shape`."""
        full = np.zeros(shape, dtype=bool)
        h, w = self.values.shape
        full[self.row0 : self.row0 + h, self.col0 : self.col0 + w] = self.values != 1
        return full


@dataclass(frozen=True)
class GdalRun:
    """GDAL's results for many observers, with the seconds (wall and CPU) spent in each call."""

    results: list[GdalViewshed]
    seconds: list[float]
    cpu_seconds: list[float]
    version: str


def gdal_available() -> bool:
    """Whether the system interpreter can import GDAL's Python bindings."""
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "from osgeo import gdal"], capture_output=True, check=False
    )
    return probe.returncode == 0


def gdal_cli_available() -> bool:
    """Whether Debian's `gdal_viewshed` command (gdal-bin) is on the PATH."""
    return shutil.which("gdal_viewshed") is not None


def gdal_viewsheds_cli(
    dem_path: str | Path,
    observers_xyz: list[tuple[float, float, float]],
    target_height_m: float,
    max_range_m: float,
    curvature_coefficient: float,
) -> list[GdalViewshed]:
    """The same results through the `gdal_viewshed` command, one process per observer.

    For checks where only gdal-bin is installed; its timings mean nothing (process start-up).
    """
    results: list[GdalViewshed] = []
    with rasterio.open(dem_path) as src:
        inverse = ~src.transform
    with tempfile.TemporaryDirectory(prefix="limes-gdal-") as tmp:
        for i, (x, y, oz) in enumerate(observers_xyz):
            dst = str(Path(tmp) / f"v{i}.tif")
            args = ["-ox", repr(x), "-oy", repr(y), "-oz", repr(oz), "-tz", repr(target_height_m)]
            args += ["-md", repr(max_range_m), "-cc", repr(curvature_coefficient), "-ov", "1"]
            proc = subprocess.run(
                ["gdal_viewshed", *args, "-q", str(dem_path), dst],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"gdal_viewshed failed: {proc.stderr.strip()[-2000:]}")
            with rasterio.open(dst) as ds:
                values = ds.read(1).astype(np.uint8)
                col_f, row_f = inverse @ (ds.transform.c, ds.transform.f)
            results.append(GdalViewshed(round(row_f), round(col_f), values))
    return results


def gdal_viewsheds(
    dem_path: str | Path,
    observers_xyz: list[tuple[float, float, float]],
    target_height_m: float,
    max_range_m: float,
    curvature_coefficient: float,
    repeat: int = 1,
    keep_results: bool = True,
) -> GdalRun:
    """Run `gdal.ViewshedGenerate` for each (x, y, observer height) on the GeoTIFF at `dem_path`.

    GDAL reads the earth's radius from the raster's CRS (no CRS: no curvature at all), places
    the observer at the centre of the cell holding (x, y), and counts a cell in range when its
    centre lies within `max_range_m` of that centre.
    """
    if shutil.which(SYSTEM_PYTHON) is None:
        raise RuntimeError(f"GDAL reference needs {SYSTEM_PYTHON} with python3-gdal")
    with tempfile.TemporaryDirectory(prefix="limes-gdal-") as tmp:
        out = str(Path(tmp) / "viewsheds.npz") if keep_results else ""
        spec = {
            "dem": str(dem_path),
            "observers": [list(map(float, o)) for o in observers_xyz],
            "tz": float(target_height_m),
            "md": float(max_range_m),
            "cc": float(curvature_coefficient),
            "repeat": int(repeat),
            "out": out,
        }
        proc = subprocess.run(
            [SYSTEM_PYTHON, "-c", _RUNNER],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"GDAL viewshed failed: {proc.stderr.strip()[-2000:]}")
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        results: list[GdalViewshed] = []
        if keep_results:
            with np.load(out) as data:
                for i in range(len(observers_xyz)):
                    row0, col0 = (int(v) for v in data[f"o{i}"])
                    results.append(GdalViewshed(row0, col0, data[f"v{i}"].astype(np.uint8)))
    return GdalRun(
        results,
        [float(s) for s in summary["seconds"]],
        [float(s) for s in summary["cpu_seconds"]],
        str(summary["gdal"]),
    )

"""Shared material for the scenario tests: the documented example scenario and DEM writers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

ROOT = Path(__file__).resolve().parents[2]
FORMAT_DOC = ROOT / "docs" / "scenario-format.md"


def example_yaml() -> str:
    """The complete example scenario from docs/scenario-format.md, as written there."""
    text = FORMAT_DOC.read_text(encoding="utf-8")
    found = re.search(r"## A complete example.*?```yaml\n(.*?)```", text, re.S)
    assert found, "docs/scenario-format.md lost its complete example"
    return found.group(1)


def edit(text: str, old: str, new: str) -> str:
    """Replace one exact occurrence of `old`; fails loudly if the example changed."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the example"
    return text.replace(old, new)


def line_of(text: str, marker: str) -> int:
    """1-based line of the first line containing `marker`."""
    for i, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return i
    raise AssertionError(f"{marker!r} not in the text")


def write_dem(
    path: Path,
    crs: str,
    bounds: tuple[float, float, float, float],
    cell: float,
    surface: Callable[[np.ndarray, np.ndarray], np.ndarray],
    nodata: float | None = None,
    hole: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> None:
    """A GeoTIFF in `crs` over `bounds` whose cell values are `surface` at the cell centres."""
    left, bottom, right, top = bounds
    width = round((right - left) / cell)
    height = round((top - bottom) / cell)
    transform = Affine(cell, 0.0, left, 0.0, -cell, top)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    x = left + cols * cell
    y = top - rows * cell
    z = surface(x, y).astype(np.float32)
    if hole is not None:
        assert nodata is not None
        z[hole(x, y)] = nodata
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)

"""Raster grids in the scenario frame, with rasterio's conventions (affine transform, row/col)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Grid:
    """A raster of `height` rows × `width` columns placed in the frame by an affine transform.

    The transform maps (col, row) of a cell's upper-left corner to frame x/y, as in rasterio.
    It may be rotated (grids aligned with a stretch of border); cells are square.
    """

    transform: Affine
    width: int
    height: int

    @classmethod
    def north_up(cls, xmin: float, ymin: float, xmax: float, ymax: float, cell_m: float) -> Grid:
        """A north-up grid covering a bounding box with square cells of `cell_m` metres."""
        if cell_m <= 0:
            raise ValueError(f"cell size must be positive, got {cell_m}")
        width = max(1, math.ceil((xmax - xmin) / cell_m))
        height = max(1, math.ceil((ymax - ymin) / cell_m))
        return cls(Affine(cell_m, 0.0, xmin, 0.0, -cell_m, ymax), width, height)

    @classmethod
    def aligned(
        cls,
        x0: float,
        y0: float,
        ux: float,
        uy: float,
        length_m: float,
        depth_m: float,
        cell_m: float,
    ) -> Grid:
        """A grid whose columns run along the unit direction (ux, uy) from corner (x0, y0).

        Rows run to the left of that direction (90° counter-clockwise), `depth_m` in all.
        """
        width = max(1, math.ceil(length_m / cell_m))
        height = max(1, math.ceil(depth_m / cell_m))
        # Column step along u; row step along the left normal (-uy, ux).
        t = Affine(cell_m * ux, -cell_m * uy, x0, cell_m * uy, cell_m * ux, y0)
        return cls(t, width, height)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols), as numpy arrays over the grid are shaped."""
        return (self.height, self.width)

    @property
    def cell_m(self) -> float:
        """Edge length of a (square) cell in metres."""
        return float(math.hypot(self.transform.a, self.transform.d))

    def cell_centres(self) -> tuple[FloatArray, FloatArray]:
        """Frame x/y of every cell centre, each shaped like the grid."""
        cols, rows = np.meshgrid(np.arange(self.width) + 0.5, np.arange(self.height) + 0.5)
        return self.xy(rows, cols)

    def xy(self, rows: ArrayLike, cols: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Frame x/y of fractional (row, col) positions (0.5, 0.5 is the first cell's centre)."""
        t = self.transform
        r = np.asarray(rows, dtype=float)
        c = np.asarray(cols, dtype=float)
        return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f

    def rowcol(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Fractional (row, col) of frame points; floor them for the cell index."""
        inv = ~self.transform
        px = np.asarray(x, dtype=float)
        py = np.asarray(y, dtype=float)
        return inv.d * px + inv.e * py + inv.f, inv.a * px + inv.b * py + inv.c

    def contains(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
        """Whether frame points fall on the grid."""
        r, c = self.rowcol(x, y)
        return (r >= 0) & (r < self.height) & (c >= 0) & (c < self.width)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the grid's footprint in the frame."""
        xs, ys = self.xy(
            np.array([0, 0, self.height, self.height]), np.array([0, self.width, 0, self.width])
        )
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

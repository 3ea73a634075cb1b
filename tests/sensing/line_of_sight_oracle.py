"""Brute-force line of sight and seeded synthetic terrain: the references the kernel is held to.

The oracle is written independently of the kernel (numpy and scipy's bilinear
`map_coordinates`, no shared code): for every in-range cell it walks the straight sight line from
the eye to the target in equal steps of at most half a cell, samples the terrain bilinearly at
each point strictly between the two ends, drops every height by cc * d^2 / (2 R), and calls the
target hidden when any sample rises above the line.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import map_coordinates

EARTH_RADIUS_M = 6_371_000.0


def brute_force_viewshed(
    dem: NDArray[np.floating],
    row: float,
    col: float,
    eye_height: float,
    target_height: float,
    range_cells: float,
    cell_m: float,
    cc: float,
    steps_per_cell: float = 2.0,
    chunk: int = 4096,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(visible, in_range) over the whole DEM for an observer at cell-centre coords (row, col).

    Sight lines are cut into equal steps of at most 1 / `steps_per_cell` cells (half a cell by
    default); a finer step resolves crests that fall between the half-cell samples.
    """
    dem = np.asarray(dem, dtype=np.float64)
    nr, nc = dem.shape
    kc = cc * cell_m**2 / (2.0 * EARTH_RADIUS_M)
    rr, cc_ = np.mgrid[0:nr, 0:nc]
    d2 = (rr - row) ** 2 + (cc_ - col) ** 2
    in_range = d2 <= range_cells**2
    z_eye = _sample(dem, np.array([row]), np.array([col]))[0] + eye_height
    visible = np.zeros_like(in_range)
    cells = np.flatnonzero(in_range)
    for start in range(0, cells.size, chunk):
        idx = cells[start : start + chunk]
        tr = rr.ravel()[idx].astype(float)
        tc = cc_.ravel()[idx].astype(float)
        dist2 = d2.ravel()[idx]
        z_t = dem.ravel()[idx] + target_height - kc * dist2
        n = np.ceil(steps_per_cell * np.sqrt(dist2)).astype(int)
        clear = np.ones(idx.size, dtype=bool)
        # Group by step count so each group is one rectangular array of samples.
        for steps in np.unique(n):
            if steps < 2:
                continue
            g = n == steps
            f = np.arange(1, steps) / steps
            sr = row + (tr[g, None] - row) * f
            sc = col + (tc[g, None] - col) * f
            z = _sample(dem, sr.ravel(), sc.ravel()).reshape(sr.shape)
            z -= kc * dist2[g, None] * f**2
            line = z_eye + (z_t[g, None] - z_eye) * f
            clear[g] = ~(z > line).any(axis=1)
        visible.ravel()[idx] = clear
    return visible, in_range


def _sample(
    dem: NDArray[np.float64], rows: NDArray[np.float64], cols: NDArray[np.float64]
) -> NDArray[np.float64]:
    rows = np.clip(rows, 0.0, dem.shape[0] - 1.0)
    cols = np.clip(cols, 0.0, dem.shape[1] - 1.0)
    return np.asarray(map_coordinates(dem, [rows, cols], order=1, mode="nearest"), dtype=np.float64)


def fractal_terrain(n: int, seed: int, relief_m: float, beta: float = 2.2) -> NDArray[np.float64]:
    """A seeded n x n fractal surface (amplitude ~ f^-beta), `relief_m` from lowest to highest."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = 1.0
    amp = f**-beta
    amp[0, 0] = 0.0
    phase = rng.uniform(0, 2 * np.pi, amp.shape)
    z = np.fft.irfft2(amp * np.exp(1j * phase), s=(n, n))
    z -= z.min()
    return z * (relief_m / z.max())


def gaussian_hills(
    n: int, seed: int, count: int, height_m: float, width_cells: float
) -> NDArray[np.float64]:
    """A seeded n x n sum of `count` Gaussian hills of random height and width."""
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[0:n, 0:n].astype(float)
    z = np.zeros((n, n))
    for _ in range(count):
        r0, c0 = rng.uniform(0, n, 2)
        h = rng.uniform(0.2, 1.0) * height_m
        s = rng.uniform(0.3, 1.0) * width_cells
        z += h * np.exp(-((rr - r0) ** 2 + (cc - c0) ** 2) / (2 * s * s))
    return z

"""Compiled line-of-sight kernels: the viewshed ray sweep and the point-to-point sight line.

Everything here works in *cell-centre coordinates*: cell (r, c) has its centre at (r, c), the
observer sits at fractional (row, col), distances are in cells and heights in metres. The
public wrappers in `line_of_sight.py` convert from the frame, validate, and pick windows.

Both kernels test the same thing: the target, `target_height` above the ground at its cell,
is visible when no terrain sample strictly between the eye and the target rises above the
straight sight line, after every height has dropped by `kc * d**2` (earth curvature and
refraction, `d` the distance in cells from the observer, `kc = cc * cell**2 / (2 R)`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import NDArray


@nb.njit(cache=True, inline="always")
def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else (hi if v > hi else v)


@nb.njit(cache=True)
def bilinear(dem: NDArray[np.floating], row: float, col: float) -> float:
    """Terrain height at fractional cell-centre coordinates, the edge cells extended outward."""
    nr, nc = dem.shape
    r = _clamp(row, 0.0, nr - 1.0)
    c = _clamp(col, 0.0, nc - 1.0)
    r0 = min(int(r), max(nr - 2, 0))
    c0 = min(int(c), max(nc - 2, 0))
    fr = r - r0
    fc = c - c0
    r1 = min(r0 + 1, nr - 1)
    c1 = min(c0 + 1, nc - 1)
    top = dem[r0, c0] * (1.0 - fc) + dem[r0, c1] * fc
    bottom = dem[r1, c0] * (1.0 - fc) + dem[r1, c1] * fc
    return top * (1.0 - fr) + bottom * fr


@nb.njit(cache=True, inline="always")
def _ray_level(dm: float, rays_per_cell: float) -> int:
    # Rays of one level have slopes j / level; a level is the least power of two with at least
    # `rays_per_cell` rays per cell of lateral spacing at column distance dm. Powers of two nest,
    # so a cell's ray depends on its own distance only, never on the range asked for.
    need = dm * rays_per_cell
    level = 1
    while level < need:
        level *= 2
    return level


# Elevation angles start here: below any real terrain, finite so that blending two is safe.
_NOTHING_SEEN = -1.0e30
# Extra cells read around the window, so rays stay on real terrain wherever the DEM has it.
_MARGIN = 3


@nb.njit(cache=True, fastmath=True)
def _sweep_cone(
    b: NDArray[np.floating],
    m0: float,
    n0: float,
    sgn: int,
    strict: bool,
    z_eye: float,
    target_height: float,
    kc: float,
    range_cells: float,
    h_major: float,
    h_minor: float,
    cos_half_fov: float,
    rays_per_cell: float,
    out: NDArray[np.uint8],
    o_major0: int,
    o_minor0: int,
) -> None:
    """Fill the cells of one 90° cone (|minor offset| <= major offset) from a fan of rays.

    `b` is terrain indexed [major, minor], contiguous along minor: the DEM for the north/south
    cones, its transpose for east/west; `out` is indexed the same way, shifted by the offsets.
    The rays leave the observer at slopes j / L (minor per major cell), L a power of two; they
    are marched one major line at a time, all together, each keeping the highest elevation
    angle (as rise per major cell) of the terrain it has crossed. A cell on line `dm` reads the
    two rays of its own level that bracket its centre, blended by its position between them,
    before that line's samples are added: only terrain strictly between eye and cell can hide it.
    """
    n_major, n_minor = b.shape
    last = n_minor - 1
    rng2 = range_cells * range_cells
    top = _ray_level(range_cells, rays_per_cell)
    n_rays = 2 * top + 1
    horizon = np.full(n_rays, _NOTHING_SEEN)
    slope = np.empty(n_rays)
    drop = np.empty(n_rays)
    for j in range(n_rays):
        t = (j - top) / top
        slope[j] = t
        drop[j] = kc * (1.0 + t * t)
    use_fov = cos_half_fov > -1.0
    m = math.floor(m0) + 1 if sgn > 0 else math.ceil(m0) - 1
    while 0 <= m < n_major:
        dm = (m - m0) * sgn
        if dm > range_cells:
            break
        inv_dm = 1.0 / dm
        level = _ray_level(dm, rays_per_cell)
        step = top // level
        line = b[m]

        # Cells on this line, tested against what the rays have seen before it.
        lim = math.sqrt(max(rng2 - dm * dm, 0.0))
        if lim > dm:
            lim = dm
        r_lo = max(math.ceil(n0 - lim), 0)
        r_hi = min(math.floor(n0 + lim), last)
        for r in range(r_lo, r_hi + 1):
            dy = r - n0
            ady = abs(dy)
            if ady > dm or (strict and ady == dm):
                continue
            d2 = dm * dm + dy * dy
            if d2 > rng2:
                continue
            if use_fov and sgn * dm * h_major + dy * h_minor < cos_half_fov * math.sqrt(d2):
                continue
            u = dy * level * inv_dm
            j = math.floor(u)
            if j >= level:
                j = level - 1
            elif j < -level:
                j = -level
            w = u - j
            k = top + j * step
            seen = horizon[k] * (1.0 - w) + horizon[k + step] * w
            if (line[r] + target_height - kc * d2 - z_eye) * inv_dm >= seen:
                out[m - o_major0, r - o_minor0] = 1

        # Then the rays that can still reach an in-range cell take this line's samples,
        # linear between the two nearest cells (bilinear, exactly, on a cell-centre line).
        reach = (range_cells + 2.0) / dm
        t_max = 1.0 if reach * reach >= 2.0 else math.sqrt(max(reach * reach - 1.0, 0.0))
        span = math.ceil(t_max * top)
        # Rays inside the minor extent need no clamping; the few outside read the edge cell.
        j_lo = max(top - span, math.ceil(top - n0 * top * inv_dm))
        j_hi = min(top + span, math.floor(top + (last - n0 - 1e-9) * top * inv_dm))
        for j in range(top - span, min(j_lo, top + span + 1)):
            v = (line[0] - z_eye) * inv_dm - drop[j] * dm
            horizon[j] = max(horizon[j], v)
        for j in range(max(j_hi + 1, top - span), top + span + 1):
            v = (line[last] - z_eye) * inv_dm - drop[j] * dm
            horizon[j] = max(horizon[j], v)
        for j in range(j_lo, j_hi + 1):
            y = n0 + slope[j] * dm
            iy = int(y)
            z = line[iy] + (line[iy + 1] - line[iy]) * (y - iy)
            v = (z - z_eye) * inv_dm - drop[j] * dm
            horizon[j] = max(horizon[j], v)
        m += sgn


@nb.njit(cache=True)
def _transposed(a: NDArray[np.floating]) -> NDArray[np.floating]:
    """A C-contiguous transpose, copied in tiles so both sides stay in cache."""
    n, m = a.shape
    t = np.empty((m, n), dtype=a.dtype)
    tile = 32
    for i0 in range(0, n, tile):
        i1 = min(i0 + tile, n)
        for k0 in range(0, m, tile):
            k1 = min(k0 + tile, m)
            for i in range(i0, i1):
                for k in range(k0, k1):
                    t[k, i] = a[i, k]
    return t


@nb.njit(cache=True)
def _or_transposed(out: NDArray[np.uint8], out_t: NDArray[np.uint8]) -> None:
    """out |= out_t.T, in tiles."""
    n, m = out.shape
    tile = 64
    for i0 in range(0, n, tile):
        i1 = min(i0 + tile, n)
        for k0 in range(0, m, tile):
            k1 = min(k0 + tile, m)
            for i in range(i0, i1):
                for k in range(k0, k1):
                    out[i, k] |= out_t[k, i]


@nb.njit(cache=True)
def viewshed_window(
    dem: NDArray[np.floating],
    row: float,
    col: float,
    eye_height: float,
    target_height: float,
    kc: float,
    range_cells: float,
    h_col: float,
    h_row: float,
    cos_half_fov: float,
    rays_per_cell: float,
    row0: int,
    col0: int,
    out: NDArray[np.uint8],
) -> None:
    """Mark in `out` (a window whose [0, 0] is DEM cell (row0, col0)) each visible target cell.

    `out` must be zeroed; cells out of range, outside the field of view or hidden stay 0.
    (h_col, h_row) is the unit heading in cell coordinates; `cos_half_fov` <= -1 means all round.
    """
    nr, nc = dem.shape
    z_eye = bilinear(dem, row, col) + eye_height
    # The terrain the rays can reach: the window and a margin, clipped to the DEM.
    ra = max(row0 - _MARGIN, 0)
    rb = min(row0 + out.shape[0] + _MARGIN, nr)
    ca = max(col0 - _MARGIN, 0)
    cb = min(col0 + out.shape[1] + _MARGIN, nc)
    sub = dem[ra:rb, ca:cb]
    r = row - ra
    c = col - ca
    # North and south: lines are rows, already contiguous. They own the steeper-than-diagonal
    # cells; east and west own the diagonals.
    _sweep_cone(
        sub,
        r,
        c,
        1,
        True,
        z_eye,
        target_height,
        kc,
        range_cells,
        h_row,
        h_col,
        cos_half_fov,
        rays_per_cell,
        out,
        row0 - ra,
        col0 - ca,
    )
    _sweep_cone(
        sub,
        r,
        c,
        -1,
        True,
        z_eye,
        target_height,
        kc,
        range_cells,
        h_row,
        h_col,
        cos_half_fov,
        rays_per_cell,
        out,
        row0 - ra,
        col0 - ca,
    )
    # East and west: march a transposed copy so their lines are contiguous too.
    sub_t = np.ascontiguousarray(sub.T)
    out_t = np.zeros((out.shape[1], out.shape[0]), dtype=np.uint8)
    _sweep_cone(
        sub_t,
        c,
        r,
        1,
        False,
        z_eye,
        target_height,
        kc,
        range_cells,
        h_col,
        h_row,
        cos_half_fov,
        rays_per_cell,
        out_t,
        col0 - ca,
        row0 - ra,
    )
    _sweep_cone(
        sub_t,
        c,
        r,
        -1,
        False,
        z_eye,
        target_height,
        kc,
        range_cells,
        h_col,
        h_row,
        cos_half_fov,
        rays_per_cell,
        out_t,
        col0 - ca,
        row0 - ra,
    )
    for i in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[i, k] |= out_t[k, i]
    # The observer's own cell, when the observer stands on its centre.
    ri = math.floor(row)
    ci = math.floor(col)
    if ri == row and ci == col and 0 <= ri - row0 < out.shape[0] and 0 <= ci - col0 < out.shape[1]:
        out[ri - row0, ci - col0] = 1


@nb.njit(cache=True)
def sight_line_clear(
    dem: NDArray[np.floating],
    row: float,
    col: float,
    z_eye: float,
    t_row: float,
    t_col: float,
    target_height: float,
    kc: float,
) -> bool:
    """Whether the target at (t_row, t_col) is seen from the eye at (row, col, z_eye).

    The terrain is sampled bilinearly at equal steps of at most half a cell strictly between
    the two ends; the target stands `target_height` above the bilinear ground at its point.
    """
    dr = t_row - row
    dc = t_col - col
    d2 = dr * dr + dc * dc
    d = math.sqrt(d2)
    z_t = bilinear(dem, t_row, t_col) + target_height - kc * d2
    n = math.ceil(2.0 * d)
    for i in range(1, n):
        f = i / n
        z = bilinear(dem, row + f * dr, col + f * dc) - kc * d2 * f * f
        if z > z_eye + (z_t - z_eye) * f:
            return False
    return True

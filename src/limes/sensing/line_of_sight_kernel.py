"""Compiled line-of-sight kernels: the viewshed ray sweep and the point-to-point sight line.

Everything here works in *cell-centre coordinates*: cell (r, c) has its centre at (r, c), the
observer sits at fractional (row, col), distances are in cells and heights in metres. The
public wrappers in `line_of_sight.py` convert from the frame, validate, and pick windows.

Both kernels test the same thing: the target, `target_height` above the ground at its cell,
is visible when no terrain sample strictly between the eye and the target rises above the
straight sight line, after every height has dropped by `kc * d**2` (earth curvature and
refraction, `d` the distance in cells from the observer, `kc = cc * cell**2 / (2 R)`).

Every compiled function lives in this one file: numba's on-disk cache is keyed on the file
that holds a function, so a caller cached elsewhere would keep running an old kernel.
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


@nb.njit(cache=True)
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

    `b` is terrain indexed [major, minor]: the DEM for the north/south cones, its transposed
    view for east/west; `out` is indexed the same way, shifted by the offsets.

    Rays leave the observer at slopes i / L (minor per major cell), i = -L..L, and are marched
    one major line at a time, all together, each keeping the highest elevation angle (as rise
    per major cell) of the terrain it has crossed. L doubles with distance so that rays stay
    about 1 / rays_per_cell cells apart: a ray born at a doubling starts from the mean of the
    two rays beside it. A cell on line `dm` blends the two rays that bracket its centre by its
    position between them, before that line's samples are added, so only terrain strictly
    between eye and cell can hide it. L depends on the distance only, never on the range, so a
    longer range only adds cells.
    """
    n_major, n_minor = b.shape
    last = n_minor - 1
    rng2 = range_cells * range_cells
    top = _ray_level(range_cells + 4.0, rays_per_cell)
    horizon = np.full(2 * top + 1, _NOTHING_SEEN)
    # 1 + t^2 for every ray slope t: squared distance per squared major distance.
    spread = np.empty(2 * top + 1)
    for j in range(2 * top + 1):
        spread[j] = 1.0 + ((j - top) / top) ** 2
    use_fov = cos_half_fov > -1.0
    level = 1
    m = math.floor(m0) + 1 if sgn > 0 else math.ceil(m0) - 1
    while 0 <= m < n_major:
        dm = (m - m0) * sgn
        if dm > range_cells:
            break
        inv_dm = 1.0 / dm
        # New rays halfway between the old ones, starting from what their neighbours saw.
        want = _ray_level(dm, rays_per_cell)
        while level < want:
            level *= 2
            s = top // level
            for j in range(top - level * s + s, top + level * s, 2 * s):
                horizon[j] = 0.5 * (horizon[j - s] + horizon[j + s])
        step = top // level
        line = b[m]

        # Cells on this line, tested against what the rays have seen before it.
        lim = min(math.sqrt(max(rng2 - dm * dm, 0.0)), dm)
        r_lo = max(math.ceil(n0 - lim), 0)
        r_hi = min(math.floor(n0 + lim), last)
        while r_lo <= r_hi and not _owned(r_lo - n0, dm, rng2, strict):
            r_lo += 1
        while r_hi >= r_lo and not _owned(r_hi - n0, dm, rng2, strict):
            r_hi -= 1
        scale = level * inv_dm
        # The last half cell before each cell, which no ray sample covers: the cell's own sight
        # line is also sampled on the half line just before this one, midway between two lines
        # of cells, where the terrain is the mean of the two lines. There the sight line passes
        # e = dy / (2 dm) cells from the cell's centre, towards the observer's axis.
        half = dm > 0.5
        prev = b[m - sgn] if half else line
        f_half = (dm - 0.5) * inv_dm
        for r in range(r_lo, r_hi + 1):
            dy = r - n0
            d2 = dm * dm + dy * dy
            if use_fov and sgn * dm * h_major + dy * h_minor < cos_half_fov * math.sqrt(d2):
                continue
            u = dy * scale
            i = min(math.floor(u), level - 1)
            w = u - i
            k = top + i * step
            seen = horizon[k] + (horizon[k + step] - horizon[k]) * w
            z_target = line[r] + target_height - kc * d2
            if (z_target - z_eye) * inv_dm < seen:
                continue
            if half:
                e = 0.5 * dy * inv_dm
                here = line[r] + prev[r]
                if e >= 0.0:
                    side = line[r - 1] + prev[r - 1] if r > 0 else here
                    z = 0.5 * (here + (side - here) * e)
                else:
                    side = line[r + 1] + prev[r + 1] if r < last else here
                    z = 0.5 * (here - (side - here) * e)
                sight = z_eye + (z_target - z_eye) * f_half
                if z - kc * d2 * f_half * f_half > sight:
                    continue
            out[m - o_major0, r - o_minor0] = 1

        # Then the rays that can still reach an in-range cell take this line's samples,
        # linear between the two nearest cells (bilinear, exactly, on a cell-centre line).
        reach = (range_cells + 4.0) * inv_dm
        t_max = 1.0 if reach * reach >= 2.0 else math.sqrt(max(reach * reach - 1.0, 0.0))
        span = min(math.ceil(t_max * level), level)
        # Rays inside the minor extent need no clamping; the few outside read the edge cell.
        i_lo = max(-span, math.ceil(-n0 * scale))
        i_hi = min(span, math.floor((last - n0 - 1e-9) * scale))
        dm_drop = kc * dm
        for i in range(-span, min(i_lo, span + 1)):
            t = i / level
            v = (line[0] - z_eye) * inv_dm - dm_drop * (1.0 + t * t)
            j = top + i * step
            horizon[j] = max(horizon[j], v)
        for i in range(max(i_hi + 1, -span), span + 1):
            t = i / level
            v = (line[last] - z_eye) * inv_dm - dm_drop * (1.0 + t * t)
            j = top + i * step
            horizon[j] = max(horizon[j], v)
        # y advances by dy_ray per ray; v is rise per major cell less the curvature drop.
        dy_ray = dm / level
        y = n0 + i_lo * dy_ray
        z_rel = -z_eye * inv_dm
        for i in range(i_lo, i_hi + 1):
            iy = int(y)
            z = line[iy] + (line[iy + 1] - line[iy]) * (y - iy)
            j = top + i * step
            v = z * inv_dm + z_rel - dm_drop * spread[j]
            horizon[j] = max(horizon[j], v)
            y += dy_ray
        m += sgn


@nb.njit(cache=True, inline="always")
def _owned(dy: float, dm: float, rng2: float, strict: bool) -> bool:
    # The cone's own cells: within range, and within the diagonal (east/west keep it).
    ady = abs(dy)
    return dm * dm + dy * dy <= rng2 and (ady < dm or (ady == dm and not strict))


@nb.njit(cache=True)
def _cone(
    q: int,
    dem: NDArray[np.floating],
    row: float,
    col: float,
    z_eye: float,
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
    """Cone q of a viewshed: 0 south, 1 north (rows are lines), 2 east, 3 west (columns)."""
    nr, nc = dem.shape
    # The terrain the rays can reach: the window and a margin, clipped to the DEM.
    ra = max(row0 - _MARGIN, 0)
    rb = min(row0 + out.shape[0] + _MARGIN, nr)
    ca = max(col0 - _MARGIN, 0)
    cb = min(col0 + out.shape[1] + _MARGIN, nc)
    sub = dem[ra:rb, ca:cb]
    r = row - ra
    c = col - ca
    sgn = 1 if q % 2 == 0 else -1
    if q < 2:
        # North and south own the cells steeper than the diagonals.
        _sweep_cone(
            sub,
            r,
            c,
            sgn,
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
    else:
        # East and west sweep transposed views (strided reads cost less than a transposed
        # copy: a column's cache lines serve the next column) and own the diagonals.
        _sweep_cone(
            sub.T,
            c,
            r,
            sgn,
            False,
            z_eye,
            target_height,
            kc,
            range_cells,
            h_col,
            h_row,
            cos_half_fov,
            rays_per_cell,
            out.T,
            col0 - ca,
            row0 - ra,
        )


@nb.njit(cache=True)
def _mark_observer_cell(
    row: float, col: float, row0: int, col0: int, out: NDArray[np.uint8]
) -> None:
    # The observer's own cell, when the observer stands on its centre, sees itself.
    ri = math.floor(row)
    ci = math.floor(col)
    if ri == row and ci == col and 0 <= ri - row0 < out.shape[0] and 0 <= ci - col0 < out.shape[1]:
        out[ri - row0, ci - col0] = 1


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
    One thread: `viewsheds_parallel` spreads observers, not cones, over the cores (cones of
    one window would share its cache lines).
    """
    z_eye = bilinear(dem, row, col) + eye_height
    for q in range(4):
        _cone(
            q,
            dem,
            row,
            col,
            z_eye,
            target_height,
            kc,
            range_cells,
            h_col,
            h_row,
            cos_half_fov,
            rays_per_cell,
            row0,
            col0,
            out,
        )
    _mark_observer_cell(row, col, row0, col0, out)


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


@nb.njit(cache=True, parallel=True)
def viewsheds_parallel(
    dem: NDArray[np.floating],
    params: NDArray[np.float64],
    frames: NDArray[np.int64],
    offsets: NDArray[np.int64],
    target_height: float,
    kc: float,
    rays_per_cell: float,
    flat: NDArray[np.uint8],
) -> None:
    """`viewshed_window` for many observers, one per thread at a time, into one flat buffer.

    Row i of `params` is (row, col, eye height, range, h_col, h_row, cos half fov); row i of
    `frames` is (row0, col0, height, width) of its window, stored at flat[offsets[i]:].
    """
    for i in nb.prange(params.shape[0]):
        h = frames[i, 2]
        w = frames[i, 3]
        if h * w == 0:
            continue
        out = flat[offsets[i] : offsets[i + 1]].reshape((h, w))
        p = params[i]
        viewshed_window(
            dem,
            p[0],
            p[1],
            p[2],
            target_height,
            kc,
            p[3],
            p[4],
            p[5],
            p[6],
            rays_per_cell,
            frames[i, 0],
            frames[i, 1],
            out,
        )


@nb.njit(cache=True, parallel=True)
def visible_points_parallel(
    dem: NDArray[np.floating],
    row: float,
    col: float,
    eye_height: float,
    t_row: NDArray[np.float64],
    t_col: NDArray[np.float64],
    heights: NDArray[np.float64],
    kc: float,
    range_cells: float,
    h_row: float,
    h_col: float,
    cos_half_fov: float,
    out: NDArray[np.bool_],
) -> None:
    """`sight_line_clear` for many targets given in cell-centre coordinates.

    Targets off the DEM, beyond range or outside the field of view are not seen.
    """
    nr, nc = dem.shape
    z_eye = bilinear(dem, row, col) + eye_height
    for i in nb.prange(t_row.shape[0]):
        tr = t_row[i]
        tc = t_col[i]
        if not (-0.5 <= tr <= nr - 0.5 and -0.5 <= tc <= nc - 0.5):
            continue
        dr = tr - row
        dc = tc - col
        d = math.sqrt(dr * dr + dc * dc)
        if d > range_cells:
            continue
        if cos_half_fov > -1.0 and dr * h_row + dc * h_col < cos_half_fov * d:
            continue
        out[i] = sight_line_clear(dem, row, col, z_eye, tr, tc, heights[i], kc)

"""Terrain as an elevation raster in the frame: bilinear sampling, DEM files, synthetic ground.

A `Dem` is a grid (rasterio conventions, possibly rotated) with one float32 elevation per cell;
a value belongs to the cell centre and the surface between centres is bilinear. NaN is "no
data". `load_dem` reads a GeoTIFF in any CRS and reprojects it onto a north-up grid of the
frame; `synthetic_dem` builds deterministic ground for offline use: a tilted plane, seeded
smooth roughness and named landforms (ridges, hills, valleys, wadis, rivers, plains).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from limes.errors import GeoError
from limes.geo.grid import Grid

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]

# Rows resampled per block: bounds the temporary arrays to a few tens of MB.
_BLOCK_CELLS = 2_000_000


class DemError(GeoError):
    """A DEM file that cannot be read or used; the scenario layer adds the field path."""


@dataclass(frozen=True)
class Dem:
    """An elevation raster in the frame: `elevation[row, col]` in metres at each cell centre."""

    grid: Grid
    elevation: Float32Array
    crs: CRS | None = None

    def __post_init__(self) -> None:
        elev = np.asarray(self.elevation, dtype=np.float32)
        if elev.shape != self.grid.shape:
            raise ValueError(f"elevation shape {elev.shape} does not match grid {self.grid.shape}")
        object.__setattr__(self, "elevation", elev)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the DEM's footprint in the frame."""
        return self.grid.bounds()

    def sample(self, x: ArrayLike, y: ArrayLike) -> FloatArray:
        """Bilinear elevation at frame points; NaN off the grid or next to a no-data cell.

        Points within the grid's footprint but beyond the outermost cell centres take the edge
        value along that axis (the half cell at the border has nothing further to lean on).
        """
        px, py = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        rows, cols = self.grid.rowcol(px, py)
        h, w = self.grid.shape
        inside = (rows >= 0) & (rows <= h) & (cols >= 0) & (cols <= w)
        # Centre-based coordinates: cell (i, j) has its value at (i + 0.5, j + 0.5).
        r = np.clip(rows - 0.5, 0.0, h - 1.0)
        c = np.clip(cols - 0.5, 0.0, w - 1.0)
        r0 = np.minimum(np.floor(r).astype(np.intp), max(h - 2, 0))
        c0 = np.minimum(np.floor(c).astype(np.intp), max(w - 2, 0))
        r1 = np.minimum(r0 + 1, h - 1)
        c1 = np.minimum(c0 + 1, w - 1)
        fr = r - r0
        fc = c - c0
        z = self.elevation
        top = z[r0, c0] * (1.0 - fc) + z[r0, c1] * fc
        bottom = z[r1, c0] * (1.0 - fc) + z[r1, c1] * fc
        out = np.asarray(top * (1.0 - fr) + bottom * fr, dtype=float)
        return np.where(inside, out, np.nan)

    def resample(self, grid: Grid) -> Dem:
        """This terrain on another grid (any orientation), bilinear at the new cell centres."""
        out = np.empty(grid.shape, dtype=np.float32)
        step = max(1, _BLOCK_CELLS // max(grid.width, 1))
        cols = np.arange(grid.width) + 0.5
        for start in range(0, grid.height, step):
            rows = np.arange(start, min(start + step, grid.height)) + 0.5
            x, y = grid.xy(rows[:, None], cols[None, :])
            out[start : start + len(rows)] = self.sample(x, y)
        return Dem(grid, out, self.crs)


# --- DEM files ------------------------------------------------------------------------------


def load_dem(
    path: str | Path,
    frame_crs: CRS,
    bounds: tuple[float, float, float, float],
    cell_m: float,
) -> Dem:
    """Read a GeoTIFF DEM (any CRS) onto a north-up frame grid covering `bounds` (bilinear).

    The source's no-data value, and anything the source does not cover, become NaN.
    Raises DemError when the file cannot be read or has no CRS.
    """
    import rasterio
    from rasterio.crs import CRS as RioCRS
    from rasterio.errors import RasterioError
    from rasterio.warp import Resampling, reproject

    grid = Grid.north_up(*bounds, cell_m)
    dst = np.full(grid.shape, np.nan, dtype=np.float32)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise DemError(f"{path} has no coordinate reference system")
            reproject(
                source=rasterio.band(src, 1),
                destination=dst,
                src_nodata=src.nodata,
                dst_transform=grid.transform,
                dst_crs=RioCRS.from_wkt(frame_crs.to_wkt()),
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
    except RasterioError as exc:
        raise DemError(f"cannot read {path} as a raster: {exc}") from None
    return Dem(grid, dst, frame_crs)


def dem_footprint(path: str | Path) -> tuple[CRS, tuple[float, float, float, float]]:
    """The CRS and (left, bottom, right, top) bounds of a DEM file, read from its header only."""
    import rasterio
    from rasterio.errors import RasterioError

    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise DemError(f"{path} has no coordinate reference system")
            b = src.bounds
            return CRS.from_wkt(src.crs.to_wkt()), (b.left, b.bottom, b.right, b.top)
    except RasterioError as exc:
        raise DemError(f"cannot read {path} as a raster: {exc}") from None


# --- synthetic terrain ----------------------------------------------------------------------

RAISES = frozenset({"ridge", "hill"})
CUTS = frozenset({"valley", "wadi", "river"})
FLATTENS = frozenset({"plain"})


@dataclass(frozen=True)
class Landform:
    """A named feature of synthetic ground, in frame metres.

    `path` (n × 2) makes a linear feature, a single vertex a round one. Ridges and hills raise
    the ground by `height_m` on their axis, valleys, wadis and rivers cut `height_m` into it,
    plains replace it by a level surface `height_m` above the base plane. The cross-section is a
    raised cosine over `width_m` (full width): smooth, and exactly zero beyond half the width.
    """

    name: str
    kind: str
    path: FloatArray
    width_m: float
    height_m: float

    def __post_init__(self) -> None:
        if self.kind not in RAISES | CUTS | FLATTENS:
            raise ValueError(f"unknown landform kind {self.kind!r}")
        p = np.atleast_2d(np.asarray(self.path, dtype=float))
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError("a landform path is an (n, 2) array of frame x/y")
        if self.width_m <= 0:
            raise ValueError(f"landform width must be positive, got {self.width_m}")
        object.__setattr__(self, "path", p)


@dataclass(frozen=True)
class SyntheticGround:
    """The parameters of a synthetic terrain (see `synthetic_dem`)."""

    seed: int = 0
    base_elevation_m: float = 200.0
    slope_m_per_km: tuple[float, float] = (0.0, 0.0)
    roughness_m: float = 10.0
    roughness_scale_m: float = 2000.0
    octaves: int = 4
    landforms: Sequence[Landform] = ()


def synthetic_dem(grid: Grid, ground: SyntheticGround, crs: CRS | None = None) -> Dem:
    """Deterministic synthetic terrain on any grid: the same seed gives the same ground.

    Elevation at frame point (x, y) is the base plane `base + sx·x/1000 + sy·y/1000`, plus
    value noise of `octaves` octaves (the coarsest with cells of `roughness_scale_m` and
    amplitude `roughness_m`, each next one half the size and half the amplitude), then plains,
    then ridges/hills and cuts. The noise is a function of frame position only (hashed lattice,
    per-octave offsets drawn from numpy's PCG64 Generator), so two grids over the same ground
    agree where they overlap, on any platform.
    """
    out = np.empty(grid.shape, dtype=np.float32)
    step = max(1, _BLOCK_CELLS // max(grid.width, 1))
    cols = np.arange(grid.width) + 0.5
    t = grid.transform
    for start in range(0, grid.height, step):
        rows = np.arange(start, min(start + step, grid.height)) + 0.5
        if t.b == 0 and t.d == 0:
            # North-up: x varies along columns only, y along rows only; keeping them as a row
            # and a column lets the noise be interpolated separably (several times faster).
            x = (t.a * cols + t.c)[None, :]
            y = (t.e * rows + t.f)[:, None]
        else:
            x, y = grid.xy(rows[:, None], cols[None, :])
        out[start : start + len(rows)] = ground_elevation(x, y, ground)
    return Dem(grid, out, crs)


def ground_elevation(x: ArrayLike, y: ArrayLike, ground: SyntheticGround) -> FloatArray:
    """Elevation of the synthetic ground at frame points (the function `synthetic_dem` rasters)."""
    # x and y stay as given (they may be a row and a column that broadcast to the grid).
    px, py = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    sx, sy = ground.slope_m_per_km
    plane = ground.base_elevation_m + sx * px / 1000.0 + sy * py / 1000.0
    z = plane + roughness(px, py, ground)
    for lf in ground.landforms:
        if lf.kind in FLATTENS:
            w = _profile(lf, px, py)
            z = z * (1.0 - w) + (plane + lf.height_m) * w
    for lf in ground.landforms:
        if lf.kind in RAISES:
            z = z + lf.height_m * _profile(lf, px, py)
        elif lf.kind in CUTS:
            z = z - abs(lf.height_m) * _profile(lf, px, py)
    return np.asarray(z, dtype=float)


def roughness(x: FloatArray, y: FloatArray, ground: SyntheticGround) -> FloatArray:
    """Seeded multi-octave value noise (C2-smooth), zero-mean, amplitude `roughness_m`.

    `x` and `y` broadcast against each other; the result has their broadcast shape.
    """
    out = np.zeros(np.broadcast_shapes(x.shape, y.shape))
    if ground.roughness_m == 0 or ground.octaves < 1:
        return out
    rng = np.random.default_rng(ground.seed)
    offsets = rng.uniform(0.0, 1.0, size=(ground.octaves, 2))
    keys = rng.integers(1, 2**62, size=ground.octaves, dtype=np.int64).astype(np.uint64)
    scale, amp = ground.roughness_scale_m, ground.roughness_m
    for k in range(ground.octaves):
        out = out + amp * _value_noise(
            x / scale + offsets[k, 0], y / scale + offsets[k, 1], keys[k]
        )
        scale, amp = scale / 2.0, amp / 2.0
    return out


def _value_noise(u: FloatArray, v: FloatArray, key: np.uint64) -> FloatArray:
    """Lattice values in [-1, 1) at integer (u, v), blended with quintic smoothstep weights.

    `u` and `v` broadcast against each other; a row of `u` and a column of `v` (a north-up
    grid) are interpolated separably: first along u for every lattice row, then along v.
    """
    iu = np.floor(u)
    iv = np.floor(v)
    fu = _smoothstep(u - iu)
    fv = _smoothstep(v - iv)
    iu0 = iu.astype(np.int64)
    iv0 = iv.astype(np.int64)
    # Hash only the lattice nodes in use: the bounding box of nodes.
    u_lo, u_hi = int(iu0.min()), int(iu0.max()) + 1
    v_lo, v_hi = int(iv0.min()), int(iv0.max()) + 1
    nu = np.arange(u_lo, u_hi + 1, dtype=np.int64)
    nv = np.arange(v_lo, v_hi + 1, dtype=np.int64)
    table = _lattice(nu[None, :], nv[:, None], key)
    a = iu0 - u_lo
    b = iv0 - v_lo
    if u.ndim == 2 and v.ndim == 2 and u.shape[0] == 1 and v.shape[1] == 1:
        along = table[:, a[0]] + (table[:, a[0] + 1] - table[:, a[0]]) * fu[0]
        lo = along[b[:, 0]]
        return np.asarray(lo + (along[b[:, 0] + 1] - lo) * fv, dtype=float)
    v00 = table[b, a]
    v10 = table[b, a + 1]
    v01 = table[b + 1, a]
    v11 = table[b + 1, a + 1]
    top = v00 + (v10 - v00) * fu
    bottom = v01 + (v11 - v01) * fu
    return np.asarray(top + (bottom - top) * fv, dtype=float)


def _lattice(iu: NDArray[np.int64], iv: NDArray[np.int64], key: np.uint64) -> FloatArray:
    """splitmix64 of (iu, iv, key) mapped to [-1, 1): integer arithmetic, same on every CPU."""
    with np.errstate(over="ignore"):
        h = (iu.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ (
            iv.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        )
        h ^= key
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) * (2.0 / 2.0**53) - 1.0


def _smoothstep(t: FloatArray) -> FloatArray:
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def _profile(lf: Landform, x: FloatArray, y: FloatArray) -> FloatArray:
    """Raised-cosine weight (1 on the axis, 0 from half the width out) at frame points."""
    half = lf.width_m / 2.0
    d = _distance_to_path(lf.path, x, y, half)
    w = np.zeros_like(d)
    near = d < half
    w[near] = 0.5 * (1.0 + np.cos(math.pi * d[near] / half))
    return w


def _distance_to_path(path: FloatArray, x: FloatArray, y: FloatArray, reach: float) -> FloatArray:
    """Distance from points to a polyline (or a point); points beyond `reach` of its box skip."""
    shape = np.broadcast_shapes(x.shape, y.shape)
    d = np.full(shape, np.inf)
    lo = path.min(axis=0) - reach
    hi = path.max(axis=0) + reach
    near = np.broadcast_to((x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1]), shape)
    if not near.any():
        return d
    px, py = np.broadcast_to(x, shape)[near], np.broadcast_to(y, shape)[near]
    if len(path) == 1:
        d[near] = np.hypot(px - path[0, 0], py - path[0, 1])
        return d
    best = np.full(px.shape, np.inf)
    for (ax, ay), (bx, by) in itertools.pairwise(path):
        dx, dy = bx - ax, by - ay
        seg2 = dx * dx + dy * dy
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / seg2, 0.0, 1.0) if seg2 > 0 else 0.0
        best = np.minimum(best, np.hypot(px - (ax + t * dx), py - (ay + t * dy)))
    d[near] = best
    return d

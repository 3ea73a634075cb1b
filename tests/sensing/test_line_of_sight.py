"""Line of sight against a brute force, closed-form geometry and its own invariants."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from line_of_sight_oracle import (
    EARTH_RADIUS_M,
    brute_force_viewshed,
    fractal_terrain,
    gaussian_hills,
)
from numpy.typing import NDArray

from limes.sensing.line_of_sight import (
    LineOfSightError,
    Observer,
    Sightline,
    VisibleWindow,
    viewshed,
    viewsheds,
    visible_points,
)

CELL = 30.0
NORTH_UP = Affine(CELL, 0.0, 500_000.0, 0.0, -CELL, 4_000_000.0)
CC = 0.85714


def frame_xy(row: Any, col: Any, transform: Affine = NORTH_UP) -> tuple[Any, Any]:
    """Frame x, y of points in cell-centre coordinates (cell (r, c) centred at (r, c))."""
    x, y = transform @ (col + 0.5, row + 0.5)
    return x, y


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


ROUGH = {
    # Seeded fractal surfaces (amplitude ~ f^-beta) and a field of Gaussian hills, 7.2 km
    # square at 30 m with 300 m of relief; the viewer sees 25-75 % of its disc on them.
    "fractal-2.2": fractal_terrain(241, seed=1, relief_m=300.0, beta=2.2),
    "fractal-2.0": fractal_terrain(241, seed=4, relief_m=300.0, beta=2.0),
    "hills": gaussian_hills(241, seed=3, count=40, height_m=150.0, width_cells=12.0),
}


@pytest.mark.parametrize("terrain", sorted(ROUGH))
@pytest.mark.parametrize(("row", "col"), [(120.0, 120.0), (90.0, 140.0), (100.3, 131.7)])
def test_viewshed_matches_brute_force_on_rough_terrain(
    terrain: str, row: float, col: float
) -> None:
    dem = ROUGH[terrain]
    observer = Observer(*frame_xy(row, col), height_m=15.0, max_range_m=115 * CELL)
    window = viewshed(dem, NORTH_UP, observer, Sightline(target_height_m=1.7))
    ours = window.paste(dem.shape)
    truth, in_range = brute_force_viewshed(dem, row, col, 15.0, 1.7, 115.0, CELL, CC)
    assert not (ours & ~in_range).any()
    assert (window.paste(dem.shape) == ours).all()
    assert iou(ours, truth) >= 0.97
    assert (ours == truth)[in_range].mean() >= 0.98


def test_viewshed_on_cell_scale_roughness_tracks_a_finer_brute_force() -> None:
    # On a surface rough at the scale of one cell (beta 1.6), where a crest can fall between
    # two half-cell samples, the half-cell brute force is itself only ~0.976 IoU from a
    # 1/8-cell one; the kernel, which samples each ray where it crosses every line of cells
    # (where crests of bilinear terrain sit), follows the finer reference. Agreement per cell
    # holds at 98 % against both.
    dem = fractal_terrain(241, seed=2, relief_m=300.0, beta=1.6)
    observer = Observer(*frame_xy(120.0, 120.0), height_m=15.0, max_range_m=115 * CELL)
    ours = viewshed(dem, NORTH_UP, observer, Sightline(1.7), rays_per_cell=2.0).paste(dem.shape)
    half, in_range = brute_force_viewshed(dem, 120.0, 120.0, 15.0, 1.7, 115.0, CELL, CC)
    fine, _ = brute_force_viewshed(dem, 120.0, 120.0, 15.0, 1.7, 115.0, CELL, CC, 8.0)
    assert iou(ours, fine) >= 0.97
    assert (ours == half)[in_range].mean() >= 0.98
    assert (ours == fine)[in_range].mean() >= 0.98


def test_visible_points_is_the_brute_force_at_cell_centres() -> None:
    dem = ROUGH["fractal-2.0"]
    row, col = 100.3, 131.7
    observer = Observer(*frame_xy(row, col), height_m=15.0, max_range_m=60 * CELL)
    truth, in_range = brute_force_viewshed(dem, row, col, 15.0, 1.7, 60.0, CELL, CC)
    rr, cc = np.nonzero(in_range)
    xy = np.column_stack(frame_xy(rr.astype(float), cc.astype(float)))
    seen = visible_points(dem, NORTH_UP, observer, xy, Sightline(1.7))
    # Same definition, independent arithmetic: only exact ties may differ.
    assert (seen == truth[rr, cc]).mean() >= 0.999


def test_visible_points_agree_with_the_viewshed() -> None:
    dem = ROUGH["hills"]
    row, col = 90.0, 140.0
    observer = Observer(*frame_xy(row, col), height_m=20.0, max_range_m=100 * CELL)
    window = viewshed(dem, NORTH_UP, observer, Sightline(2.5))
    rows, cols = np.nonzero(window.in_range())
    xy = np.column_stack(frame_xy(rows + window.row0 + 0.0, cols + window.col0 + 0.0))
    seen = visible_points(dem, NORTH_UP, observer, xy, Sightline(2.5))
    fast = window.visible[rows, cols]
    assert (seen == fast).mean() >= 0.98
    assert iou(seen, fast) >= 0.97


def test_visible_points_take_one_height_per_target() -> None:
    # A 3 m wall hides a 1.7 m person behind it but not a 4 m mast.
    dem = np.zeros((50, 50))
    dem[:, 25:28] = 3.0
    observer = Observer(*frame_xy(25.0, 5.0), height_m=2.0, max_range_m=2000.0)
    behind = np.array([frame_xy(25.0, 35.0), frame_xy(25.0, 35.0)])
    seen = visible_points(dem, NORTH_UP, observer, behind, Sightline(0.0), [1.7, 4.0])
    assert seen.tolist() == [False, True]


# --- closed-form geometry ------------------------------------------------------------------


def horizon_m(h_observer: float, h_target: float, cc: float) -> float:
    """Distance at which a target just shows over a smooth sphere of radius R / cc."""
    return math.sqrt(2 * EARTH_RADIUS_M * h_observer / cc) + math.sqrt(
        2 * EARTH_RADIUS_M * h_target / cc
    )


@pytest.mark.parametrize(
    ("h_obs", "h_tgt", "cc", "range_m"),
    [
        (20.0, 1.7, CC, 3_000.0),  # range first: horizon ~22 km
        (10.0, 2.0, CC, 25_000.0),  # horizon first: ~17.6 km
        (10.0, 2.0, 1.0, 25_000.0),  # no refraction: ~16.3 km
        (10.0, 2.0, 0.0, 9_000.0),  # flat earth: the whole disc
    ],
)
def test_tower_on_flat_ground_sees_a_disc(
    h_obs: float, h_tgt: float, cc: float, range_m: float
) -> None:
    cell = 50.0
    n = int(2 * range_m / cell) + 9
    dem = np.full((n, n), 312.0)
    transform = Affine(cell, 0.0, 0.0, 0.0, -cell, n * cell)
    centre = (n - 1) / 2 + 0.3
    observer = Observer(*frame_xy(centre, centre, transform), height_m=h_obs, max_range_m=range_m)
    window = viewshed(dem, transform, observer, Sightline(h_tgt, curvature_coefficient=cc))
    d = window.distance_m()
    radius = min(range_m, horizon_m(h_obs, h_tgt, cc)) if cc > 0 else range_m
    inner = d <= radius - 1.5 * cell
    outer = d >= radius + 1.5 * cell
    assert window.visible[inner].all()
    assert not window.visible[outer].any()
    assert not window.visible[d > range_m].any()
    # The point query draws the same circle.
    bearings = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    for dist, expect in ((radius - 1.5 * cell, True), (radius + 1.5 * cell, False)):
        pts = np.column_stack(
            [observer.x + dist * np.sin(bearings), observer.y + dist * np.cos(bearings)]
        )
        seen = visible_points(dem, transform, observer, pts, Sightline(h_tgt, cc))
        assert (seen == expect).all()


def test_wall_casts_the_similar_triangles_shadow() -> None:
    # Flat ground, a wall 20 m high and 3 cells thick; eye at 30 m, target 2 m. The sight line
    # to a target dx cells out passes the wall's far edge (x_e cells out) at
    # 30 - 28 * x_e / dx, so the target is hidden while dx < x_e * 28 / 10.
    dem = np.zeros((201, 160))
    dem[:, 48:51] = 20.0
    obs_row, obs_col = 100.0, 30.0
    x_e = 50 - obs_col
    shadow_end = x_e * (30.0 - 2.0) / (30.0 - 20.0)
    observer = Observer(*frame_xy(obs_row, obs_col), height_m=30.0, max_range_m=120 * CELL)
    sight = Sightline(2.0, curvature_coefficient=0.0)
    window = viewshed(dem, NORTH_UP, observer, sight)
    truth, _ = brute_force_viewshed(dem, obs_row, obs_col, 30.0, 2.0, 120.0, CELL, 0.0)
    for vis in (window.paste(dem.shape), truth):
        rows, cols = np.mgrid[0:201, 0:160]
        dx = cols - obs_col
        dy = np.abs(rows - obs_row)
        band = (dy <= dx / 2) & (np.hypot(dx, dy) <= 120)
        hidden_zone = band & (dx > x_e) & (dx < shadow_end - 1)
        open_zone = band & (dx > shadow_end + 1)
        assert hidden_zone.sum() > 500 and open_zone.sum() > 500
        assert not vis[hidden_zone].any()
        assert vis[open_zone].all()
        assert vis[band & (dx >= x_e - 2) & (dx <= x_e)].all()  # the wall top itself


def test_ridge_shadow_matches_the_tangent_line() -> None:
    # A smooth ridge running north-south (height depends on the column only), so every sight
    # line has the same profile in column distance; the shadow is found on the continuous
    # profile by a fine 1-D search, independent of the raster.
    h_eye, h_tgt, height, sigma, x_ridge = 60.0, 2.0, 30.0, 3.0, 30.0

    def ridge(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return height * np.exp(-((x - x_ridge) ** 2) / (2 * sigma**2))

    def seen(dx: float) -> bool:
        x = np.linspace(0.0, dx, 20_001)[1:-1]
        z_eye = float(ridge(np.array([0.0]))[0]) + h_eye
        z_t = float(ridge(np.array([dx]))[0]) + h_tgt
        return bool((ridge(x) <= z_eye + (z_t - z_eye) * x / dx).all())

    obs_col = 20.0
    dem = np.tile(ridge(np.arange(160) - obs_col), (201, 1))
    observer = Observer(*frame_xy(100.0, obs_col), height_m=h_eye, max_range_m=130 * CELL)
    window = viewshed(dem, NORTH_UP, observer, Sightline(h_tgt, curvature_coefficient=0.0))
    vis = window.paste(dem.shape)
    expected = {dx: seen(float(dx)) for dx in range(1, 131)}
    assert not all(expected.values()) and any(expected.values())
    rows, cols = np.mgrid[0:201, 0:160]
    checked = 0
    for dx in range(2, 130):
        if not expected[dx - 1] == expected[dx] == expected[dx + 1]:
            continue  # within a cell of the shadow's edge
        sel = (
            (cols == obs_col + dx) & (np.abs(rows - 100) <= dx) & (np.hypot(dx, rows - 100) <= 130)
        )
        assert (vis[sel] == expected[dx]).all(), dx
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("rotation_deg", [0.0, 30.0, -117.0])
def test_field_of_view_wedge_follows_the_heading(rotation_deg: float) -> None:
    transform = Affine.rotation(rotation_deg) @ NORTH_UP if rotation_deg else NORTH_UP
    dem = np.full((121, 121), 50.0)
    row, col = 60.2, 59.7
    heading, fov = 45.0, 90.0
    observer = Observer(
        *frame_xy(row, col, transform),
        height_m=10.0,
        max_range_m=50 * CELL,
        fov_deg=fov,
        heading_deg=heading,
    )
    window = viewshed(dem, transform, observer, Sightline(1.7))
    full = window.paste(dem.shape)
    rows, cols = np.mgrid[0:121, 0:121].astype(float)
    x, y = frame_xy(rows, cols, transform)
    bearing = np.degrees(np.arctan2(x - observer.x, y - observer.y))
    off = np.abs((bearing - heading + 180.0) % 360.0 - 180.0)
    in_range = np.hypot(x - observer.x, y - observer.y) <= 50 * CELL
    clear = np.abs(off - fov / 2) > 1e-6
    assert (full == (in_range & (off <= fov / 2)))[clear].all()
    pts = np.column_stack([x.ravel(), y.ravel()])
    seen = visible_points(dem, transform, observer, pts, Sightline(1.7)).reshape(full.shape)
    assert (seen == full)[clear].all()


def test_rotated_transform_gives_the_same_cells() -> None:
    dem = ROUGH["hills"]
    rotated = Affine.translation(1000.0, -500.0) @ Affine.rotation(33.0) @ NORTH_UP
    a = viewshed(dem, NORTH_UP, Observer(*frame_xy(90.4, 140.1), 15.0, 3000.0), Sightline(1.7))
    b = viewshed(
        dem, rotated, Observer(*frame_xy(90.4, 140.1, rotated), 15.0, 3000.0), Sightline(1.7)
    )
    assert (a.row0, a.col0) == (b.row0, b.col0)
    assert (a.visible == b.visible).all()


# --- invariants ----------------------------------------------------------------------------


def small_case(seed: int, row: float, col: float) -> tuple[NDArray[np.float64], float, float]:
    return fractal_terrain(48, seed=seed, relief_m=80.0, beta=2.0), row, col


cases = st.tuples(st.integers(0, 10_000), st.floats(5.0, 42.0), st.floats(5.0, 42.0)).map(
    lambda t: small_case(*t)
)
heights = st.floats(0.0, 120.0)


def seen_cells(
    dem: NDArray[np.float64], row: float, col: float, h_obs: float, h_tgt: float, rng: float
) -> NDArray[np.bool_]:
    observer = Observer(*frame_xy(row, col), height_m=h_obs, max_range_m=rng)
    return viewshed(dem, NORTH_UP, observer, Sightline(h_tgt)).paste(dem.shape)


@settings(max_examples=40, deadline=None)
@given(cases, heights, heights, st.floats(0.0, 10.0))
def test_raising_the_mast_never_hides_a_cell(
    case: tuple[NDArray[np.float64], float, float], h1: float, h2: float, h_tgt: float
) -> None:
    dem, row, col = case
    low, high = sorted((h1, h2))
    a = seen_cells(dem, row, col, low, h_tgt, 1200.0)
    b = seen_cells(dem, row, col, high, h_tgt, 1200.0)
    assert not (a & ~b).any()


@settings(max_examples=40, deadline=None)
@given(cases, st.floats(0.0, 60.0), heights, heights)
def test_raising_the_target_never_hides_a_cell(
    case: tuple[NDArray[np.float64], float, float], h_obs: float, t1: float, t2: float
) -> None:
    dem, row, col = case
    low, high = sorted((t1, t2))
    a = seen_cells(dem, row, col, h_obs, low, 1200.0)
    b = seen_cells(dem, row, col, h_obs, high, 1200.0)
    assert not (a & ~b).any()


@settings(max_examples=40, deadline=None)
@given(cases, st.floats(0.0, 60.0), st.floats(30.0, 1500.0), st.floats(30.0, 1500.0))
def test_a_longer_range_sees_a_superset(
    case: tuple[NDArray[np.float64], float, float], h_obs: float, r1: float, r2: float
) -> None:
    dem, row, col = case
    near, far = sorted((r1, r2))
    a = seen_cells(dem, row, col, h_obs, 1.7, near)
    b = seen_cells(dem, row, col, h_obs, 1.7, far)
    assert not (a & ~b).any()
    # ...and adds nothing inside the shorter range.
    d = np.hypot(*np.mgrid[0:48, 0:48] - np.array([row, col])[:, None, None]) * CELL
    assert (a == b)[d <= near].all()


# --- many observers, windows, errors -------------------------------------------------------


def test_viewsheds_equal_one_viewshed_per_observer() -> None:
    dem = ROUGH["fractal-2.2"].astype(np.float32)
    observers = [
        Observer(*frame_xy(r, c), height_m=h, max_range_m=m, fov_deg=f, heading_deg=hd)
        for r, c, h, m, f, hd in [
            (120, 120, 15, 3000, 360, 0),
            (10.4, 7.9, 30, 2000, 120, 200),  # window clipped by the DEM's corner
            (200, 50, 5, 1500, 360, 0),
            (60.5, 180.5, 100, 4000, 60, 310),
        ]
    ]
    many = viewsheds(dem, NORTH_UP, observers, Sightline(2.5))
    for obs, got in zip(observers, many, strict=True):
        one = viewshed(dem, NORTH_UP, obs, Sightline(2.5))
        assert isinstance(got, VisibleWindow)
        assert (got.row0, got.col0) == (one.row0, one.col0)
        assert (got.visible == one.visible).all()
    assert many[1].row0 == 0 and many[1].col0 == 0


def test_window_covers_exactly_the_range() -> None:
    dem = np.zeros((300, 300))
    obs = Observer(*frame_xy(150.0, 150.0), height_m=10.0, max_range_m=40 * CELL)
    window = viewshed(dem, NORTH_UP, obs, Sightline(1.7, curvature_coefficient=0.0))
    assert window.visible.shape == (81, 81) and (window.row0, window.col0) == (110, 110)
    assert (window.visible == window.in_range()).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Observer(0.0, 0.0, height_m=-1.0, max_range_m=10.0), "height_m"),
        (lambda: Observer(0.0, 0.0, height_m=1.0, max_range_m=0.0), "max_range_m"),
        (lambda: Observer(0.0, 0.0, 1.0, 10.0, fov_deg=400.0), "fov_deg"),
        (lambda: Sightline(float("nan")), "target_height_m"),
        (
            lambda: viewshed(
                np.zeros((10, 10)),
                Affine(30, 0, 0, 0, -20, 0),
                Observer(45, -30, 5, 90),
                Sightline(1.7),
            ),
            "square",
        ),
        (
            lambda: viewshed(np.zeros((10, 10)), NORTH_UP, Observer(0, 0, 5, 90), Sightline(1.7)),
            "outside the DEM",
        ),
        (
            lambda: viewshed(
                np.where(np.eye(10) > 0, np.nan, 0.0),
                NORTH_UP,
                Observer(*frame_xy(5, 5), 5, 90),
                Sightline(1.7),
            ),
            "non-finite",
        ),
        (
            lambda: visible_points(
                np.zeros((10, 10)),
                NORTH_UP,
                Observer(*frame_xy(5, 5), 5, 90),
                np.zeros(3),
                Sightline(1.7),
            ),
            "targets_xy",
        ),
    ],
)
def test_bad_input_is_named(call: object, message: str) -> None:
    with pytest.raises(LineOfSightError, match=message):
        call()  # type: ignore[operator]

"""Barriers: delays per mode, what stands today, and cells no diagonal step slips between."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from limes.analysis.shortest_path import half_steps, shortest_paths
from limes.geo.border import BorderLine
from limes.geo.grid import Grid
from limes.scenario.schema import Barrier, Mode
from limes.sensing.barrier import (
    barrier_field,
    crossing,
    polyline_cells,
    standing_interval_km,
)


def make(**kw: object) -> Barrier:
    data: dict[str, object] = {
        "id": "b",
        "kind": "berm",
        "from_km": 1.0,
        "to_km": 3.0,
        "delay": {"foot": {"mean_s": 120.0, "sd_s": 30.0}},
    }
    data.update(kw)
    return Barrier.model_validate(data)


def test_foot_delay_is_the_barriers_foot_delay() -> None:
    c = crossing(make(), Mode.FOOT)
    assert (c.passable, c.mean_s, c.sd_s) == (True, 120.0, 30.0)


def test_vehicles_are_blocked_unless_a_breach_time_is_given() -> None:
    assert not crossing(make(blocks_vehicles=True), Mode.VEHICLE).passable
    c = crossing(make(blocks_vehicles=True, breach={"mean_s": 600, "sd_s": 100}), Mode.VEHICLE)
    assert (c.passable, c.mean_s, c.sd_s) == (True, 600.0, 100.0)


def test_a_barrier_that_does_not_block_vehicles_delays_them_by_their_delay_or_not_at_all() -> None:
    assert crossing(make(), Mode.VEHICLE).mean_s == 0.0
    with_v = make(delay={"foot": {"mean_s": 1}, "vehicle": {"mean_s": 45, "sd_s": 5}})
    assert crossing(with_v, Mode.VEHICLE).mean_s == 45.0


def test_only_what_stands_counts() -> None:
    assert standing_interval_km(make()) == (1.0, 3.0)
    assert standing_interval_km(make(status="planned")) is None
    part = make(status="under_construction", progress_pct=25.0)
    assert standing_interval_km(part) == pytest.approx((1.0, 1.5))


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, math.pi), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_barrier_cells_form_a_wall_no_8_connected_path_crosses(
    angle: float, fx: float, fy: float
) -> None:
    grid = Grid.north_up(0, 0, 3000, 3000, 50.0)
    cx, cy = 1000 + 1000 * fx, 1000 + 1000 * fy
    d = np.array([math.cos(angle), math.sin(angle)]) * 5000
    xy = np.array([[cx - d[0], cy - d[1]], [cx, cy], [cx + d[0], cy + d[1]]])
    rows, cols = polyline_cells(grid, xy)
    wall = np.zeros(grid.shape, dtype=bool)
    wall[rows, cols] = True
    # The wall is one 4-connected piece, and it splits the open cells 8-connectedly in two.
    assert ndimage.label(wall)[1] == 1
    assert ndimage.label(~wall, structure=np.ones((3, 3)))[1] == 2


def test_a_blocking_barrier_cuts_vehicle_paths_and_a_fence_adds_its_delay() -> None:
    border = BorderLine(np.array([[0.0, 0.0], [0.0, 10000.0]]), inside_left=True)
    grid = Grid.north_up(-2000, 0, 2000, 10000, 100.0)
    wall = make(from_km=0.0, to_km=10.0, blocks_vehicles=True)
    field = barrier_field(grid, border, [wall], Mode.VEHICLE)
    pace = np.where(field.blocked, np.inf, 0.1)
    ho, hd = half_steps(pace, 100.0)
    west = np.zeros(grid.shape, dtype=bool)
    west[:, 0] = True
    dist, _ = shortest_paths(ho, hd, west)
    assert np.isinf(dist[:, -1]).all()
    assert np.isfinite(dist[:, 1]).all()
    foot = barrier_field(grid, border, [wall], Mode.FOOT)
    assert foot.delay_mean_s.max() == 120.0 and not foot.blocked.any()
    assert foot.delay_var_s2.max() == pytest.approx(900.0)


def test_overlapping_barriers_add_their_delays() -> None:
    border = BorderLine(np.array([[0.0, 0.0], [0.0, 10000.0]]), inside_left=True)
    grid = Grid.north_up(-2000, 0, 2000, 10000, 100.0)
    f = barrier_field(grid, border, [make(), make(id="c")], Mode.FOOT)
    assert f.delay_mean_s.max() == 240.0


@pytest.mark.parametrize("angle_deg", [45.0, 30.0, 63.4])
def test_a_diagonal_barrier_stops_every_8_connected_crossing(angle_deg: float) -> None:
    # A line at an angle to the grid: its cells form a staircase that an 8-connected step
    # could slip through if any two of them touched only at a corner.
    a = math.radians(angle_deg)
    d = np.array([math.sin(a), math.cos(a)]) * 10000.0  # bearing from north
    border = BorderLine(np.array([-d / 2, d / 2]), inside_left=True)
    grid = Grid.north_up(-3000, -3000, 3000, 3000, 100.0)
    wall = make(from_km=0.0, to_km=10.0, blocks_vehicles=True)
    x, y = grid.cell_centres()
    _, off = border.locate(x, y)
    outside = off < -500
    blocked = barrier_field(grid, border, [wall], Mode.VEHICLE).blocked
    ho, hd = half_steps(np.where(blocked, np.inf, 0.1), 100.0)
    dist, _ = shortest_paths(ho, hd, outside)
    assert np.isinf(dist[off > 500]).all()
    # On foot every way across pays the barrier's delay at least once.
    foot = barrier_field(grid, border, [wall], Mode.FOOT)
    ho, hd = half_steps(np.full(grid.shape, 0.1), 100.0, foot.delay_mean_s)
    dist, _ = shortest_paths(ho, hd, outside)
    assert (dist[off > 500] >= 120.0).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-1500.0, 3500.0), st.floats(-1500.0, 3500.0)),
        min_size=2,
        max_size=6,
    )
)
def test_barrier_cells_are_exactly_the_cells_the_line_crosses(
    vertices: list[tuple[float, float]],
) -> None:
    # Independent answer: shapely's intersection of the line with every cell's square. A line
    # exactly along a cell edge or through a corner may or may not count that cell, so ours
    # must lie between the cells it enters (squares shrunk by a hair) and those it touches
    # (grown by a hair). Vertices may lie far off the grid: long segments cross it whole.
    import shapely

    grid = Grid.north_up(0, 0, 2000, 2000, 50.0)
    xy = np.array(vertices)
    if np.hypot(*np.diff(xy, axis=0).T).min() < 1.0:
        return
    rows, cols = polyline_cells(grid, xy)
    ours = set(zip(rows.tolist(), cols.tolist(), strict=True))
    r, c = np.mgrid[0 : grid.height, 0 : grid.width]
    x0, y1 = grid.xy(r.ravel(), c.ravel())  # upper-left corners
    line = shapely.LineString(xy)

    def cells_meeting(eps: float) -> set[tuple[int, int]]:
        boxes = shapely.box(x0 + eps, y1 - 50.0 + eps, x0 + 50.0 - eps, y1 - eps)
        hit = shapely.intersects(boxes, line)
        return set(zip(r.ravel()[hit].tolist(), c.ravel()[hit].tolist(), strict=True))

    assert cells_meeting(1e-6) <= ours <= cells_meeting(-1e-6)

"""Hazard fields against geometry: a tower's disc (range or horizon), a wall's shadow."""

from __future__ import annotations

import math

import numpy as np
import pytest
from analysis_support import FLAT, Ground, scenario, tower

from limes.geo.grid import Grid
from limes.scenario.schema import Light, TargetClassName
from limes.sensing.coverage import hazard_field

R_EARTH = 6_371_000.0


def one_tower(range_m: float, mast_m: float, target_m: float, k: float = 0.13, **kw: object):
    models = [
        {
            "name": "mast",
            "kind": "radar",
            "mast_height_m": mast_m,
            "laws": {
                "person": {
                    "night": {"range_m": range_m, "hazard_per_s": 0.1, "falloff": "constant"}
                }
            },
        }
    ]
    return scenario(
        sensor_models=models,
        sensors=[tower("t", 5.0, 0.0, model="mast", **kw)],
        response={"target_heights_m": {"person": target_m, "vehicle": 2.5}, "refraction_k": k},
    )


def around(sc, reach: float, cell: float) -> tuple[Grid, float, float]:
    x, y = sc.position_xy(sc.spec.sensors[0].position)
    return Grid.north_up(x - reach, y - reach, x + reach, y + reach, cell), x, y


def test_on_flat_ground_a_tower_sees_a_disc_bounded_by_its_range() -> None:
    sc = one_tower(3000.0, 10.0, 1.7)  # horizon ≈ 17 km, far beyond the range
    grid, x, y = around(sc, 4000, 50.0)
    h = hazard_field(sc, FLAT, grid, TargetClassName.PERSON, Light.NIGHT)
    gx, gy = grid.cell_centres()
    r = np.hypot(gx - x, gy - y)
    assert np.allclose(h[r <= 3000 - 50], 0.1)
    assert (h[r > 3000 + 50] == 0).all()


def test_on_flat_ground_the_curvature_horizon_bounds_a_long_range_sensor() -> None:
    mast, target, k = 2.0, 0.5, 0.13
    sc = one_tower(12000.0, mast, target, k)
    r_eff = R_EARTH / (1.0 - k)
    horizon = math.sqrt(2 * r_eff * mast) + math.sqrt(2 * r_eff * target)  # ≈ 8.1 km
    grid, x, y = around(sc, 12500, 100.0)
    h = hazard_field(sc, FLAT, grid, TargetClassName.PERSON, Light.NIGHT)
    gx, gy = grid.cell_centres()
    r = np.hypot(gx - x, gy - y)
    assert (h[r <= horizon - 200] > 0).all()
    assert (h[(r >= horizon + 200) & (r <= 12000)] == 0).all()


def test_a_wall_lower_than_the_eye_casts_the_shadow_geometry_predicts() -> None:
    # Eye 30 m up; a 10 m wall from 900 to 1000 m east; target 1.7 m. The sight line grazing the
    # wall's far top edge reaches target height at 1000 · (30 − 1.7)/(30 − 10) ≈ 1415 m.
    sc = one_tower(3000.0, 30.0, 1.7)
    x0, _ = sc.position_xy(sc.spec.sensors[0].position)
    wall = Ground(lambda x, y: np.where((x - x0 >= 900) & (x - x0 <= 1000), 10.0, 0.0))
    grid, x, y = around(sc, 3200, 25.0)
    h = hazard_field(sc, wall, grid, TargetClassName.PERSON, Light.NIGHT)
    gx, gy = grid.cell_centres()
    east = (np.abs(gy - y) < 100) & (gx > x)
    d = gx - x
    end = 1000 * (30 - 1.7) / (30 - 10)
    assert (h[east & (d < 850)] > 0).all()
    assert (h[east & (d > 1050) & (d < end - 60)] == 0).all()
    assert (h[east & (d > end + 60) & (d < 2900)] > 0).all()
    # West of the tower there is no wall: everything in range is seen.
    west = (np.abs(gy - y) < 100) & (gx < x) & (x - gx < 2900)
    assert (h[west] > 0).all()


def test_a_narrow_field_of_view_sees_only_its_sector() -> None:
    sc = one_tower(2000.0, 10.0, 1.7, heading_deg=90.0, fov_deg=90.0)
    grid, x, y = around(sc, 2500, 50.0)
    h = hazard_field(sc, FLAT, grid, TargetClassName.PERSON, Light.NIGHT)
    gx, gy = grid.cell_centres()
    bearing = np.degrees(np.arctan2(gx - x, gy - y)) % 360
    r = np.hypot(gx - x, gy - y)
    inside = (np.abs(bearing - 90) < 44) & (r < 1950) & (r > 100)
    outside = (np.abs(bearing - 90) > 46) & (r > 100)
    assert (h[inside] > 0).all()
    assert (h[outside] == 0).all()


def test_a_day_camera_adds_nothing_at_night() -> None:
    sc = scenario(sensors=[tower("d", 5.0, 0.0, model="daycam")])
    grid, _, _ = around(sc, 2500, 100.0)
    night = hazard_field(sc, FLAT, grid, TargetClassName.PERSON, Light.NIGHT)
    day = hazard_field(sc, FLAT, grid, TargetClassName.PERSON, Light.DAY)
    assert night.max() == 0.0 and day.max() == pytest.approx(0.05, rel=0.05)

"""Movement: Tobler's hiking function scaled to the flat speed, vehicle slope limits, roads."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from limes.scenario.schema import Movement
from limes.sensing.movement import (
    adversary_speed_kmh,
    foot_speed_isotropic_kmh,
    pace_s_per_m,
    slope_magnitude,
    tobler_kmh,
    vehicle_speed_kmh,
)


def test_tobler_is_the_flat_speed_on_flat_ground() -> None:
    assert float(tobler_kmh(0.0, 5.0)) == pytest.approx(5.0)


def test_tobler_matches_the_published_function_up_to_scale() -> None:
    # Tobler (1993): W = 6 exp(-3.5 |s + 0.05|); scaled so W(0) = flat speed.
    for s in (-0.3, -0.05, 0.0, 0.1, 0.4):
        published = 6 * math.exp(-3.5 * abs(s + 0.05))
        assert float(tobler_kmh(s, 4.0)) == pytest.approx(published * 4.0 / (6 * math.exp(-0.175)))


def test_tobler_peaks_on_a_gentle_downhill() -> None:
    s = np.linspace(-0.5, 0.5, 1001)
    assert s[np.argmax(tobler_kmh(s, 5.0))] == pytest.approx(-0.05)


@given(st.floats(0.0, 2.0))
def test_isotropic_foot_speed_is_symmetric_and_never_above_toblers_peak(slope: float) -> None:
    v = float(foot_speed_isotropic_kmh(slope, 5.0))
    assert v == pytest.approx(float(foot_speed_isotropic_kmh(-slope, 5.0)))
    assert v <= 5.0 * math.exp(3.5 * 0.05) + 1e-12
    assert float(foot_speed_isotropic_kmh(0.0, 5.0)) == pytest.approx(5.0)


def test_vehicles_cannot_climb_beyond_the_limit() -> None:
    steep = math.tan(math.radians(21))
    ok = math.tan(math.radians(19))
    assert float(vehicle_speed_kmh(steep, 30.0, 20.0)) == 0.0
    assert 15.0 < float(vehicle_speed_kmh(ok, 30.0, 20.0)) < 30.0
    assert float(vehicle_speed_kmh(0.0, 30.0, 20.0)) == pytest.approx(30.0)


def test_roads_carry_vehicles_at_road_speed_whatever_the_slope() -> None:
    m = Movement(vehicle_off_road_kmh=30.0, vehicle_road_kmh=70.0, vehicle_max_slope_deg=20.0)
    slope = np.array([0.0, 1.0, 0.0])
    road = np.array([False, True, True])
    v = adversary_speed_kmh("vehicle", slope, road, m)
    assert v.tolist() == pytest.approx([30.0, 70.0, 70.0])


def test_pace_is_infinite_where_impassable() -> None:
    p = pace_s_per_m(np.array([3.6, 0.0]))
    assert p[0] == pytest.approx(1.0)
    assert math.isinf(p[1])


def test_slope_of_a_plane_is_its_gradient() -> None:
    rows, cols = np.mgrid[0:20, 0:30].astype(float)
    z = 0.1 * cols * 10.0 + 0.2 * rows * 10.0  # 10 m cells
    assert np.allclose(slope_magnitude(z, 10.0), math.hypot(0.1, 0.2))


def test_unknown_mode_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown adversary mode 'boat'"):
        adversary_speed_kmh("boat", 0.0, False, Movement())

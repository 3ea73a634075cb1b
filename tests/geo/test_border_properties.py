"""Chainage and offset on the built-in Iraq–Syria line: round trips and the side of a point."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from limes.geo.border import BorderLine
from limes.scenario.load import load_scenario

LINE: BorderLine = load_scenario("iraq-syria").border
LENGTH = LINE.length_m
VERTICES = LINE.vertex_chainage_m


@settings(max_examples=300, deadline=None)
@given(s=st.floats(0.0, LENGTH))
def test_chainage_to_position_to_chainage_round_trips_within_a_metre(s: float) -> None:
    x, y = LINE.point_at(s)
    back, offset = LINE.locate(x, y)
    assert abs(float(back) - s) < 1.0
    assert abs(float(offset)) < 1.0


@settings(max_examples=300, deadline=None)
@given(s=st.floats(0.0, LENGTH), d=st.floats(1.0, 3000.0), inside=st.booleans())
def test_offsets_locate_back_with_their_sign_on_both_sides(
    s: float, d: float, inside: bool
) -> None:
    # Away from vertices, by more than the offset, the foot of the perpendicular is unique.
    assume(np.min(np.abs(VERTICES - s)) > 3 * d)
    offset = d if inside else -d
    x, y = LINE.point_at(s, offset)
    back_s, back_off = LINE.locate(x, y)
    assert np.sign(float(back_off)) == np.sign(offset)
    assert abs(float(back_off) - offset) < 1.0
    assert abs(float(back_s) - s) < 1.0


def test_the_inside_is_iraq_to_the_east() -> None:
    sc = load_scenario("iraq-syria")
    # 20 km east of Rabia is Iraq, 20 km west is Syria.
    east = sc.frame.to_xy(42.30, 36.80)
    west = sc.frame.to_xy(41.80, 36.85)
    assert float(sc.locate(*east)[1]) > 10_000
    assert float(sc.locate(*west)[1]) < -10_000


def test_a_vectorised_locate_agrees_with_one_point_at_a_time() -> None:
    rng = np.random.default_rng(0)
    s = rng.uniform(0, LENGTH, 200)
    d = rng.uniform(-4000, 4000, 200)
    x, y = LINE.point_at(s, d)
    bs, bd = LINE.locate(x, y)
    one = [LINE.locate(float(a), float(b)) for a, b in zip(x, y, strict=True)]
    assert np.allclose(bs, [float(o[0]) for o in one])
    assert np.allclose(bd, [float(o[1]) for o in one])
    assert bs.shape == (200,)
    assert pytest.approx(0.0) == float(LINE.locate(*LINE.point_at(0.0))[0])

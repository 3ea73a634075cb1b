"""Quantities with units normalised: lengths to km (international mile and foot), counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limes.intel.quantities import find_quantities


def one(text: str) -> tuple[float, float | None, str]:
    found = find_quantities(text)
    assert len(found) == 1, found
    return found[0].value, found[0].max, found[0].unit


def test_units_are_normalised() -> None:
    assert one("five or six kilometres away") == (5.0, 6.0, "km")
    assert one("a trench ten feet deep") == (pytest.approx(10 * 0.3048 / 1000), None, "km")
    assert one("some 12 miles inside Syria") == (pytest.approx(12 * 1.609344), None, "km")
    assert one("up to 20,000 IS fighters") == (20000.0, None, "fighters")
    assert one("120 Iraqi families") == (120.0, None, "families")
    assert one("1.2 million captagon pills") == (1.2e6, None, "pills")
    assert one("2 tonnes of hashish") == (2000.0, None, "kg")
    assert one("between 10 and 15 militants") == (10.0, 15.0, "fighters")
    assert one("a 140-kilometre stretch") == (140.0, None, "km")


def test_numbers_without_a_unit_are_not_quantities() -> None:
    assert find_quantities("In 2017 the army returned; 300 of the families stayed.") == []


def test_a_rejected_match_does_not_hide_a_good_one() -> None:
    assert one("Patrol 7 intercepted three vehicles") == (3.0, None, "vehicles")


@given(st.integers(1, 999_999), st.sampled_from(["km", "kilometres", "miles", "metres"]))
def test_any_number_and_length_unit_round_trips(n: int, unit: str) -> None:
    factor = {"km": 1.0, "kilometres": 1.0, "miles": 1.609344, "metres": 0.001}[unit]
    value, _, got_unit = one(f"The line runs {n:,} {unit} along the river.")
    assert got_unit == "km"
    assert value == pytest.approx(n * factor)

"""Local mean solar time from UTC: analytic points and the invariants of the definition."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from limes.geo.daylight import is_day_utc, solar_hour_utc


def test_noon_at_a_longitude_is_the_utc_hour_plus_a_fifteenth_of_a_degree() -> None:
    at_9 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC).timestamp()
    assert float(solar_hour_utc(at_9, 45.0)) == pytest.approx(12.0)  # 45° E: 3 h ahead
    assert float(solar_hour_utc(at_9, -135.0)) == pytest.approx(0.0)  # 135° W: 9 h behind
    # Day is [06:00, 18:00) local: a minute either side of each end.
    for hour, day in ((5.99, False), (6.0, True), (17.99, True), (18.0, False)):
        t = datetime(2026, 6, 1, tzinfo=UTC).timestamp() + hour * 3600.0
        assert bool(is_day_utc(t, 0.0, 6.0, 18.0)) is day


@given(
    t=st.floats(0.0, 4e9, allow_nan=False),
    lon=st.floats(-180.0, 180.0, allow_nan=False),
    days=st.integers(-3, 3),
)
def test_solar_hour_repeats_daily_and_moves_an_hour_per_15_degrees(
    t: float, lon: float, days: int
) -> None:
    h = float(solar_hour_utc(t, lon))
    assert 0.0 <= h < 24.0
    later = float(solar_hour_utc(t + days * 86400.0, lon))
    east = float(solar_hour_utc(t, lon + 15.0))
    assert min(abs(later - h), 24.0 - abs(later - h)) < 1e-6  # the same hour of the clock
    assert np.isclose((east - h) % 24.0, 1.0, atol=1e-6)

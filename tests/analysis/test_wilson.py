"""The project's Wilson score interval against SciPy's (`binomtest(...).proportion_ci`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, norm

from limes.analysis.monte_carlo import wilson


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 100_000),
    share=st.floats(0.0, 1.0),
    confidence=st.sampled_from([0.9, 0.95, 0.99, 0.999]),
)
def test_wilson_equals_scipys_wilson_interval(n: int, share: float, confidence: float) -> None:
    k = round(share * n)
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    z = float(norm.ppf(0.5 + confidence / 2))
    lo, hi = wilson(k, n, z=z)
    assert lo == pytest.approx(ci.low, abs=1e-12)
    assert hi == pytest.approx(ci.high, abs=1e-12)


def test_the_default_is_the_95_percent_interval() -> None:
    ci = binomtest(37, 120).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(37, 120) == (pytest.approx(ci.low, abs=1e-12), pytest.approx(ci.high, abs=1e-12))


@pytest.mark.parametrize("n", [1, 7, 30, 300, 1234, 100_000])
def test_no_successes_reach_zero_and_all_successes_reach_one_exactly(n: int) -> None:
    # A plan that says P = 0 (or 1) is inside the interval of 0 of n (n of n) interrupted.
    assert wilson(0, n)[0] == 0.0
    assert wilson(n, n)[1] == 1.0
    assert 0.0 < wilson(0, n)[1] < 1.0
    assert 0.0 < wilson(n, n)[0] < 1.0

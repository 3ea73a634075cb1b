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

"""GOSPA and OSPA against Stone Soup's implementations on random point sets."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tracking_metrics import gospa, mean_gospa, ospa

ospametric = pytest.importorskip("stonesoup.metricgenerator.ospametric")
from stonesoup.types.state import State  # noqa: E402

WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def _states(points: np.ndarray) -> list[State]:
    return [State(np.array(p, dtype=float).reshape(-1, 1), timestamp=WHEN) for p in points]


point_sets = st.integers(0, 7).flatmap(
    lambda n: st.lists(
        st.tuples(st.floats(-100, 100), st.floats(-100, 100)), min_size=n, max_size=n
    )
)


@settings(max_examples=150, deadline=None)
@given(
    truth=point_sets,
    est=point_sets,
    c=st.floats(1.0, 80.0),
    p=st.sampled_from([1.0, 2.0, 3.0]),
)
def test_gospa_matches_stone_soup(truth: list, est: list, c: float, p: float) -> None:
    truth_a = np.array(truth, dtype=float).reshape(-1, 2)
    est_a = np.array(est, dtype=float).reshape(-1, 2)
    if len(truth_a) == 0 and len(est_a) == 0:
        assert gospa(truth_a, est_a, c, p).distance == 0.0
        return
    reference = ospametric.GOSPAMetric(c=c, p=p)
    metric, _ = reference.compute_gospa_metric(_states(est_a), _states(truth_a))
    ours = gospa(truth_a, est_a, c, p)
    expected = metric.value
    assert ours.distance == pytest.approx(expected["distance"], rel=1e-9, abs=1e-9)
    if p == 3.0 or np.power(c, p) != c**p:
        # Stone Soup tells a cut-off pair by float equality of np.power(c, p) and c**p, which
        # differ in the last bit for p = 3 and for a few c at p = 2 (c = 9.423577054708883):
        # it then books a cut-off pair as localisation. Only the distance is comparable there.
        return
    assert ours.localisation == pytest.approx(expected["localisation"], rel=1e-9, abs=1e-9)
    assert ours.missed == pytest.approx(expected["missed"], rel=1e-9, abs=1e-9)
    assert ours.false == pytest.approx(expected["false"], rel=1e-9, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(truth=point_sets, est=point_sets, c=st.floats(1.0, 80.0))
def test_ospa_matches_stone_soup(truth: list, est: list, c: float) -> None:
    # p = 1 only: for p > 1 Stone Soup assigns on d rather than dᵖ (not the OSPA optimum);
    # p = 2 is checked against brute force below.
    truth_a = np.array(truth, dtype=float).reshape(-1, 2)
    est_a = np.array(est, dtype=float).reshape(-1, 2)
    if len(truth_a) == 0 and len(est_a) == 0:
        assert ospa(truth_a, est_a, c) == 0.0
        return
    reference = ospametric.OSPAMetric(c=c, p=1.0)
    expected = reference.compute_OSPA_distance(_states(est_a), _states(truth_a)).value
    assert ospa(truth_a, est_a, c, 1.0) == pytest.approx(expected, rel=1e-9, abs=1e-9)


small_sets = st.integers(0, 5).flatmap(
    lambda n: st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20)), min_size=n, max_size=n)
)


@settings(max_examples=150, deadline=None)
@given(truth=small_sets, est=small_sets, c=st.floats(1.0, 30.0), p=st.sampled_from([1.0, 2.0]))
def test_ospa_equals_brute_force_over_permutations(
    truth: list, est: list, c: float, p: float
) -> None:
    x = np.array(truth, dtype=float).reshape(-1, 2)
    y = np.array(est, dtype=float).reshape(-1, 2)
    small, big = (x, y) if len(x) <= len(y) else (y, x)
    n = len(big)
    if n == 0:
        assert ospa(x, y, c, p) == 0.0
        return
    best = min(
        sum(min(float(np.linalg.norm(small[i] - big[j])), c) ** p for i, j in enumerate(perm))
        for perm in itertools.permutations(range(n), len(small))
    )
    expected = ((best + c**p * (n - len(small))) / n) ** (1 / p)
    assert ospa(x, y, c, p) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_gospa_of_hand_built_sets() -> None:
    # One pair 3 m apart, one missed truth, one false estimate beyond c: c = 10, p = 1.
    g = gospa([[0, 0], [100, 100]], [[3, 0], [-50, -50]], c=10.0, p=1.0)
    assert (g.localisation, g.missed, g.false) == (3.0, 5.0, 5.0)
    assert g.distance == 13.0
    assert mean_gospa([[[0, 0]], []], [[[0, 4]], [[1, 1]]], c=10.0).distance == pytest.approx(4.5)

"""Global nearest neighbour against brute force on small clusters and scipy on larger ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from limes.ops.tracker.association import assign, assign_pairs

MISS = 10.0


def _brute_force(cost: np.ndarray) -> float:
    n_t, n_d = cost.shape
    best = np.inf
    choices = [*range(n_d), None]
    for pick in itertools.product(choices, repeat=n_t):
        used = [c for c in pick if c is not None]
        if len(used) != len(set(used)):
            continue
        total = sum(MISS if c is None else cost[i, c] for i, c in enumerate(pick))
        best = min(best, total)
    return float(best)


def _total(cost: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> float:
    return float(cost[rows, cols].sum() + MISS * (cost.shape[0] - rows.size))


@st.composite
def cost_matrices(draw: st.DrawFn) -> np.ndarray:
    n_t = draw(st.integers(0, 5))
    n_d = draw(st.integers(0, 5))
    values = draw(
        st.lists(
            st.one_of(st.floats(0.0, MISS - 1e-6), st.just(np.inf)),
            min_size=n_t * n_d,
            max_size=n_t * n_d,
        )
    )
    return np.array(values, dtype=float).reshape(n_t, n_d)


@settings(max_examples=300, deadline=None)
@given(cost=cost_matrices())
def test_gnn_total_cost_equals_brute_force(cost: np.ndarray) -> None:
    rows, cols = assign(cost, MISS)
    assert len(set(rows.tolist())) == rows.size  # one detection per track
    assert len(set(cols.tolist())) == cols.size  # one track per detection
    assert np.all(np.isfinite(cost[rows, cols]))  # never outside the gate
    assert np.isclose(_total(cost, rows, cols), _brute_force(cost))


def test_independent_clusters_are_solved_separately_and_combined() -> None:
    inf = np.inf
    cost = np.array(
        [
            [1.0, 2.0, inf, inf],
            [1.5, 9.0, inf, inf],
            [inf, inf, inf, 3.0],
            [inf, inf, inf, inf],
        ]
    )
    rows, cols = assign(cost, MISS)
    pairs = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    # Cluster {0, 1} × {0, 1}: 0→1 (2) + 1→0 (1.5) = 3.5 beats 0→0 (1) + 1→1 (9).
    assert pairs == {0: 1, 1: 0, 2: 3}


@st.composite
def sparse_gated_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """A few dozen tracks and detections, each pair gated with some probability."""
    n_t = draw(st.integers(1, 30))
    n_d = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.floats(0.02, 0.6))
    rng = np.random.default_rng(seed)
    allowed = rng.random((n_t, n_d)) < density
    r, c = np.nonzero(allowed)
    return r, c, rng.uniform(0.0, MISS - 1e-6, r.size), n_t, n_d


@settings(max_examples=150, deadline=None)
@given(problem=sparse_gated_pairs())
def test_clustered_assignment_costs_what_scipy_solves_on_the_whole_matrix(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray, int, int],
) -> None:
    r, c, cost, n_t, n_d = problem
    rows, cols = assign_pairs(r, c, cost, n_t, n_d, MISS)
    dense = np.full((n_t, n_d), np.inf)
    dense[r, c] = cost
    assert len(set(rows.tolist())) == rows.size and len(set(cols.tolist())) == cols.size
    assert np.all(np.isfinite(dense[rows, cols]))
    # Reference: one scipy solve over the whole matrix with a private miss column per track.
    miss = np.full((n_t, n_t), np.inf)
    np.fill_diagonal(miss, MISS)
    ref_r, ref_c = linear_sum_assignment(np.hstack([np.where(np.isinf(dense), 1e9, dense), miss]))
    real = ref_c < n_d
    ref_total = dense[ref_r[real], ref_c[real]].sum() + MISS * (n_t - real.sum())
    assert _total(dense, rows, cols) == pytest.approx(ref_total, rel=1e-9, abs=1e-9)

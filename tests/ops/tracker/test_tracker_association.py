"""Global nearest neighbour against brute force on small clusters."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from limes.ops.tracker.association import assign

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

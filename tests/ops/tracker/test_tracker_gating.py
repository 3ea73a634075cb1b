"""Gating against scipy's χ² quantile, per-pair linear algebra, and a Monte Carlo check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from limes.ops.tracker import TrackerConfig
from limes.ops.tracker.gating import MahalanobisGate, mahalanobis_squared


@pytest.mark.parametrize("pg", [0.9, 0.99, 0.999, 0.9999])
def test_gate_threshold_is_the_chi2_quantile_with_two_degrees_of_freedom(pg: float) -> None:
    assert TrackerConfig(gate_probability=pg).gate_threshold == pytest.approx(chi2.ppf(pg, 2))
    # For 2 dof the quantile has a closed form: -2 ln(1 - pg).
    assert TrackerConfig(gate_probability=pg).gate_threshold == pytest.approx(-2 * np.log(1 - pg))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_t=st.integers(1, 6), n_d=st.integers(1, 6))
def test_mahalanobis_matrix_equals_per_pair_solve(seed: int, n_t: int, n_d: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_t, 4)) * 100
    a = rng.normal(size=(n_t, 4, 4))
    p = a @ a.transpose(0, 2, 1) + np.eye(4)
    z = rng.normal(size=(n_d, 2)) * 100
    b = rng.normal(size=(n_d, 2, 2))
    r_full = b @ b.transpose(0, 2, 1) + 0.5 * np.eye(2)
    r = np.column_stack([r_full[:, 0, 0], r_full[:, 0, 1], r_full[:, 1, 1]])
    d2 = mahalanobis_squared(x, p, z, r)
    for i in range(n_t):
        for j in range(n_d):
            nu = z[j] - x[i, :2]
            s = p[i, :2, :2] + r_full[j]
            assert d2[i, j] == pytest.approx(nu @ np.linalg.solve(s, nu), rel=1e-9)


def test_true_detections_fall_in_the_gate_at_the_gate_probability() -> None:
    rng = np.random.default_rng(1)
    pg = 0.95
    p = np.diag([30.0, 10.0, 1.0, 1.0])[None]
    p[0, 0, 1] = p[0, 1, 0] = 8.0
    r_full = np.array([[20.0, -3.0], [-3.0, 12.0]])
    s = p[0, :2, :2] + r_full
    z = rng.multivariate_normal([0.0, 0.0], s, size=20000)
    gate = MahalanobisGate(TrackerConfig(gate_probability=pg).gate_threshold)
    costs = gate.costs(np.zeros((1, 4)), p, z, np.tile([20.0, -3.0, 12.0], (len(z), 1)))
    inside = np.isfinite(costs).mean()
    assert inside == pytest.approx(pg, abs=4 * np.sqrt(pg * (1 - pg) / len(z)))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_t=st.integers(0, 40), n_d=st.integers(0, 60))
def test_gated_pairs_are_exactly_the_dense_matrix_entries_under_the_threshold(
    seed: int, n_t: int, n_d: int
) -> None:
    # Tracks and detections crowded on a few metres, so many pairs sit near the gate's edge.
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.uniform(0, 60, (n_t, 2)), rng.normal(size=(n_t, 2))])
    a = rng.normal(size=(n_t, 4, 4)) * 2
    p = a @ a.transpose(0, 2, 1) + np.eye(4)
    z = rng.uniform(0, 60, (n_d, 2))
    b = rng.normal(size=(n_d, 2, 2)) * 2
    r_full = b @ b.transpose(0, 2, 1) + 0.5 * np.eye(2)
    r = np.column_stack([r_full[:, 0, 0], r_full[:, 0, 1], r_full[:, 1, 1]])
    gate = MahalanobisGate(TrackerConfig().gate_threshold)
    rows, cols, d2 = gate.pairs(x, p, z, r)
    dense = mahalanobis_squared(x, p, z, r).reshape(n_t, n_d)
    want = set(zip(*np.nonzero(dense < gate.threshold), strict=True))
    got = dict(zip(zip(rows.tolist(), cols.tolist(), strict=True), d2.tolist(), strict=True))
    assert set(got) == {(int(i), int(j)) for i, j in want}
    for (i, j), value in got.items():
        assert value == pytest.approx(dense[i, j], rel=1e-9)

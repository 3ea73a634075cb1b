"""The Kalman predict and update steps against the textbook matrix formulas and hand values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from limes.ops.tracker import kalman, motion


def _random_spd(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    a = rng.normal(size=(n, n)) * scale
    return a @ a.T + np.eye(n) * 0.1


def test_prediction_of_a_static_uncertainty_matches_hand_values() -> None:
    # P = I, dt = 2, no noise: var(x) = 1 + dt² = 5, cov(x, vx) = dt = 2, var(vx) = 1.
    x, p = motion.predict(
        np.array([[0.0, 0.0, 1.0, -2.0]]), np.eye(4)[None], np.array([2.0]), np.array([0.0])
    )
    np.testing.assert_allclose(x[0], [2.0, -4.0, 1.0, -2.0])
    np.testing.assert_allclose(p[0, 0, 0], 5.0)
    np.testing.assert_allclose(p[0, 0, 2], 2.0)
    np.testing.assert_allclose(p[0, 2, 2], 1.0)
    np.testing.assert_allclose(p[0, 0, 1], 0.0)


def test_process_noise_of_white_acceleration_matches_hand_values() -> None:
    # From zero covariance, q = 3, dt = 2: var(x) = q dt³/3 = 8, cov(x, vx) = q dt²/2 = 6,
    # var(vx) = q dt = 6.
    _, p = motion.predict(np.zeros((1, 4)), np.zeros((1, 4, 4)), np.array([2.0]), np.array([3.0]))
    np.testing.assert_allclose(p[0, [0, 1], [0, 1]], [8.0, 8.0])
    np.testing.assert_allclose(p[0, [0, 1], [2, 3]], [6.0, 6.0])
    np.testing.assert_allclose(p[0, [2, 3], [2, 3]], [6.0, 6.0])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dt=st.floats(0.0, 30.0), q=st.floats(0.0, 5.0))
def test_prediction_equals_f_p_ft_plus_q(seed: int, dt: float, q: float) -> None:
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=4) * 100
    p0 = _random_spd(rng, 4, 3.0)
    f = np.eye(4)
    f[0, 2] = f[1, 3] = dt
    block = q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    qm = np.zeros((4, 4))
    qm[np.ix_([0, 2], [0, 2])] = block
    qm[np.ix_([1, 3], [1, 3])] = block
    x, p = motion.predict(x0[None], p0[None], np.array([dt]), np.array([q]))
    np.testing.assert_allclose(x[0], f @ x0, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(p[0], f @ p0 @ f.T + qm, rtol=1e-10, atol=1e-9)


def test_update_of_independent_axes_is_the_scalar_weighted_mean() -> None:
    # Prior var 9 at 0, measurement var 1 at 10: posterior mean 9, var 0.9 (per axis).
    p = np.diag([9.0, 9.0, 4.0, 4.0])[None]
    x, post = kalman.update(
        np.zeros((1, 4)), p, np.array([[10.0, -10.0]]), np.array([[1.0, 0.0, 1.0]])
    )
    np.testing.assert_allclose(x[0, :2], [9.0, -9.0])
    np.testing.assert_allclose(post[0, 0, 0], 0.9)
    np.testing.assert_allclose(post[0, 2, 2], 4.0)  # no position-velocity correlation: unchanged


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_update_equals_the_matrix_kalman_formulas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5
    xs = rng.normal(size=(n, 4)) * 50
    ps = np.stack([_random_spd(rng, 4, 4.0) for _ in range(n)])
    rs = np.stack([_random_spd(rng, 2, 2.0) for _ in range(n)])
    zs = rng.normal(size=(n, 2)) * 50
    h = np.hstack([np.eye(2), np.zeros((2, 2))])
    x_new, p_new = kalman.update(
        xs, ps, zs, np.column_stack([rs[:, 0, 0], rs[:, 0, 1], rs[:, 1, 1]])
    )
    for i in range(n):
        s = h @ ps[i] @ h.T + rs[i]
        k = ps[i] @ h.T @ np.linalg.inv(s)
        ikh = np.eye(4) - k @ h
        joseph = ikh @ ps[i] @ ikh.T + k @ rs[i] @ k.T
        np.testing.assert_allclose(x_new[i], xs[i] + k @ (zs[i] - h @ xs[i]), rtol=1e-9, atol=1e-7)
        np.testing.assert_allclose(p_new[i], joseph, rtol=1e-7, atol=1e-7)

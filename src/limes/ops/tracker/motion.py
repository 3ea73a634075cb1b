"""Prediction: the nearly-constant-velocity model in 2-D, for many tracks at once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def predict(
    x: NDArray[np.float64],
    p: NDArray[np.float64],
    dt: NDArray[np.float64],
    q: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Predict states (n, 4) = (x, y, vx, vy) and covariances (n, 4, 4) forward by `dt` (s).

    Transition F = [[I, dt I], [0, I]]; process noise is white acceleration with power
    spectral density `q` (m²/s³) per axis, Q = q [[dt³/3 I, dt²/2 I], [dt²/2 I, dt I]].
    The block form (position A, cross B, velocity C) avoids 4×4 products:
    A' = A + dt (B + Bᵀ) + dt² C, B' = B + dt C, C' = C.
    """
    dt = np.asarray(dt, dtype=float)
    x_new = x.copy()
    x_new[:, :2] += dt[:, None] * x[:, 2:]
    a = p[:, :2, :2]
    b = p[:, :2, 2:]
    c = p[:, 2:, 2:]
    d = dt[:, None, None]
    qq = np.asarray(q, dtype=float)[:, None, None] * np.eye(2)
    p_new = np.empty_like(p)
    b_new = b + d * c
    p_new[:, :2, :2] = a + d * (b + b.transpose(0, 2, 1)) + d * d * c + qq * (d**3 / 3.0)
    p_new[:, :2, 2:] = b_new + qq * (d * d / 2.0)
    p_new[:, 2:, :2] = p_new[:, :2, 2:].transpose(0, 2, 1)
    p_new[:, 2:, 2:] = c + qq * d
    return x_new, p_new


def transition_matrix(dt: float) -> NDArray[np.float64]:
    """F for one time step (for reference computations and documentation)."""
    f = np.eye(4)
    f[0, 2] = f[1, 3] = dt
    return f


def process_noise_matrix(dt: float, q: float) -> NDArray[np.float64]:
    """Q for one time step (for reference computations and documentation)."""
    block = np.array([[dt**3 / 3.0, dt**2 / 2.0], [dt**2 / 2.0, dt]]) * q
    out = np.zeros((4, 4))
    for i in (0, 1):
        out[np.ix_([i, i + 2], [i, i + 2])] = block
    return out

"""Prediction: the nearly-constant-velocity model in 2-D, for many tracks at once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.kernel import kernel


@kernel
def _predict(
    x: NDArray[np.float64],
    p: NDArray[np.float64],
    dt: NDArray[np.float64],
    q: NDArray[np.float64],
    x_new: NDArray[np.float64],
    p_new: NDArray[np.float64],
) -> None:
    for n in range(x.shape[0]):
        d = dt[n]
        qn = q[n]
        x_new[n, 0] = x[n, 0] + d * x[n, 2]
        x_new[n, 1] = x[n, 1] + d * x[n, 3]
        x_new[n, 2] = x[n, 2]
        x_new[n, 3] = x[n, 3]
        for i in range(2):
            for j in range(2):
                a = p[n, i, j]
                b = p[n, i, j + 2]
                bt = p[n, i + 2, j]
                c = p[n, i + 2, j + 2]
                eye = 1.0 if i == j else 0.0
                p_new[n, i, j] = a + d * (b + bt) + d * d * c + qn * eye * d * d * d / 3.0
                p_new[n, i, j + 2] = b + d * c + qn * eye * d * d / 2.0
                p_new[n, i + 2, j] = bt + d * c + qn * eye * d * d / 2.0
                p_new[n, i + 2, j + 2] = c + qn * eye * d


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
    A' = A + dt (B + Bᵀ) + dt² C + Q_A, B' = B + dt C + Q_B, C' = C + Q_C.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    p = np.ascontiguousarray(p, dtype=np.float64)
    x_new = np.empty_like(x)
    p_new = np.empty_like(p)
    _predict(
        x,
        p,
        np.ascontiguousarray(np.broadcast_to(np.asarray(dt, dtype=np.float64), len(x))),
        np.ascontiguousarray(np.broadcast_to(np.asarray(q, dtype=np.float64), len(x))),
        x_new,
        p_new,
    )
    return x_new, p_new

"""The Kalman measurement update for position detections, for many tracks at once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.kernel import kernel


def innovation_covariance(
    p_pos: NDArray[np.float64], r: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """S = H P Hᵀ + R as its three distinct terms (xx, xy, yy), broadcasting track × detection.

    `p_pos` is (..., 2, 2) position covariance, `r` is (..., 3) as (var_xx, var_xy, var_yy).
    """
    return p_pos[..., 0, 0] + r[..., 0], p_pos[..., 0, 1] + r[..., 1], p_pos[..., 1, 1] + r[..., 2]


@kernel
def _update(
    x: NDArray[np.float64],
    p: NDArray[np.float64],
    z: NDArray[np.float64],
    r: NDArray[np.float64],
    x_new: NDArray[np.float64],
    p_new: NDArray[np.float64],
) -> None:
    k = np.empty((4, 2))
    for n in range(x.shape[0]):
        sxx = p[n, 0, 0] + r[n, 0]
        sxy = p[n, 0, 1] + r[n, 1]
        syy = p[n, 1, 1] + r[n, 2]
        det = sxx * syy - sxy * sxy
        i00, i01, i11 = syy / det, -sxy / det, sxx / det
        for i in range(4):  # K = P Hᵀ S⁻¹, P Hᵀ = first two columns of P
            k[i, 0] = p[n, i, 0] * i00 + p[n, i, 1] * i01
            k[i, 1] = p[n, i, 0] * i01 + p[n, i, 1] * i11
        nx = z[n, 0] - x[n, 0]
        ny = z[n, 1] - x[n, 1]
        for i in range(4):
            x_new[n, i] = x[n, i] + k[i, 0] * nx + k[i, 1] * ny
        for i in range(4):
            for j in range(i, 4):
                v = p[n, i, j] - (k[i, 0] * p[n, j, 0] + k[i, 1] * p[n, j, 1])
                w = p[n, j, i] - (k[j, 0] * p[n, i, 0] + k[j, 1] * p[n, i, 1])
                p_new[n, i, j] = p_new[n, j, i] = 0.5 * (v + w)


def update(
    x: NDArray[np.float64],
    p: NDArray[np.float64],
    z: NDArray[np.float64],
    r: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Posterior states (n, 4) and covariances (n, 4, 4) after position measurements z (n, 2).

    `r` is (n, 3) as (var_xx, var_xy, var_yy). H = [I 0]; the 2×2 innovation covariance is
    inverted in closed form, and the covariance update uses P - K S Kᵀ = P - K (P Hᵀ)ᵀ,
    symmetrised against round-off.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    p = np.ascontiguousarray(p, dtype=np.float64)
    x_new = np.empty_like(x)
    p_new = np.empty_like(p)
    _update(x, p, np.ascontiguousarray(z), np.ascontiguousarray(r), x_new, p_new)
    return x_new, p_new

"""The Kalman measurement update for position detections, for many tracks at once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def innovation_covariance(
    p_pos: NDArray[np.float64], r: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """S = H P Hᵀ + R as its three distinct terms (xx, xy, yy), broadcasting track × detection.

    `p_pos` is (..., 2, 2) position covariance, `r` is (..., 3) as (var_xx, var_xy, var_yy).
    """
    return p_pos[..., 0, 0] + r[..., 0], p_pos[..., 0, 1] + r[..., 1], p_pos[..., 1, 1] + r[..., 2]


def update(
    x: NDArray[np.float64],
    p: NDArray[np.float64],
    z: NDArray[np.float64],
    r: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Posterior states (n, 4) and covariances (n, 4, 4) after position measurements z (n, 2).

    H = [I 0]; the 2×2 innovation covariance is inverted in closed form, and the covariance
    update uses P - K S Kᵀ = P - (P Hᵀ) S⁻¹ (P Hᵀ)ᵀ, symmetrised against round-off.
    """
    sxx, sxy, syy = innovation_covariance(p[:, :2, :2], r)
    det = sxx * syy - sxy * sxy
    # Written out element-wise: numpy's batched matmul is slow for many tiny matrices.
    i00, i01, i11 = (syy / det)[:, None], (-sxy / det)[:, None], (sxx / det)[:, None]
    ph0, ph1 = p[:, :, 0], p[:, :, 1]  # columns of P Hᵀ, (n, 4) each
    k0 = ph0 * i00 + ph1 * i01
    k1 = ph0 * i01 + ph1 * i11
    nu = z - x[:, :2]
    x_new = x + k0 * nu[:, 0:1] + k1 * nu[:, 1:2]
    p_new = p - (k0[:, :, None] * ph0[:, None, :] + k1[:, :, None] * ph1[:, None, :])
    p_new = 0.5 * (p_new + p_new.transpose(0, 2, 1))
    return x_new, p_new

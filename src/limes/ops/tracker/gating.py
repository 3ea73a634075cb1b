"""Gating: which detections may belong to which track, by χ² on the Mahalanobis distance."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.kalman import innovation_covariance


def mahalanobis_squared(
    x_pred: NDArray[np.float64],
    p_pred: NDArray[np.float64],
    z: NDArray[np.float64],
    r: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Squared Mahalanobis distance of every detection from every predicted track, (T, D).

    S_ij = P_i,pos + R_j; d² = νᵀ S⁻¹ ν with the 2×2 inverse written out, so the whole
    tracks × detections matrix is a handful of broadcast array operations.
    """
    nx = z[None, :, 0] - x_pred[:, None, 0]
    ny = z[None, :, 1] - x_pred[:, None, 1]
    sxx, sxy, syy = innovation_covariance(p_pred[:, None, :2, :2], r[None, :, :])
    det = sxx * syy - sxy * sxy
    d2: NDArray[np.float64] = (syy * nx * nx - 2.0 * sxy * nx * ny + sxx * ny * ny) / det
    return d2


class MahalanobisGate:
    """Keeps the track-detection pairs whose squared Mahalanobis distance is under a χ² bound."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def costs(
        self,
        x_pred: NDArray[np.float64],
        p_pred: NDArray[np.float64],
        z: NDArray[np.float64],
        r: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """d² for gated pairs, +inf for the others, shape (T, D)."""
        d2 = mahalanobis_squared(x_pred, p_pred, z, r)
        d2[~(d2 < self.threshold)] = np.inf
        return d2

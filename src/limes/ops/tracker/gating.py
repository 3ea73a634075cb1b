"""Gating: which detections may belong to which track, by χ² on the Mahalanobis distance."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.kalman import innovation_covariance
from limes.ops.tracker.kernel import kernel


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


@kernel
def _gated_pairs(
    xp: NDArray[np.float64],
    pp: NDArray[np.float64],
    z: NDArray[np.float64],
    r: NDArray[np.float64],
    threshold: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    n_t, n_d = xp.shape[0], z.shape[0]
    # Per-axis bound: |ν_x| ≤ sqrt(γ S_xx) inside the gate, and S_xx ≤ P_xx + max R_xx. The
    # detections are sorted by x, so each track visits only those within its x bound (two
    # binary searches) and skips most of the rest on the y bound before the 2×2 solve:
    # O((T + D) log D + pairs near each track) instead of T × D.
    r_xx_max = 0.0
    r_yy_max = 0.0
    for j in range(n_d):
        r_xx_max = max(r_xx_max, r[j, 0])
        r_yy_max = max(r_yy_max, r[j, 2])
    order = np.argsort(z[:, 0])
    zx = z[order, 0]
    cap = max(16, n_t * 4)
    rows = np.empty(cap, np.int64)
    cols = np.empty(cap, np.int64)
    dist = np.empty(cap, np.float64)
    n = 0
    for i in range(n_t):
        bx = np.sqrt(threshold * (pp[i, 0] + r_xx_max))
        by = np.sqrt(threshold * (pp[i, 2] + r_yy_max))
        lo = np.searchsorted(zx, xp[i, 0] - bx, side="left")
        hi = np.searchsorted(zx, xp[i, 0] + bx, side="right")
        for k in range(lo, hi):
            j = order[k]
            nx = z[j, 0] - xp[i, 0]
            if nx > bx or nx < -bx:
                continue
            ny = z[j, 1] - xp[i, 1]
            if ny > by or ny < -by:
                continue
            sxx = pp[i, 0] + r[j, 0]
            sxy = pp[i, 1] + r[j, 1]
            syy = pp[i, 2] + r[j, 2]
            d2 = (syy * nx * nx - 2.0 * sxy * nx * ny + sxx * ny * ny) / (sxx * syy - sxy * sxy)
            if d2 < threshold:
                if n == cap:
                    cap *= 2
                    rows = np.concatenate((rows, np.empty(cap - n, np.int64)))
                    cols = np.concatenate((cols, np.empty(cap - n, np.int64)))
                    dist = np.concatenate((dist, np.empty(cap - n, np.float64)))
                rows[n] = i
                cols[n] = j
                dist[n] = d2
                n += 1
    return rows[:n], cols[:n], dist[:n]


class MahalanobisGate:
    """Keeps the track-detection pairs whose squared Mahalanobis distance is under a χ² bound."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def pairs(
        self,
        x_pred: NDArray[np.float64],
        p_pred: NDArray[np.float64],
        z: NDArray[np.float64],
        r: NDArray[np.float64],
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """(track index, detection index, d²) of every pair inside the gate."""
        if len(x_pred) == 0 or len(z) == 0:
            empty = np.empty(0, dtype=np.intp)
            return empty, empty, np.empty(0)
        pos = np.column_stack([p_pred[:, 0, 0], p_pred[:, 0, 1], p_pred[:, 1, 1]])
        rows, cols, d2 = _gated_pairs(
            np.ascontiguousarray(x_pred[:, :2]),
            pos,
            np.ascontiguousarray(z),
            np.ascontiguousarray(r),
            float(self.threshold),
        )
        return rows.astype(np.intp), cols.astype(np.intp), d2

    def costs(
        self,
        x_pred: NDArray[np.float64],
        p_pred: NDArray[np.float64],
        z: NDArray[np.float64],
        r: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """d² for gated pairs, +inf for the others, shape (T, D)."""
        out = np.full((len(x_pred), len(z)), np.inf)
        rows, cols, d2 = self.pairs(x_pred, p_pred, z, r)
        out[rows, cols] = d2
        return out

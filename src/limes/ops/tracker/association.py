"""Global nearest neighbour: the cheapest one-to-one pairing, solved cluster by cluster."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

_EMPTY = np.empty(0, dtype=np.intp)


def _solve_cluster(
    cost: NDArray[np.float64], miss_cost: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    # Each track may also take its own "missed" column (cost miss_cost); a detection left over
    # costs nothing (it goes to the initiator). Forbidden pairs are +inf, which scipy honours.
    n_rows, n_cols = cost.shape
    miss = np.full((n_rows, n_rows), np.inf)
    np.fill_diagonal(miss, miss_cost)
    rows, cols = linear_sum_assignment(np.hstack([cost, miss]))
    real = cols < n_cols
    return rows[real].astype(np.intp), cols[real].astype(np.intp)


def assign(
    cost: NDArray[np.float64], miss_cost: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Optimal track → detection assignment: minimise Σ cost(pairs) + miss_cost × unpaired tracks.

    `cost` is (T, D) with +inf where a pair is not allowed (outside the gate). The gated graph
    is split into connected clusters; a pair that is alone in its row and column is taken
    directly, every other cluster gets its own small `linear_sum_assignment`.
    Returns (track indices, detection indices) of the pairs.
    """
    gated = np.isfinite(cost)
    r, c = np.nonzero(gated)
    if r.size == 0:
        return _EMPTY, _EMPTY
    row_deg = np.bincount(r, minlength=cost.shape[0])
    col_deg = np.bincount(c, minlength=cost.shape[1])
    lone = (row_deg[r] == 1) & (col_deg[c] == 1)
    out_r = [r[lone]]
    out_c = [c[lone]]
    r2, c2 = r[~lone], c[~lone]
    if r2.size:
        n_rows = cost.shape[0]
        graph = coo_matrix(
            (np.ones(r2.size), (r2, c2 + n_rows)), shape=(n_rows + cost.shape[1],) * 2
        )
        _, labels = connected_components(graph, directed=False)
        pair_label = labels[r2]
        order = np.argsort(pair_label, kind="stable")
        bounds = np.flatnonzero(np.diff(pair_label[order])) + 1
        for group in np.split(order, bounds):
            rows = np.unique(r2[group])
            cols = np.unique(c2[group])
            sub_r, sub_c = _solve_cluster(cost[np.ix_(rows, cols)], miss_cost)
            out_r.append(rows[sub_r])
            out_c.append(cols[sub_c])
    return np.concatenate(out_r), np.concatenate(out_c)


class GlobalNearestNeighbour:
    """Pairs tracks with detections by `assign`, a missed track costing the gate threshold."""

    def __init__(self, miss_cost: float) -> None:
        self.miss_cost = miss_cost

    def associate(self, cost: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(track indices, detection indices) of the chosen pairs."""
        return assign(cost, self.miss_cost)

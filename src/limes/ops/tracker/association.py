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

    `cost` is (T, D) with +inf where a pair is not allowed (outside the gate).
    Returns (track indices, detection indices) of the pairs.
    """
    r, c = np.nonzero(np.isfinite(cost))
    return assign_pairs(r, c, cost[r, c], cost.shape[0], cost.shape[1], miss_cost)


def assign_pairs(
    r: NDArray[np.intp],
    c: NDArray[np.intp],
    cost: NDArray[np.float64],
    n_rows: int,
    n_cols: int,
    miss_cost: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """`assign` for a sparse list of allowed pairs (row r[k], column c[k], cost[k]).

    The gated graph is split into connected clusters; a pair alone in its row and column is
    taken directly, every other cluster gets its own small `linear_sum_assignment`.
    """
    if r.size == 0:
        return _EMPTY, _EMPTY
    row_deg = np.bincount(r, minlength=n_rows)
    col_deg = np.bincount(c, minlength=n_cols)
    lone = (row_deg[r] == 1) & (col_deg[c] == 1)
    out_r = [r[lone]]
    out_c = [c[lone]]
    rest = ~lone
    r2, c2, cost2 = r[rest], c[rest], cost[rest]
    if r2.size:
        graph = coo_matrix((np.ones(r2.size), (r2, c2 + n_rows)), shape=(n_rows + n_cols,) * 2)
        _, labels = connected_components(graph, directed=False)
        pair_label = labels[r2]
        order = np.argsort(pair_label, kind="stable")
        bounds = np.flatnonzero(np.diff(pair_label[order])) + 1
        for group in np.split(order, bounds):
            rows, local_r = np.unique(r2[group], return_inverse=True)
            cols, local_c = np.unique(c2[group], return_inverse=True)
            dense = np.full((rows.size, cols.size), np.inf)
            dense[local_r, local_c] = cost2[group]
            sub_r, sub_c = _solve_cluster(dense, miss_cost)
            out_r.append(rows[sub_r])
            out_c.append(cols[sub_c])
    return np.concatenate(out_r), np.concatenate(out_c)


class GlobalNearestNeighbour:
    """Pairs tracks with detections by `assign`, a missed track costing the gate threshold."""

    def __init__(self, miss_cost: float) -> None:
        self.miss_cost = miss_cost

    def associate(
        self,
        r: NDArray[np.intp],
        c: NDArray[np.intp],
        cost: NDArray[np.float64],
        n_tracks: int,
        n_detections: int,
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(track indices, detection indices) chosen among the gated pairs (r, c, cost)."""
        return assign_pairs(r, c, cost, n_tracks, n_detections, self.miss_cost)

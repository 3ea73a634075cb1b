"""Global nearest neighbour: the cheapest one-to-one pairing, solved cluster by cluster."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.kernel import kernel

_EMPTY = np.empty(0, dtype=np.intp)


@kernel
def _lsap(cost: NDArray[np.float64]) -> NDArray[np.int64]:
    """Column of each row in the minimum-cost assignment of a dense (rows ≤ columns) matrix.

    The shortest augmenting path method (Crouse 2016, as in scipy's `linear_sum_assignment`,
    with the same scan order, so ties go the same way); +inf marks a forbidden pair. The
    caller guarantees a complete assignment exists (every row has its own finite miss column).
    """
    nr, nc = cost.shape
    u = np.zeros(nr)
    v = np.zeros(nc)
    shortest = np.empty(nc)
    path = np.full(nc, -1, np.int64)
    col4row = np.full(nr, -1, np.int64)
    row4col = np.full(nc, -1, np.int64)
    sr = np.zeros(nr, np.bool_)
    sc = np.zeros(nc, np.bool_)
    remaining = np.empty(nc, np.int64)
    for cur in range(nr):
        min_val = 0.0
        n_rem = nc
        for it in range(nc):
            remaining[it] = nc - it - 1
        sr[:] = False
        sc[:] = False
        shortest[:] = np.inf
        sink = -1
        i = cur
        while sink == -1:
            index = -1
            lowest = np.inf
            sr[i] = True
            for it in range(n_rem):
                j = remaining[it]
                r = min_val + cost[i, j] - u[i] - v[j]
                if r < shortest[j]:
                    path[j] = i
                    shortest[j] = r
                if shortest[j] < lowest or (shortest[j] == lowest and row4col[j] == -1):
                    lowest = shortest[j]
                    index = it
            min_val = lowest
            if index < 0 or min_val == np.inf:
                return col4row  # infeasible: cannot happen with miss columns
            j = remaining[index]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            sc[j] = True
            n_rem -= 1
            remaining[index] = remaining[n_rem]
        u[cur] += min_val
        for i in range(nr):
            if sr[i] and i != cur:
                u[i] += min_val - shortest[col4row[i]]
        for j in range(nc):
            if sc[j]:
                v[j] -= min_val - shortest[j]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            nxt = col4row[i]
            col4row[i] = j
            j = nxt
            if i == cur:
                break
    return col4row


@kernel
def _find(parent: NDArray[np.int64], a: int) -> int:
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@kernel
def _assign_pairs(
    r: NDArray[np.int64],
    c: NDArray[np.int64],
    cost: NDArray[np.float64],
    n_rows: int,
    n_cols: int,
    miss_cost: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    # Clusters by union-find over rows (0..n_rows) and columns (n_rows + j); each cluster
    # becomes a dense (rows × (columns + rows)) matrix whose extra columns are the rows' own
    # "missed" choices (miss_cost on the diagonal, forbidden elsewhere).
    parent = np.arange(n_rows + n_cols)
    for k in range(r.size):
        a = _find(parent, r[k])
        b = _find(parent, n_rows + c[k])
        if a != b:
            parent[max(a, b)] = min(a, b)
    label = np.empty(r.size, np.int64)
    for k in range(r.size):
        label[k] = _find(parent, r[k])
    order = np.argsort(label, kind="mergesort")
    out_r = np.empty(min(n_rows, n_cols), np.int64)
    out_c = np.empty(min(n_rows, n_cols), np.int64)
    n_out = 0
    local_r = np.full(n_rows, -1, np.int64)
    local_c = np.full(n_cols, -1, np.int64)
    start = 0
    while start < order.size:
        stop = start + 1
        while stop < order.size and label[order[stop]] == label[order[start]]:
            stop += 1
        if stop - start == 1:  # a pair alone in its row and column
            k = order[start]
            if cost[k] < miss_cost:
                out_r[n_out] = r[k]
                out_c[n_out] = c[k]
                n_out += 1
            start = stop
            continue
        members = order[start:stop]
        rows = np.unique(r[members])
        cols = np.unique(c[members])
        nr, nc = rows.size, cols.size
        for a in range(nr):
            local_r[rows[a]] = a
        for b in range(nc):
            local_c[cols[b]] = b
        dense = np.full((nr, nc + nr), np.inf)
        for k in members:
            dense[local_r[r[k]], local_c[c[k]]] = cost[k]
        for a in range(nr):
            dense[a, nc + a] = miss_cost
        col4row = _lsap(dense)
        for a in range(nr):
            b = col4row[a]
            if 0 <= b < nc:
                out_r[n_out] = rows[a]
                out_c[n_out] = cols[b]
                n_out += 1
        for a in range(nr):
            local_r[rows[a]] = -1
        for b in range(nc):
            local_c[cols[b]] = -1
        start = stop
    return out_r[:n_out], out_c[:n_out]


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

    The gated graph is split into connected clusters (union-find); a pair alone in its row and
    column is taken directly (when cheaper than a miss), every other cluster gets its own
    dense shortest-augmenting-path assignment. One compiled call for the whole scan: no Python
    per cluster.
    """
    if r.size == 0:
        return _EMPTY, _EMPTY
    rows, cols = _assign_pairs(
        np.asarray(r, dtype=np.int64),
        np.asarray(c, dtype=np.int64),
        np.asarray(cost, dtype=np.float64),
        int(n_rows),
        int(n_cols),
        float(miss_cost),
    )
    return rows.astype(np.intp), cols.astype(np.intp)


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

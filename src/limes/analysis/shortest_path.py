"""Shortest paths over a raster: a compiled Dijkstra on an 8-connected grid with node costs.

A move between neighbouring cells a → b costs `half[a] + half[b]`, where `half` is the cost of
half a step in a cell, one array for straight steps and one for diagonal ones. With
`half = ½·(c·L + k)`, c a cost per metre, L the step length and k a cost paid once per cell
crossed, a straight line through a cell costs c·L + k; with k = 0 this is exactly
scikit-image's `MCP_Geometric` (mean of the two node costs times the step length). Edges are
symmetric, so one run from the goal gives every cell's cost to the goal, and the predecessor
of each cell is its next step toward it. Non-finite half costs are impassable.

With `corners=True` a diagonal step may not slip for free between the two cells it brushes
(the orthogonal neighbours o₁, o₂ that share the corner it passes): it costs at least what the
orthogonal detour through the cheaper of them charges in that cell,

    w(a → b) = max(half_diag[a] + half_diag[b], 2 · min(half_orth[o₁], half_orth[o₂])),

so a one-cell-wide diagonal line of costly cells (a line of sight's speckle, a staircase of
seen cells) costs as much to cross diagonally as straight, and two impassable cells touching
at a corner close the step. Every weight stays a non-decreasing function of the cell costs, so
raising any cell's cost never lowers any least cost (the analysis' monotonicity).

The heap is an indexed binary heap with decrease-key: one slot per cell, no duplicates, so
memory is three integer arrays the size of the grid whatever the graph.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]

SQRT2 = math.sqrt(2.0)
_DR = np.array([-1, 1, 0, 0, -1, -1, 1, 1], dtype=np.int64)
_DC = np.array([0, 0, -1, 1, -1, 1, -1, 1], dtype=np.int64)


def half_steps(
    per_m: ArrayLike, cell_m: float, per_cell: ArrayLike = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Half-step costs (straight, diagonal) from a cost per metre and a cost per cell crossed."""
    c = np.asarray(per_m, dtype=float)
    k = np.broadcast_to(np.asarray(per_cell, dtype=float), c.shape)
    return 0.5 * (c * cell_m + k), 0.5 * (c * (cell_m * SQRT2) + k)


@nb.njit(cache=True, inline="always")
def _before(dist: FloatArray, tie: FloatArray, a: int, b: int) -> bool:
    """Whether node a comes strictly before node b: by cost, then by the tie-breaker."""
    return dist[a] < dist[b] or (dist[a] == dist[b] and tie[a] < tie[b])


@nb.njit(cache=True, inline="always")
def _sift_up(heap: IndexArray, pos: IndexArray, dist: FloatArray, tie: FloatArray, i: int) -> None:
    node = heap[i]
    while i > 0:
        parent = (i - 1) >> 1
        pn = heap[parent]
        if not _before(dist, tie, node, pn):
            break
        heap[i] = pn
        pos[pn] = i
        i = parent
    heap[i] = node
    pos[node] = i


@nb.njit(cache=True, inline="always")
def _sift_down(
    heap: IndexArray, pos: IndexArray, dist: FloatArray, tie: FloatArray, i: int, size: int
) -> None:
    node = heap[i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _before(dist, tie, heap[right], heap[child]):
            child = right
        cn = heap[child]
        if not _before(dist, tie, cn, node):
            break
        heap[i] = cn
        pos[cn] = i
        i = child
    heap[i] = node
    pos[node] = i


@nb.njit(cache=True)
def _dijkstra(
    half_orth: FloatArray,
    half_diag: FloatArray,
    tie_orth: FloatArray,
    tie_diag: FloatArray,
    width: int,
    seeds: IndexArray,
    seed_cost: FloatArray,
    limit: float,
    corners: bool,
    dist: FloatArray,
    tie: FloatArray,
    pred: IndexArray,
) -> None:
    n = half_orth.size
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)  # -1 never queued, -2 settled
    height = n // width
    size = 0
    for i in range(seeds.size):
        s = seeds[i]
        c = seed_cost[i]
        if not (half_orth[s] < np.inf) or not (c < dist[s]):
            continue
        dist[s] = c
        tie[s] = 0.0
        pred[s] = -1
        if pos[s] == -1:
            heap[size] = s
            pos[s] = size
            size += 1
        _sift_up(heap, pos, dist, tie, pos[s])
    while size > 0:
        u = heap[0]
        size -= 1
        if size > 0:
            heap[0] = heap[size]
            pos[heap[0]] = 0
            _sift_down(heap, pos, dist, tie, 0, size)
        pos[u] = -2
        du = dist[u]
        if du > limit:
            break
        r = u // width
        c = u - r * width
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if rr < 0 or rr >= height or cc < 0 or cc >= width:
                continue
            v = rr * width + cc
            if pos[v] == -2:
                continue
            if k < 4:
                w = half_orth[u] + half_orth[v]
                wt = tie_orth[u] + tie_orth[v]
            else:
                w = half_diag[u] + half_diag[v]
                wt = tie_diag[u] + tie_diag[v]
                if corners:
                    # The two cells sharing the corner this step passes: (rr, c) and (r, cc).
                    squeeze = 2.0 * min(half_orth[rr * width + c], half_orth[r * width + cc])
                    if squeeze > w:
                        w = squeeze
            if not (w < np.inf):
                continue
            nd = du + w
            nt = tie[u] + wt
            if nd < dist[v] or (nd == dist[v] and nt < tie[v]):
                dist[v] = nd
                tie[v] = nt
                pred[v] = u
                if pos[v] == -1:
                    heap[size] = v
                    pos[v] = size
                    size += 1
                _sift_up(heap, pos, dist, tie, pos[v])


def shortest_paths(
    half_orth: ArrayLike,
    half_diag: ArrayLike,
    seeds: ArrayLike,
    seed_cost: ArrayLike | None = None,
    limit: float = math.inf,
    ties: tuple[ArrayLike, ArrayLike] | None = None,
    *,
    corners: bool = False,
) -> tuple[FloatArray, IndexArray]:
    """Least cost from the nearest seed to every cell, and each cell's predecessor.

    `half_orth`/`half_diag` are (rows, cols) half-step costs; `seeds` are flat cell indices
    (or a boolean mask) with optional starting costs. Unreached cells get +inf and predecessor
    −1, as do cells beyond `limit` (the search stops there). Predecessors are flat indices.
    `ties` (half-step arrays like the costs) break ties between paths of equal cost: among
    them the one least in the tie-breaker wins (e.g. the faster of two unseen crossings).
    `corners` charges diagonal steps for the corner they pass (module docstring).
    """
    ho = np.ascontiguousarray(half_orth, dtype=np.float64)
    hd = np.ascontiguousarray(half_diag, dtype=np.float64)
    if ho.shape != hd.shape or ho.ndim != 2:
        raise ValueError(
            f"half-step cost grids must share one 2-D shape, got {ho.shape}, {hd.shape}"
        )
    s = np.asarray(seeds)
    if s.dtype == bool:
        if s.shape != ho.shape:
            raise ValueError(f"seed mask shape {s.shape} differs from the grid {ho.shape}")
        s = np.flatnonzero(s)
    s = np.ascontiguousarray(s, dtype=np.int64).ravel()
    if s.size and (s.min() < 0 or s.max() >= ho.size):
        raise ValueError("seed index outside the grid")
    sc = (
        np.zeros(s.size)
        if seed_cost is None
        else np.ascontiguousarray(np.broadcast_to(np.asarray(seed_cost, float), s.shape))
    )
    if ties is None:
        to = td = np.zeros(ho.size)
    else:
        to = np.ascontiguousarray(np.broadcast_to(np.asarray(ties[0], float), ho.shape)).ravel()
        td = np.ascontiguousarray(np.broadcast_to(np.asarray(ties[1], float), ho.shape)).ravel()
    dist = np.full(ho.size, np.inf)
    tie = np.full(ho.size, np.inf)
    pred = np.full(ho.size, -1, dtype=np.int64)
    _dijkstra(
        ho.ravel(),
        hd.ravel(),
        to,
        td,
        ho.shape[1],
        s,
        sc,
        float(limit),
        bool(corners),
        dist,
        tie,
        pred,
    )
    return dist.reshape(ho.shape), pred.reshape(ho.shape)


def trace(pred: ArrayLike, start: int) -> IndexArray:
    """Flat cell indices from `start` following predecessors to a seed (inclusive)."""
    p = np.asarray(pred).ravel()
    out = [int(start)]
    while p[out[-1]] >= 0:
        out.append(int(p[out[-1]]))
        if len(out) > p.size:
            raise ValueError("predecessor pointers form a cycle")
    return np.asarray(out, dtype=np.int64)

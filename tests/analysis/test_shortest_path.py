"""Our Dijkstra against scipy's on random grids: identical costs, consistent predecessors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from limes.analysis.shortest_path import half_steps, shortest_paths, trace


def scipy_costs(
    ho: np.ndarray, hd: np.ndarray, seeds: np.ndarray, seed_cost: np.ndarray
) -> np.ndarray:
    """The same graph for scipy: a super-source joined to each seed by its starting cost."""
    h, w = ho.shape
    n = h * w
    src, dst, wt = [], [], []
    for dr, dc, half in ((0, 1, ho), (1, 0, ho), (1, 1, hd), (1, -1, hd)):
        r, c = np.mgrid[0:h, 0:w]
        rr, cc = r + dr, c + dc
        ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        a = (r * w + c)[ok]
        b = (rr * w + cc)[ok]
        cost = half.ravel()[a] + half.ravel()[b]
        fin = np.isfinite(cost) & np.isfinite(half.ravel()[a])
        src += [a[fin], b[fin]]
        dst += [b[fin], a[fin]]
        wt += [cost[fin], cost[fin]]
    s = np.concatenate([*src, np.full(len(seeds), n)])
    d = np.concatenate([*dst, seeds])
    # csgraph drops explicit zeros; a tiny offset on the super-source edges is removed below.
    c = np.concatenate([*wt, seed_cost + 1.0])
    g = coo_matrix((c, (s, d)), shape=(n + 1, n + 1)).tocsr()
    return dijkstra(g, directed=True, indices=n)[:n].reshape(h, w) - 1.0


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 25),
    st.integers(2, 25),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 0.4),
)
def test_costs_match_scipy_on_random_grids(h: int, w: int, seed: int, blocked: float) -> None:
    rng = np.random.default_rng(seed)
    per_m = rng.uniform(0.0, 5.0, (h, w))
    per_m[rng.random((h, w)) < blocked] = np.inf
    per_cell = rng.uniform(0.0, 30.0, (h, w))
    ho, hd = half_steps(per_m, 7.0, per_cell)
    seeds = np.unique(rng.integers(0, h * w, size=rng.integers(1, 4)))
    seeds = seeds[np.isfinite(ho.ravel()[seeds])]
    if seeds.size == 0:
        return
    seed_cost = rng.uniform(0.0, 10.0, seeds.size)
    ours, pred = shortest_paths(ho, hd, seeds, seed_cost)
    ref = scipy_costs(ho, hd, seeds, seed_cost)
    assert np.array_equal(np.isinf(ours), np.isinf(ref))
    fin = np.isfinite(ref)
    assert np.allclose(ours[fin], ref[fin], rtol=1e-12, atol=1e-9)
    # Every reached cell's predecessor chain ends at a seed and adds up to its cost.
    for cell in rng.choice(np.flatnonzero(fin.ravel()), size=min(5, int(fin.sum())), replace=False):
        path = trace(pred, int(cell))
        assert path[-1] in seeds


def test_among_equal_costs_the_tie_breaker_picks_the_shortest_way() -> None:
    zero = np.zeros((5, 8))
    ho, hd = half_steps(np.ones((5, 8)), 1.0)
    _, pred = shortest_paths(zero, zero, np.array([0]), ties=(ho, hd))
    path = trace(pred, 39)
    r, c = path // 8, path % 8
    steps = np.hypot(np.diff(r), np.diff(c)).sum()
    assert steps == pytest.approx(4 * np.sqrt(2) + 3)


def test_bad_seed_is_a_clear_error() -> None:
    ho, hd = half_steps(np.ones((3, 3)), 1.0)
    with pytest.raises(ValueError, match="seed index outside the grid"):
        shortest_paths(ho, hd, np.array([9]))


def test_mcp_geometric_gives_the_same_costs() -> None:
    graph = pytest.importorskip("skimage.graph")
    rng = np.random.default_rng(3)
    cost = rng.uniform(0.5, 3.0, (40, 60))
    mcp = graph.MCP_Geometric(cost, fully_connected=True, sampling=(25.0, 25.0))
    ref, _ = mcp.find_costs([(0, 0), (39, 59)])
    ho, hd = half_steps(cost, 25.0)
    ours, _ = shortest_paths(ho, hd, np.array([0, 40 * 60 - 1]))
    assert np.allclose(ours, ref, rtol=1e-12)


def corner_costs(ho: np.ndarray, hd: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """scipy's Dijkstra over the graph whose diagonal edges carry the corner charge."""
    h, w = ho.shape
    n = h * w
    src, dst, wt = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        for r in range(h):
            for c in range(w):
                rr, cc = r + dr, c + dc
                if not (0 <= rr < h and 0 <= cc < w):
                    continue
                if dr and dc:
                    cost = max(hd[r, c] + hd[rr, cc], 2 * min(ho[rr, c], ho[r, cc]))
                else:
                    cost = ho[r, c] + ho[rr, cc]
                if np.isfinite(cost):
                    src += [r * w + c, rr * w + cc]
                    dst += [rr * w + cc, r * w + c]
                    wt += [cost + 1e-300, cost + 1e-300]  # csgraph drops explicit zeros
    g = coo_matrix((wt, (src, dst)), shape=(n, n)).tocsr()
    return dijkstra(g, directed=True, indices=seeds, min_only=True).reshape(h, w)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12), st.integers(0, 2**32 - 1), st.floats(0.0, 0.3))
def test_corner_charged_costs_match_scipy_on_the_explicit_graph(
    h: int, w: int, seed: int, blocked: float
) -> None:
    rng = np.random.default_rng(seed)
    per_m = rng.uniform(0.0, 5.0, (h, w)) * (rng.random((h, w)) < 0.5)  # speckle
    per_m[rng.random((h, w)) < blocked] = np.inf
    ho, hd = half_steps(per_m, 3.0)
    seeds = np.flatnonzero(np.isfinite(ho[:, 0]) & (np.arange(h) % 2 == 0)) * w
    if seeds.size == 0:
        return
    ours, _ = shortest_paths(ho, hd, seeds, corners=True)
    ref = corner_costs(ho, hd, seeds)
    assert np.array_equal(np.isinf(ours), np.isinf(ref))
    fin = np.isfinite(ref)
    assert np.allclose(ours[fin], ref[fin], rtol=1e-12, atol=1e-9)


def test_a_one_cell_wide_diagonal_line_stops_a_diagonal_crossing() -> None:
    # Cells on the anti-diagonal r + c = 9 are costly; they touch only at corners, so without
    # the corner charge a diagonal walk from the top-left to the bottom-right slips through free.
    n, line = 10, 5.0
    per_m = np.zeros((n, n))
    r, c = np.mgrid[0:n, 0:n]
    per_m[r + c == n - 1] = line
    ho, hd = half_steps(per_m, 1.0)
    free, _ = shortest_paths(ho, hd, np.array([0]))
    assert free[-1, -1] == 0.0
    charged, _ = shortest_paths(ho, hd, np.array([0]), corners=True)
    # At least a straight pass through one line cell, and no more (that detour exists).
    assert charged[-1, -1] == pytest.approx(line)
    # Every other cell across the line pays it too.
    assert (charged[r + c > n - 1] >= line - 1e-12).all()


def test_two_impassable_cells_touching_at_a_corner_close_the_diagonal_step() -> None:
    per_m = np.ones((2, 2))
    per_m[0, 1] = per_m[1, 0] = np.inf
    ho, hd = half_steps(per_m, 1.0)
    assert np.isfinite(shortest_paths(ho, hd, np.array([0]))[0][1, 1])
    assert np.isinf(shortest_paths(ho, hd, np.array([0]), corners=True)[0][1, 1])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 10.0))
def test_raising_a_cells_cost_never_lowers_any_corner_charged_cost(seed: int, extra: float) -> None:
    rng = np.random.default_rng(seed)
    per_m = rng.uniform(0.0, 3.0, (9, 11)) * (rng.random((9, 11)) < 0.4)
    ho, hd = half_steps(per_m, 2.0)
    before, _ = shortest_paths(ho, hd, np.array([0, 98]), corners=True)
    cell = rng.integers(0, per_m.size)
    per_m.ravel()[cell] += extra
    ho, hd = half_steps(per_m, 2.0)
    after, _ = shortest_paths(ho, hd, np.array([0, 98]), corners=True)
    assert (after >= before - 1e-12).all()

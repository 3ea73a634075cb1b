"""A tracker kernel's interpreted and compiled forms give the same answers, and it switches once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limes.ops.tracker import association, gating, kalman, kernel, lifecycle, motion


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, 4, 4)) * 5.0
    return a @ a.transpose(0, 2, 1) + np.eye(4) * 0.1


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12))
def test_prediction_and_update_are_bit_for_bit_the_same_in_both_forms(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x, p = rng.normal(size=(n, 4)) * 100, _spd(rng, n)
    dt, q = rng.uniform(0, 30, n), rng.uniform(0, 5, n)
    z = rng.normal(size=(n, 2)) * 100
    r = np.column_stack([np.full(n, 9.0), rng.uniform(-1, 1, n), np.full(n, 16.0)])
    for k in (motion._predict, kalman._update):
        out_py = (np.empty_like(x), np.empty_like(p))
        out_nb = (np.empty_like(x), np.empty_like(p))
        args = (x, p, dt, q) if k is motion._predict else (x, p, z, r)
        k.py_func(*args, *out_py)
        k.compiled()(*args, *out_nb)
        np.testing.assert_array_equal(out_py[0], out_nb[0])
        np.testing.assert_array_equal(out_py[1], out_nb[1])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_t=st.integers(1, 15), n_d=st.integers(1, 15))
def test_gating_and_clustered_assignment_agree_in_both_forms(seed: int, n_t: int, n_d: int) -> None:
    rng = np.random.default_rng(seed)
    xp, full = rng.uniform(0, 300, (n_t, 4)), _spd(rng, n_t)
    pp = np.column_stack([full[:, 0, 0], full[:, 0, 1], full[:, 1, 1]])  # as the gate passes it
    z = rng.uniform(0, 300, (n_d, 2))
    r = np.column_stack([np.full(n_d, 100.0), np.zeros(n_d), np.full(n_d, 100.0)])
    gated = [
        k(xp, pp, z, r, 9.21) for k in (gating._gated_pairs.py_func, gating._gated_pairs.compiled())
    ]
    for a, b in zip(gated[0], gated[1], strict=True):
        np.testing.assert_array_equal(a, b)
    rows, cols, cost = gated[0]
    args = (rows.astype(np.int64), cols.astype(np.int64), cost, n_t, n_d, 9.21)
    if rows.size:
        py = association._assign_pairs.py_func(*args)
        nb = association._assign_pairs.compiled()(*args)
        np.testing.assert_array_equal(py[0], nb[0])
        np.testing.assert_array_equal(py[1], nb[1])


def test_staleness_is_the_same_in_both_forms() -> None:
    rng = np.random.default_rng(7)
    n = 50
    args = (
        rng.random(n) < 0.8, rng.uniform(0, 100, n), _spd(rng, n), rng.uniform(0, 2, n),
        rng.integers(0, 2, n).astype(np.int8), rng.integers(0, 9, n), rng.integers(0, 5, n),
        120.0, 30.0, 90.0, 5e4, 4, 2, 4,
    )  # fmt: skip
    np.testing.assert_array_equal(
        lifecycle._stale.py_func(*args), lifecycle._stale.compiled()(*args)
    )


def test_kernels_run_interpreted_until_the_budget_is_spent_then_compiled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kernel, "_mode", kernel._Mode())
    monkeypatch.setattr(kernel, "INTERPRETED_BUDGET_S", 0.25)
    calls: list[str] = []
    k = kernel.Kernel(lambda v: calls.append("py") or v)
    monkeypatch.setattr(k, "compiled", lambda: lambda v: calls.append("nb") or v)
    clock = iter(np.arange(0.0, 10.0, 0.1))  # each call takes 0.1 s of "interpreted" time
    monkeypatch.setattr(kernel.time, "perf_counter", lambda: float(next(clock)))
    for _ in range(5):
        k(1)
    # 0.1 s per call: the third call passes the 0.25 s budget, the later ones are compiled.
    assert calls == ["py", "py", "py", "nb", "nb"]
    assert kernel.uses_compiled()


@pytest.mark.parametrize(
    ("spent_s", "done", "total", "compiled"),
    [
        (0.2, 1000, 4000, False),  # the rest, 0.6 s interpreted, costs less than the load
        (0.2, 1000, 10000, True),  # the rest, 1.8 s interpreted, costs more
        (0.0, 0, 10000, False),  # nothing measured yet: no choice made
    ],
)
def test_a_caller_that_knows_the_rest_compiles_only_when_the_rest_costs_more_than_the_load(
    monkeypatch: pytest.MonkeyPatch, spent_s: float, done: int, total: int, compiled: bool
) -> None:
    monkeypatch.setattr(kernel, "_mode", kernel._Mode())
    monkeypatch.setattr(kernel, "LOAD_PRICE_S", 1.0)
    kernel._mode.interpreted_s = spent_s
    assert kernel.compile_if_worth(done, total) is compiled
    assert kernel.uses_compiled() is compiled

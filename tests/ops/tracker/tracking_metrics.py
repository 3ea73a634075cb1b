"""Multi-target tracking metrics: GOSPA (α = 2, with its components) and OSPA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Gospa:
    """GOSPA between two point sets at one time, and the parts it is made of.

    `distance` = (localisation + missed + false)^(1/p); `localisation` is Σ dᵖ over the
    assigned pairs closer than c, `missed` and `false` are cᵖ/2 per unassigned truth and per
    unassigned estimate (Rahmathullah, García-Fernández, Svensson 2017, α = 2).
    """

    distance: float
    localisation: float
    missed: float
    false: float
    n_missed: int
    n_false: int


def _points(a: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(a, dtype=float)
    if arr.size == 0:
        return arr.reshape(0, arr.shape[-1] if arr.ndim == 2 else 2)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be (n, dim) points, got shape {arr.shape}")
    return arr


def _cut_distances(
    truth: NDArray[np.float64], estimates: NDArray[np.float64], c: float
) -> NDArray[np.float64]:
    diff = truth[:, None, :] - estimates[None, :, :]
    out: NDArray[np.float64] = np.minimum(np.sqrt(np.einsum("ijk,ijk->ij", diff, diff)), c)
    return out


def gospa(truth: ArrayLike, estimates: ArrayLike, c: float, p: float = 1.0) -> Gospa:
    """GOSPA (α = 2) of `estimates` against `truth`, both (n, dim) arrays of points."""
    if c <= 0 or p < 1:
        raise ValueError(f"need c > 0 and p >= 1, got c={c}, p={p}")
    x = _points(truth, "truth")
    y = _points(estimates, "estimates")
    half = c**p / 2.0
    loc = 0.0
    n_pairs = 0
    if len(x) and len(y):
        d = _cut_distances(x, y, c)
        rows, cols = linear_sum_assignment(d**p)
        pair_d = d[rows, cols]
        close = pair_d < c  # a pair at the cut-off costs as much as a miss plus a false track
        loc = float(np.sum(pair_d[close] ** p))
        n_pairs = int(close.sum())
    n_missed = len(x) - n_pairs
    n_false = len(y) - n_pairs
    missed, false = half * n_missed, half * n_false
    return Gospa((loc + missed + false) ** (1 / p), loc, missed, false, n_missed, n_false)


def ospa(truth: ArrayLike, estimates: ArrayLike, c: float, p: float = 1.0) -> float:
    """OSPA distance (Schuhmacher, Vo, Vo 2008) between two (n, dim) point sets."""
    if c <= 0 or p < 1:
        raise ValueError(f"need c > 0 and p >= 1, got c={c}, p={p}")
    x = _points(truth, "truth")
    y = _points(estimates, "estimates")
    n = max(len(x), len(y))
    if n == 0:
        return 0.0
    total = c**p * abs(len(x) - len(y))
    if len(x) and len(y):
        d = _cut_distances(x, y, c) ** p
        rows, cols = linear_sum_assignment(d)
        total += float(d[rows, cols].sum())
    return float((total / n) ** (1 / p))


@dataclass(frozen=True)
class GospaSummary:
    """GOSPA components averaged over the times of a run."""

    distance: float
    localisation: float
    missed: float
    false: float
    n_times: int


def mean_gospa(
    truth: Sequence[ArrayLike], estimates: Sequence[ArrayLike], c: float, p: float = 1.0
) -> GospaSummary:
    """Mean GOSPA over paired sequences of point sets (one pair per time)."""
    if len(truth) != len(estimates):
        raise ValueError(f"{len(truth)} truth sets but {len(estimates)} estimate sets")
    per = [gospa(t, e, c, p) for t, e in zip(truth, estimates, strict=True)]
    if not per:
        return GospaSummary(0.0, 0.0, 0.0, 0.0, 0)
    return GospaSummary(
        float(np.mean([g.distance for g in per])),
        float(np.mean([g.localisation for g in per])),
        float(np.mean([g.missed for g in per])),
        float(np.mean([g.false for g in per])),
        len(per),
    )

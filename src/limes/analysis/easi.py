"""EASI along one crossing path: Sandia's Estimate of Adversary Sequence Interruption.

The path is a sequence of steps (here: the cells it crosses). Step i takes `time_s[i]` seconds
on average, of which a barrier delay with standard deviation `delay_sd_s[i]` is random (normal),
and the adversary is detected during it with probability `p_detect[i]`. A detection is taken to
happen half way through its step, so the adversary's remaining time from step i is

    T_i = time_s[i]/2 + Σ_{j>i} time_s[j],   Var T_i = delay_sd_s[i]²/4 + Σ_{j>i} delay_sd_s[j]².

The response to a detection at step i is normal with mean μ_i and spread σ_i (the unit group
that gives the best chance there), so the detection is timely with probability

    P_timely,i = Φ((T_i − μ_i) / √(σ_i² + Var T_i)),

and the adversary is interrupted when the *first* detection is timely:

    P(interruption) = Σ_i P_D,i · P_timely,i · Π_{j<i} (1 − P_D,j).

This is exact for the model (independent detections per step, normal delays and response).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PathSteps:
    """The steps of a crossing path with everything EASI and the Monte Carlo need.

    `response_mean_s` is (groups, steps): each unit group's mean response time at each step;
    `response_sd_s` (groups,) their spreads.
    """

    time_s: FloatArray
    delay_sd_s: FloatArray
    p_detect: FloatArray
    response_mean_s: FloatArray
    response_sd_s: FloatArray

    def __post_init__(self) -> None:
        n = len(self.time_s)
        for name in ("delay_sd_s", "p_detect"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} steps, time_s has {n}")
        if self.response_mean_s.ndim != 2 or self.response_mean_s.shape[1] != n:
            raise ValueError("response_mean_s must be (groups, steps)")
        if len(self.response_sd_s) != self.response_mean_s.shape[0]:
            raise ValueError("response_sd_s needs one spread per group")


@dataclass(frozen=True)
class Easi:
    """EASI's answer along a path, with the per-step pieces it summed."""

    p_interruption: float
    p_timely: FloatArray
    remaining_mean_s: FloatArray
    remaining_sd_s: FloatArray
    response_mean_s: FloatArray  # of the group chosen at each step
    response_sd_s: FloatArray

    @property
    def critical_index(self) -> int:
        """The critical detection point: the last step where a detection is still more likely
        timely than not (−1 when none is)."""
        ok = np.flatnonzero(self.p_timely >= 0.5)
        return int(ok[-1]) if ok.size else -1


def remaining_time(time_s: ArrayLike, delay_sd_s: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Mean and variance of the adversary's time left from the middle of each step."""
    t = np.asarray(time_s, dtype=float)
    v = np.asarray(delay_sd_s, dtype=float) ** 2
    after_t = np.concatenate([np.cumsum(t[::-1])[::-1][1:], [0.0]])
    after_v = np.concatenate([np.cumsum(v[::-1])[::-1][1:], [0.0]])
    return after_t + t / 2.0, after_v + v / 4.0


def normal_below(diff: ArrayLike, sd: ArrayLike) -> FloatArray:
    """Φ(diff / sd), elementwise, as a step (1, ½, 0) where sd is zero."""
    d = np.asarray(diff, dtype=float)
    s = np.asarray(sd, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(s > 0, ndtr(d / np.where(s > 0, s, 1.0)), np.sign(d) * 0.5 + 0.5)
    return np.nan_to_num(np.asarray(p, dtype=float), nan=0.0)


def easi(steps: PathSteps) -> Easi:
    """Exact EASI P(interruption) along a path, choosing the best unit group at each step."""
    mean_rem, var_rem = remaining_time(steps.time_s, steps.delay_sd_s)
    n = len(steps.time_s)
    if steps.response_mean_s.shape[0] == 0:
        zero = np.zeros(n)
        return Easi(0.0, zero, mean_rem, np.sqrt(var_rem), np.full(n, np.inf), zero)
    mu = steps.response_mean_s
    sd = np.sqrt(steps.response_sd_s[:, None] ** 2 + var_rem[None, :])
    per_group = normal_below(mean_rem[None, :] - mu, sd)
    best = np.argmax(per_group, axis=0)
    cols = np.arange(n)
    p_timely = per_group[best, cols]
    pd = np.asarray(steps.p_detect, dtype=float)
    undetected_before = np.concatenate([[1.0], np.cumprod(1.0 - pd)[:-1]])
    p = float(np.sum(pd * p_timely * undetected_before))
    return Easi(
        min(max(p, 0.0), 1.0),
        p_timely,
        mean_rem,
        np.sqrt(var_rem),
        mu[best, cols],
        steps.response_sd_s[best],
    )

"""Monte Carlo check of EASI: simulated adversaries walk a path and meet a random response.

Each simulated crossing draws, independently: a detection or not at every step (probability
`p_detect`), the barrier delays of the path (normal, mean and sd per step), and the response
time of the unit sent after the first detection (normal, the step's mean and spread). It is
interrupted when that response arrives before the adversary, who had `T_i` left from the middle
of the detecting step, reaches the goal. Only the first detection matters, so the per-step
Bernoulli draws are taken in one go by inverting the first-detection distribution: with
F_i = 1 − Π_{j≤i}(1 − p_j), the first detection is at the least i with F_i > U, U uniform —
the same law as drawing every step, at O(log n) per crossing instead of O(n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from limes.analysis.easi import PathSteps, easi, remaining_time

FloatArray = NDArray[np.float64]
_CHUNK = 262_144
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class MonteCarlo:
    """Simulated P(interruption) with its 95 % (Wilson) interval."""

    p_interruption: float
    low: float
    high: float
    samples: int


def wilson(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    # At 0 or n successes one end is exactly 0 or 1; centre ∓ half reaches it only up to
    # rounding (1e-18 above 0 at 0 of 300), which would put a P of exactly 0 outside.
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return lo, hi


def simulate(
    steps: PathSteps,
    samples: int = 1_000_000,
    seed: int | np.random.Generator | None = 0,
    response_mean_s: ArrayLike | None = None,
    response_sd_s: ArrayLike | None = None,
) -> MonteCarlo:
    """Simulate `samples` crossings of a path; the response per step defaults to EASI's choice."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if response_mean_s is None or response_sd_s is None:
        e = easi(steps)
        mu = e.response_mean_s
        sig = e.response_sd_s
    else:
        mu = np.asarray(response_mean_s, dtype=float)
        sig = np.asarray(response_sd_s, dtype=float)
    pd = np.clip(np.asarray(steps.p_detect, dtype=float), 0.0, 1.0)
    n = len(pd)
    detected_by = 1.0 - np.cumprod(1.0 - pd)
    mean_rem, _ = remaining_time(steps.time_s, np.zeros(n))
    barrier = np.flatnonzero(np.asarray(steps.delay_sd_s) > 0)
    bsd = np.asarray(steps.delay_sd_s, dtype=float)[barrier]
    hits = 0
    done = 0
    while done < samples:
        m = min(_CHUNK, samples - done)
        first = np.searchsorted(detected_by, rng.random(m), side="right")
        seen = first < n
        i = first[seen]
        left = mean_rem[i]
        if barrier.size:
            dev = rng.standard_normal((i.size, barrier.size)) * bsd
            # Delays after the detecting step count whole, the detecting step's half.
            w = (barrier[None, :] > i[:, None]) + 0.5 * (barrier[None, :] == i[:, None])
            left = left + np.einsum("ij,ij->i", w, dev)
        resp = mu[i] + sig[i] * rng.standard_normal(i.size)
        hits += int(np.count_nonzero(resp < left))
        done += m
    lo, hi = wilson(hits, samples)
    return MonteCarlo(hits / samples, lo, hi, samples)

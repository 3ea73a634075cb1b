"""Track existence by a sequential likelihood-ratio score, from each report's sensor law.

Blackman's track score (Blackman & Popoli 1999, 6.2; Blackman 2004, "Multiple hypothesis
tracking for multiple target tracking"): the log of the ratio between the likelihood that a
track's reports come from one real target and that they are false reports. Each hit adds

    log(Pd · N(ν; 0, S) / λ)          a scanning sensor: Pd per scan, λ false reports per m²
    log(h · N(ν; 0, S) / β)           an event sensor: h detections per s, β per m² per s

each scan of a scanning sensor that saw the track before and missed it adds log(1 − Pd), and
time without a report from the event sensors that saw it costs Σ h · Δt (the log-probability
of a Poisson process giving no event). Thresholds follow Wald's sequential test:
confirmation at log((1 − β)/α), rejection of a tentative track at log(β/(1 − α)); an
established track is deleted once its score falls a fixed drop below its peak.

One fixed M-of-N rule cannot serve both a radar in dense clutter and a thermal camera that sees
a person twice in ten minutes; the score weighs each report by what its sensor is known to do.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.config import TrackerConfig
from limes.ops.tracker.table import COASTING, CONFIRMED, TENTATIVE, TrackTable

_LOG_2PI = float(np.log(2.0 * np.pi))


def position_log_likelihood(
    x: NDArray[np.float64], p: NDArray[np.float64], z: NDArray[np.float64], r: NDArray[np.float64]
) -> NDArray[np.float64]:
    """log N(z; Hx, HPHᵀ + R) for paired predicted states (n, 4), covariances and detections."""
    sxx = p[:, 0, 0] + r[:, 0]
    sxy = p[:, 0, 1] + r[:, 1]
    syy = p[:, 1, 1] + r[:, 2]
    det = sxx * syy - sxy * sxy
    nx, ny = z[:, 0] - x[:, 0], z[:, 1] - x[:, 1]
    d2 = (syy * nx * nx - 2.0 * sxy * nx * ny + sxx * ny * ny) / det
    out: NDArray[np.float64] = -0.5 * d2 - _LOG_2PI - 0.5 * np.log(det)
    return out


class ScoreConfirmer:
    """Keeps each track's score and moves it between tentative, confirmed and coasting."""

    def __init__(self, config: TrackerConfig) -> None:
        self.config = config
        self.confirm = config.confirm_score
        self.reject = config.reject_score
        self.drop = config.delete_drop
        self.birth = config.birth_score

    def declared_evidence(self, confidence: NDArray[np.float64]) -> NDArray[np.float64]:
        """Log-odds the reports' declared confidence adds: log(c / (1 − c)), 0 at c = ½.

        A report's confidence is the sensor's own probability that it saw a real target, taken
        at even prior odds; the score's other terms carry the priors (the sensor's law). A
        confidence of exactly 1 is what a report that declares none is given: it adds nothing.
        Others are held to [0.01, 0.99], so no single report weighs more than ±4.6.
        """
        if not self.config.use_confidence:
            return np.zeros(confidence.shape)
        c = np.clip(confidence, 0.01, 0.99)
        out: NDArray[np.float64] = np.where(confidence >= 1.0, 0.0, np.log(c) - np.log1p(-c))
        return out

    def born(
        self,
        table: TrackTable,
        slots: NDArray[np.intp],
        sensor_id: str,
        t: float,
        confidence: NDArray[np.float64] | None = None,
    ) -> None:
        """Start the score of tracks opened by one report of `sensor_id` at `t`."""
        law = self.config.sensor_law(sensor_id)
        start = np.full(slots.size, self.birth)
        if confidence is not None:
            start += self.declared_evidence(confidence)
        table.score[slots] = start
        table.score_peak[slots] = start
        table.hazard[slots] = law.hazard_per_s or 0.0
        table.t_scored[slots] = t

    def confirms_at_birth(self) -> bool:
        """Whether a single report already confirms a track."""
        return self.birth >= self.confirm

    def decayed(self, table: TrackTable, slots: NDArray[np.intp], t: float) -> NDArray[np.float64]:
        """Scores of `slots` at `t`, after the event sensors' silence since they were scored."""
        quiet = np.maximum(t - table.t_scored[slots], 0.0)
        out: NDArray[np.float64] = table.score[slots] - table.hazard[slots] * quiet
        return out

    def score(
        self,
        table: TrackTable,
        slots: NDArray[np.intp],
        hit: NDArray[np.bool_],
        sensor: int,
        loglik: NDArray[np.float64],
        t: float,
        seen: NDArray[np.bool_],
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Record one scan of sensor column `sensor` at `t` for `slots`.

        `loglik` is the position log-likelihood of each slot's detection (ignored where no
        hit); `seen` whether the sensor had seen each track before this scan. Returns
        (status changed, failed) masks: failed tracks are to be deleted.
        """
        law = self.config.sensor_law(table.sensor_ids[sensor])
        opp = seen | hit
        score = self.decayed(table, slots, t)
        table.t_scored[slots] = np.maximum(table.t_scored[slots], t)
        score = np.where(hit, score + law.hit_log_ratio() + loglik, score)
        if not law.event:
            score = np.where(opp & ~hit, score + law.miss_log_ratio(), score)
        else:
            newly = hit & ~seen
            table.hazard[slots] += np.where(newly, law.hazard_per_s or 0.0, 0.0)
        table.score[slots] = score
        peak = np.maximum(table.score_peak[slots], score)
        table.score_peak[slots] = peak
        table.opportunities[slots] += opp
        table.hits[slots] += hit
        table.misses[slots] += opp & ~hit
        table.missed_run[slots] = np.where(hit, 0, table.missed_run[slots] + opp)
        before = table.status[slots]
        after = before.copy()
        tentative = before == TENTATIVE
        after[tentative & (score >= self.confirm)] = CONFIRMED
        established = ~tentative
        after[established & hit] = CONFIRMED
        after[established & opp & ~hit] = COASTING
        table.status[slots] = after
        failed = np.where(after == TENTATIVE, score < self.reject, score < peak - self.drop)
        return after != before, failed

    def doomed_at(self, table: TrackTable, slots: NDArray[np.intp], t: float) -> NDArray[np.bool_]:
        """Tracks whose score, decayed to `t` by the silence of their event sensors, fails."""
        score = self.decayed(table, slots, t)
        tentative = table.status[slots] == TENTATIVE
        out: NDArray[np.bool_] = np.where(
            tentative, score < self.reject, score < table.score_peak[slots] - self.drop
        )
        return out

"""Track management: M-of-N confirmation, coasting, and deletion."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.config import TrackerConfig
from limes.ops.tracker.kernel import kernel
from limes.ops.tracker.table import COASTING, CONFIRMED, TENTATIVE, TrackTable


class MofNConfirmer:
    """Scores each track's opportunities and moves it between tentative, confirmed and coasting.

    A scan is an opportunity for a track when its sensor has seen the track before or hits it
    now: a sensor that never saw a track (it may not cover it) does not count against it.
    The last N opportunities are kept as bits; M set bits confirm a tentative track, and a
    tentative track still unconfirmed after N opportunities has failed.
    """

    def __init__(self, hits: int, window: int) -> None:
        self.m = hits
        self.n = window
        self.mask = np.uint32((1 << window) - 1)

    def score(
        self,
        table: TrackTable,
        slots: NDArray[np.intp],
        hit: NDArray[np.bool_],
        sensor: int,
        loglik: NDArray[np.float64] | None = None,
        t: float = 0.0,
        seen: NDArray[np.bool_] | None = None,
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Record one scan for `slots`; return (status changed, tentative failed) masks.

        `loglik`, `t` and `seen` are what a score-keeping confirmer needs; M-of-N counts only.
        """
        opp = table.seen[slots, sensor] | hit
        hist = table.history[slots]
        hist = np.where(opp, ((hist << np.uint32(1)) | hit.astype(np.uint32)) & self.mask, hist)
        table.history[slots] = hist
        table.opportunities[slots] += opp
        table.hits[slots] += hit
        table.misses[slots] += opp & ~hit
        table.missed_run[slots] = np.where(hit, 0, table.missed_run[slots] + opp)
        before = table.status[slots]
        after = before.copy()
        tentative = before == TENTATIVE
        after[tentative & (np.bitwise_count(hist) >= self.m)] = CONFIRMED
        established = ~tentative
        after[established & hit] = CONFIRMED
        after[established & opp & ~hit] = COASTING
        table.status[slots] = after
        failed = (after == TENTATIVE) & (table.opportunities[slots] >= self.n)
        return after != before, failed

    def confirms_at_birth(self) -> bool:
        """Whether one detection is enough (1-of-N)."""
        return self.m <= 1


class TrackDeleter:
    """Deletes tracks missed too often, too long without an update, or grown too uncertain."""

    def __init__(self, config: TrackerConfig) -> None:
        self.tentative_age, self.max_age = config.coast_caps()
        self.max_var = config.max_position_sd_m**2
        if config.existence == "m_of_n":
            self.max_missed = config.max_missed
            self.young_max_missed = config.young_max_missed
        else:  # the score decides on misses
            self.max_missed = self.young_max_missed = np.iinfo(np.int64).max
        self.established_hits = config.established_hits

    def doomed(
        self,
        table: TrackTable,
        slots: NDArray[np.intp],
        p_pred: NDArray[np.float64],
        now: float,
    ) -> NDArray[np.bool_]:
        """Mask over `slots` of tracks to delete at `now`, given covariances predicted to `now`."""
        age = now - table.t[slots]
        limit = np.where(table.status[slots] == TENTATIVE, self.tentative_age, self.max_age)
        pos_var = p_pred[:, 0, 0] + p_pred[:, 1, 1]
        young = table.hits[slots] < self.established_hits
        allowed = np.where(young, self.young_max_missed, self.max_missed)
        missed = table.missed_run[slots] >= allowed
        out: NDArray[np.bool_] = (age > limit) | (pos_var > self.max_var) | missed
        return out

    def stale(self, table: TrackTable, now: float, q: NDArray[np.float64]) -> NDArray[np.intp]:
        """Live slots to delete at `now` with no scan in between: too old, or grown too uncertain.

        `q` is each slot's process noise. The predicted position variance is written out for
        the nearly-constant-velocity model (as `motion.predict` computes it, term by term), in
        one compiled pass over the table, so the quiet moments of a partition cost
        microseconds, not a prediction of every track.
        """
        mask = _stale(
            table.alive, table.t, table.p, q, table.status, table.hits, table.missed_run, now,
            self.tentative_age, self.max_age, self.max_var, self.established_hits,
            self.young_max_missed, self.max_missed,
        )  # fmt: skip
        return np.flatnonzero(mask)


@kernel
def _stale(
    alive: NDArray[np.bool_],
    t: NDArray[np.float64],
    p: NDArray[np.float64],
    q: NDArray[np.float64],
    status: NDArray[np.int8],
    hits: NDArray[np.int64],
    missed_run: NDArray[np.int64],
    now: float,
    tentative_age: float,
    max_age: float,
    max_var: float,
    established_hits: int,
    young_max_missed: int,
    max_missed: int,
) -> NDArray[np.bool_]:
    out = np.zeros(alive.size, np.bool_)
    for n in range(alive.size):
        if not alive[n]:
            continue
        age = now - t[n]
        d = max(age, 0.0)
        q3 = q[n] * d * d * d / 3.0
        var_x = p[n, 0, 0] + d * (p[n, 0, 2] + p[n, 2, 0]) + d * d * p[n, 2, 2] + q3
        var_y = p[n, 1, 1] + d * (p[n, 1, 3] + p[n, 3, 1]) + d * d * p[n, 3, 3] + q3
        limit = tentative_age if status[n] == TENTATIVE else max_age
        allowed = young_max_missed if hits[n] < established_hits else max_missed
        out[n] = age > limit or var_x + var_y > max_var or missed_run[n] >= allowed
    return out

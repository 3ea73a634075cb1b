"""The multi-target tracker of one partition: predict, gate, associate, update, manage."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from limes.ops.detection import Detection
from limes.ops.tracker import kalman, motion
from limes.ops.tracker.association import GlobalNearestNeighbour
from limes.ops.tracker.batch import DetectionBatch
from limes.ops.tracker.classification import ClassFuser
from limes.ops.tracker.config import TrackerConfig
from limes.ops.tracker.existence import ScoreConfirmer, position_log_likelihood
from limes.ops.tracker.gating import MahalanobisGate
from limes.ops.tracker.initiator import SinglePointInitiator
from limes.ops.tracker.kernel import use_compiled
from limes.ops.tracker.lifecycle import MofNConfirmer, TrackDeleter
from limes.ops.tracker.scans import ReorderBuffer, Scan
from limes.ops.tracker.state import TrackState, Untracked
from limes.ops.tracker.table import TENTATIVE, TrackTable
from limes.ops.tracker.track_batch import UNKNOWN_LABEL, TrackBatch

_EMPTY = np.empty(0, dtype=np.intp)
#: Longest track id kept as written; a longer key-derived id is shortened to a digest.
MAX_TRACK_ID = 64


def _key_id(prefix: str, sensor_id: str, seq: int) -> str:
    """The track id derived from its initiating detection's key (same key, same id)."""
    name = f"{prefix}{sensor_id}:{seq}"
    if len(name) <= MAX_TRACK_ID:
        return name
    digest = hashlib.blake2b(f"{sensor_id}:{seq}".encode(), digest_size=12).hexdigest()
    return f"{prefix[: MAX_TRACK_ID - len(digest)]}{digest}"


class ConstantVelocityPredictor:
    """Predicts tracks with the nearly-constant-velocity model, noise set by class belief."""

    def __init__(self, config: TrackerConfig) -> None:
        self.q = config.process_noise_vector()

    def predict(
        self, table: TrackTable, slots: NDArray[np.intp], now: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """States and covariances of `slots` at `now` (the table itself is not changed).

        A track already updated after `now` is returned as it is (no prediction backwards).
        """
        dt = np.maximum(now - table.t[slots], 0.0)
        return motion.predict(table.x[slots], table.p[slots], dt, table.class_p[slots] @ self.q)


class Tracker:
    """Tracks detections of one partition (sector): feed `update`, read `tracks`.

    Built from small components, each replaceable: a predictor, a gate, an associator (GNN),
    the Kalman update, a class fuser, an initiator, an M-of-N confirmer and a deleter.
    Every released scan runs `_scan`: the whole tracker in one short loop.
    """

    def __init__(self, config: TrackerConfig | None = None, *, id_prefix: str = "T") -> None:
        self.config = config or TrackerConfig()
        cfg = self.config
        self.predictor = ConstantVelocityPredictor(cfg)
        self.gate = MahalanobisGate(cfg.gate_threshold)
        self.associator = GlobalNearestNeighbour(miss_cost=cfg.gate_threshold)
        self.fuser = ClassFuser(cfg)
        self.confirmer: MofNConfirmer | ScoreConfirmer = (
            ScoreConfirmer(cfg)
            if cfg.existence == "score"
            else MofNConfirmer(cfg.confirm_hits, cfg.confirm_window)
        )
        self.initiator = SinglePointInitiator(cfg, self.fuser, self.confirmer.confirms_at_birth())
        self.deleter = TrackDeleter(cfg)
        self.buffer = ReorderBuffer(cfg.reorder_window_s, cfg.scan_window_s)
        self.id_prefix = id_prefix
        self._table = TrackTable()
        self._next_id = 1
        self._rejected: list[Untracked] = []

    # -- public API -------------------------------------------------------------------------

    def update(self, detections: Iterable[Detection]) -> list[TrackState]:
        """Take new detections; returns the states of tracks changed by the scans released."""
        return self.update_batch(DetectionBatch.of(list(detections))).states()

    def advance(self, now: datetime) -> list[TrackState]:
        """Move the clock to `now`: release what the window allows, delete stale tracks."""
        return self.advance_batch(now.timestamp()).states()

    def flush(self) -> list[TrackState]:
        """Process everything still waiting in the reorder buffer (end of a file or run)."""
        return self.flush_batch().states()

    def update_batch(self, batch: DetectionBatch) -> TrackBatch:
        """`update` for detections already in columns; the changed tracks as columns."""
        if len(batch):
            bad = ~batch.valid()
            self._reject(batch, bad, "invalid position or covariance")
            good = batch if not bad.any() else batch.take(np.flatnonzero(~bad))
            late = self.buffer.push(good)
            self._reject(good, late, "too late: older than the last processed scan")
        return self._run(self.buffer.release())

    def advance_batch(self, t: float) -> TrackBatch:
        """`advance` to `t` (POSIX seconds); the changed tracks as columns."""
        horizon = t - self.config.reorder_window_s
        out = self._run(self.buffer.release(horizon))
        table = self._table
        if not table.alive.any():
            return out
        # Judge staleness where processing has got to: a report still held in the reorder
        # window may yet update a track that would look stale at `t`.
        t = max(horizon, float(table.t[table.alive].max()))
        # Only age and predicted uncertainty can doom a track between scans: check them on
        # the table in place (no prediction of every track), predict only the doomed.
        doomed_slots = self.deleter.stale(table, t, table.class_p @ self.predictor.q)
        if isinstance(self.confirmer, ScoreConfirmer):
            live = table.active()
            fading = live[self.confirmer.doomed_at(table, live, t)]
            doomed_slots = np.union1d(doomed_slots, fading).astype(np.intp)
        if doomed_slots.size == 0:
            return out
        deleted = self._delete(doomed_slots, np.ones(doomed_slots.size, dtype=bool), t)
        return TrackBatch.concat([out, deleted])

    def flush_batch(self) -> TrackBatch:
        """`flush`; the changed tracks as columns."""
        return self._run(self.buffer.release(np.inf))

    def tracks(self, at: datetime | None = None) -> list[TrackState]:
        """All live tracks, each at its last update or, with `at`, predicted to that time."""
        slots = self._table.active()
        if at is None:
            return self._states(slots, self._table.x[slots], self._table.p[slots], None).states()
        x, p = self.predictor.predict(self._table, slots, at.timestamp())
        return self._states(slots, x, p, at.timestamp()).states()

    def take_rejected(self) -> list[Untracked]:
        """Detections rejected since the last call (too late, or invalid), oldest first."""
        out, self._rejected = self._rejected, []
        return out

    @property
    def pending(self) -> int:
        """Detections waiting in the reorder buffer."""
        return len(self.buffer)

    # -- the loop ---------------------------------------------------------------------------

    def _scan(self, scan: Scan) -> TrackBatch:
        t, dets, table = scan.time, scan.batch, self._table
        sensor = table.sensor_index(scan.sensor_id)
        slots = table.active()
        x, p = self.predictor.predict(table, slots, t)
        # A track already dead at this scan's time (too old, too uncertain, its score faded)
        # goes before association, as a tick at that time would have deleted it: the same
        # reports give the same tracks whether or not the clock ticked in between.
        dead = self.deleter.doomed(table, slots, p, t)
        if isinstance(self.confirmer, ScoreConfirmer):
            dead |= self.confirmer.doomed_at(table, slots, t)
        gone = TrackBatch.empty()
        if dead.any():
            gone = self._delete(slots, dead, t, x, p)
            keep = ~dead
            slots, x, p = slots[keep], x[keep], p[keep]
        pair_t, pair_d = self._associate(slots, x, p, dets)
        loglik = np.zeros(slots.size)
        if pair_t.size and isinstance(self.confirmer, ScoreConfirmer):
            loglik[pair_t] = position_log_likelihood(
                x[pair_t], p[pair_t], dets.z[pair_d], dets.r[pair_d]
            ) + self.confirmer.declared_evidence(dets.confidence[pair_d])
        seen = table.seen[slots, sensor]
        x[pair_t], p[pair_t] = self._absorb(
            slots[pair_t], x[pair_t], p[pair_t], dets, pair_d, t, sensor
        )
        hit = np.zeros(slots.size, dtype=bool)
        hit[pair_t] = True
        changed, failed = self.confirmer.score(table, slots, hit, sensor, loglik, t, seen)
        used = np.zeros(len(dets), dtype=bool)
        used[pair_d] = True
        unused = np.flatnonzero(~used)
        born = self.initiator.initiate(table, dets, unused, t, sensor, self._new_ids(dets, unused))
        if isinstance(self.confirmer, ScoreConfirmer):
            self.confirmer.born(table, born, scan.sensor_id, t, dets.confidence[unused])
        doomed = failed | self.deleter.doomed(table, slots, p, t)
        report = (hit | changed) & ~doomed
        return TrackBatch.concat([
            gone,
            self._states(slots[report], x[report], p[report], t),
            self._states(born, table.x[born], table.p[born], t),
            self._delete(slots, doomed, t, x, p),
        ])  # fmt: skip

    def _associate(
        self,
        slots: NDArray[np.intp],
        x: NDArray[np.float64],
        p: NDArray[np.float64],
        dets: DetectionBatch,
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        # Established tracks choose first, tentative ones share what is left.
        n_t, n_d = slots.size, len(dets)
        r, c, d2 = self.gate.pairs(x, p, dets.z, dets.r)
        if not self.config.confirmed_first:
            return self.associator.associate(r, c, d2, n_t, n_d)
        tentative = self._table.status[slots] == TENTATIVE
        first = ~tentative[r]
        r1, c1 = self.associator.associate(r[first], c[first], d2[first], n_t, n_d)
        taken = np.zeros(n_d, dtype=bool)
        taken[c1] = True
        second = ~first & ~taken[c]
        r2, c2 = self.associator.associate(r[second], c[second], d2[second], n_t, n_d)
        return np.concatenate([r1, r2]), np.concatenate([c1, c2])

    def _absorb(
        self,
        slots: NDArray[np.intp],
        x: NDArray[np.float64],
        p: NDArray[np.float64],
        dets: DetectionBatch,
        index: NDArray[np.intp],
        t: float,
        sensor: int,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        # Kalman update, class fusion, group size and sensor set for the tracks that got a hit.
        if slots.size == 0:
            return x, p
        table = self._table
        x_post, p_post = kalman.update(x, p, dets.z[index], dets.r[index])
        table.x[slots], table.p[slots] = x_post, p_post
        table.t[slots] = t
        table.class_p[slots] = self.fuser.fuse(
            table.class_p[slots], dets.declared[index], dets.confidence[index]
        )
        g_new, g_old = dets.group_size[index], table.group[slots]
        a = self.config.group_size_smoothing
        blended = np.where(np.isnan(g_old), g_new, (1 - a) * g_old + a * g_new)
        table.group[slots] = np.where(np.isnan(g_new), g_old, blended)
        table.add_sensor(slots, sensor)
        for slot, i in zip(slots.tolist(), index.tolist(), strict=True):
            table.last_key[slot] = dets.detections[i].key
        return x_post, p_post

    # -- helpers ----------------------------------------------------------------------------

    def _run(self, scans: list[Scan]) -> TrackBatch:
        if len(scans) == 1:
            return self._scan(scans[0])
        return TrackBatch.concat([self._scan(scan) for scan in scans])

    def _reject(self, batch: DetectionBatch, mask: NDArray[np.bool_], reason: str) -> None:
        if not mask.any():
            return
        self._rejected += [Untracked(batch.detections[i], reason) for i in np.flatnonzero(mask)]

    def _new_ids(self, dets: DetectionBatch, index: NDArray[np.intp]) -> list[str]:
        if self.config.track_ids == "detection":
            keys = (dets.detections[i].key for i in index.tolist())
            return [_key_id(self.id_prefix, sensor, seq) for sensor, seq in keys]
        n = index.size
        first = self._next_id
        self._next_id += n
        return [f"{self.id_prefix}{i}" for i in range(first, first + n)]

    def _delete(
        self,
        slots: NDArray[np.intp],
        doomed: NDArray[np.bool_],
        t: float,
        x: NDArray[np.float64] | None = None,
        p: NDArray[np.float64] | None = None,
    ) -> TrackBatch:
        if not doomed.any():
            return TrackBatch.empty()
        gone = slots[doomed]
        if x is None or p is None:
            x, p = self.predictor.predict(self._table, gone, t)
        else:
            x, p = x[doomed], p[doomed]
        self._table.release(gone)
        return self._states(gone, x, p, t)

    def _states(
        self,
        slots: NDArray[np.intp],
        x: NDArray[np.float64],
        p: NDArray[np.float64],
        t: float | None,
    ) -> TrackBatch:
        if slots.size == 0:
            return TrackBatch.empty()
        table = self._table
        if self.config.report_tentative is False:
            keep = table.status[slots] != TENTATIVE
            slots, x, p = slots[keep], x[keep], p[keep]
        probs = table.class_p[slots]
        best = probs.argmax(axis=1)
        sure = probs[np.arange(slots.size), best] >= self.config.class_decision_threshold
        rows = slots.tolist()
        ids, sensors, keys = table.ids, table.sensors_of, table.last_key
        return TrackBatch(
            [ids[s] for s in rows],
            np.full(slots.size, t) if t is not None else table.t[slots],
            x,
            p,
            probs,
            np.where(sure, best, UNKNOWN_LABEL),
            table.group[slots],
            table.status[slots],
            table.hits[slots],
            table.misses[slots],
            [sensors[s] for s in rows],
            [keys[s] for s in rows],
            score=table.score[slots] if self.config.existence == "score" else None,
        )


def warm_up() -> None:
    """Switch the tracker's kernels to numba and load (or compile) them now, not on a live scan.

    Tracks two close targets and a far one for two scans (prediction, gating, a shared
    cluster for the assignment, the Kalman update), then lets them go stale.
    """
    use_compiled()
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0))
    t0 = datetime(2000, 1, 1, tzinfo=UTC)
    for step in range(2):
        when = t0 + timedelta(seconds=step)
        tracker.update(
            Detection("warm-up", 3 * step + k, when, 0.0, 0.0, x, float(step), 4.0, 0.0, 4.0)
            for k, x in enumerate((0.0, 3.0, 1000.0))
        )
    tracker.advance(t0 + timedelta(hours=1))

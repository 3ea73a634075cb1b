"""Track states as columns: what the tracker hands the rules, `TrackState` records on demand."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import overload

import numpy as np
from numpy.typing import NDArray

from limes.ops.detection import TargetClass
from limes.ops.tracker.config import HIDDEN_CLASSES
from limes.ops.tracker.state import STATUS_BY_CODE, TrackState

#: Reported classes by label code: the hidden classes, then "unknown" (not sure enough).
LABELS: tuple[TargetClass, ...] = (*HIDDEN_CLASSES, TargetClass.UNKNOWN)
UNKNOWN_LABEL = len(HIDDEN_CLASSES)
_LABEL_OF = {c: i for i, c in enumerate(LABELS)}
_STATUS_CODE = {s: i for i, s in enumerate(STATUS_BY_CODE)}
_CLASS_NAMES = tuple(c.value for c in HIDDEN_CLASSES)


class TrackBatch(Sequence[TrackState]):
    """Many track states, column by column, in the tracker's order; a `Sequence[TrackState]`.

    The tracker produces these and the rules read the columns directly; the `TrackState`
    records are built only when someone indexes or iterates the batch (a bus subscriber, a
    caller of `Tracker.update`), once, and then kept. Times are POSIX seconds; `x` is
    (x, y, vx, vy) in the scenario frame, `p` the 4×4 covariances, `label` the code of the
    reported class in `LABELS`, `status` the code in `STATUS_BY_CODE`, `group` NaN when unknown,
    `score` the existence score (log odds of a real target; NaN where the tracker keeps none or
    the batch was built from records).
    """

    __slots__ = (
        "_states", "class_p", "group", "hits", "ids", "label", "last_key", "misses", "p",
        "score", "sensors", "status", "t", "x",
    )  # fmt: skip

    def __init__(
        self,
        ids: list[str],
        t: NDArray[np.float64],
        x: NDArray[np.float64],
        p: NDArray[np.float64],
        class_p: NDArray[np.float64],
        label: NDArray[np.intp],
        group: NDArray[np.float64],
        status: NDArray[np.int8],
        hits: NDArray[np.int64],
        misses: NDArray[np.int64],
        sensors: list[tuple[str, ...]],
        last_key: list[tuple[str, int] | None],
        states: list[TrackState] | None = None,
        score: NDArray[np.float64] | None = None,
    ) -> None:
        self.ids, self.t, self.x, self.p = ids, t, x, p
        self.score = np.full(len(ids), np.nan) if score is None else score
        self.class_p, self.label, self.group, self.status = class_p, label, group, status
        self.hits, self.misses, self.sensors, self.last_key = hits, misses, sensors, last_key
        self._states = states

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> TrackBatch:
        """A batch of no tracks."""
        return cls(
            [], np.empty(0), np.empty((0, 4)), np.empty((0, 4, 4)),
            np.empty((0, len(HIDDEN_CLASSES))), np.empty(0, dtype=np.intp), np.empty(0),
            np.empty(0, dtype=np.int8), np.empty(0, dtype=np.int64),
            np.empty(0, dtype=np.int64), [], [], [],
        )  # fmt: skip

    @classmethod
    def concat(cls, batches: Sequence[TrackBatch]) -> TrackBatch:
        """One batch holding all of `batches`, in order (empty ones skipped)."""
        parts = [b for b in batches if len(b)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            [i for b in parts for i in b.ids],
            np.concatenate([b.t for b in parts]),
            np.concatenate([b.x for b in parts]),
            np.concatenate([b.p for b in parts]),
            np.concatenate([b.class_p for b in parts]),
            np.concatenate([b.label for b in parts]),
            np.concatenate([b.group for b in parts]),
            np.concatenate([b.status for b in parts]),
            np.concatenate([b.hits for b in parts]),
            np.concatenate([b.misses for b in parts]),
            [s for b in parts for s in b.sensors],
            [k for b in parts for k in b.last_key],
            None
            if any(b._states is None for b in parts)
            else [s for b in parts for s in b._states or ()],
            np.concatenate([b.score for b in parts]),
        )

    @classmethod
    def from_states(cls, states: Sequence[TrackState]) -> TrackBatch:
        """Columns of existing `TrackState` records (kept as the batch's records)."""
        if isinstance(states, TrackBatch):
            return states
        n = len(states)
        if n == 0:
            return cls.empty()
        kin = np.array([(s.time.timestamp(), s.x, s.y, s.vx, s.vy) for s in states], float)
        cov = np.array([s.covariance for s in states], float).reshape(n, 4, 4)
        probs = np.array(
            [[s.class_probabilities.get(c, np.nan) for c in _CLASS_NAMES] for s in states], float
        )
        group = [np.nan if s.group_size is None else s.group_size for s in states]
        return cls(
            [s.track_id for s in states],
            kin[:, 0],
            np.ascontiguousarray(kin[:, 1:]),
            cov,
            probs,
            np.fromiter((_LABEL_OF[s.target_class] for s in states), np.intp, n),
            np.array(group, dtype=float),
            np.fromiter((_STATUS_CODE[s.status] for s in states), np.int8, n),
            np.fromiter((s.hits for s in states), np.int64, n),
            np.fromiter((s.misses for s in states), np.int64, n),
            [s.sensors for s in states],
            [s.last_detection for s in states],
            list(states),
        )

    def take(self, index: NDArray[np.intp]) -> TrackBatch:
        """The states at `index`, in that order."""
        rows = index.tolist()
        return TrackBatch(
            [self.ids[i] for i in rows],
            self.t[index],
            self.x[index],
            self.p[index],
            self.class_p[index],
            self.label[index],
            self.group[index],
            self.status[index],
            self.hits[index],
            self.misses[index],
            [self.sensors[i] for i in rows],
            [self.last_key[i] for i in rows],
            None if self._states is None else [self._states[i] for i in rows],
            self.score[index],
        )

    # -- the records ------------------------------------------------------------------------

    def states(self) -> list[TrackState]:
        """The `TrackState` records (built on the first call, then kept)."""
        if self._states is None:
            self._states = self._build()
        return self._states

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> TrackState: ...
    @overload
    def __getitem__(self, i: slice) -> list[TrackState]: ...
    def __getitem__(self, i: int | slice) -> TrackState | list[TrackState]:
        return self.states()[i]

    def __iter__(self) -> Iterator[TrackState]:
        return iter(self.states())

    def __repr__(self) -> str:
        return f"TrackBatch({len(self)} tracks)"

    def _build(self) -> list[TrackState]:
        n = len(self)
        if n == 0:
            return []
        stamp: dict[float, datetime] = {}
        p_name, v_name, a_name = _CLASS_NAMES
        out = []
        for track_id, tt, xs, cov, pr, cls, g, st, hits, misses, sensors, key in zip(
            self.ids,
            self.t.tolist(),
            self.x.tolist(),
            self.p.reshape(-1, 16).tolist(),
            self.class_p.tolist(),
            self.label.tolist(),
            self.group.tolist(),
            self.status.tolist(),
            self.hits.tolist(),
            self.misses.tolist(),
            self.sensors,
            self.last_key,
            strict=True,
        ):
            when = stamp.get(tt)
            if when is None:
                when = stamp[tt] = datetime.fromtimestamp(tt, UTC)
            out.append(
                TrackState(
                    track_id, when, xs[0], xs[1], xs[2], xs[3], tuple(cov), LABELS[cls],
                    {p_name: pr[0], v_name: pr[1], a_name: pr[2]},
                    None if g != g else max(1, round(g)),
                    STATUS_BY_CODE[st], hits, misses, sensors, key,
                )
            )  # fmt: skip
        return out

"""What the rules remember of each track between updates, as columns gathered by row at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from limes.ops.alert import Rule

#: Bit of each rule in the `fired` column.
RULE_BIT: dict[Rule, int] = {rule: 1 << i for i, rule in enumerate(Rule)}

#: Float columns, NaN when unknown: the last measured state, the loiter spot and its start,
#: an inward crossing not yet alerted and the last inward crossing seen (chainages in m).
FLOAT_COLUMNS = (
    "t", "chainage", "offset", "anchor_x", "anchor_y", "anchor_t", "pending_m", "crossed_m",
)  # fmt: skip


class TrackMemory:
    """One row per remembered track: float columns (NaN when unknown) and a fired-rule mask.

    `rows(ids)` maps track ids to rows (new rows for new ids), so a whole update reads and
    writes each column with one fancy-indexing operation instead of a dict per track.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._row: dict[str, int] = {}
        self._free: list[int] = list(range(capacity - 1, -1, -1))
        self.cols: dict[str, NDArray[np.float64]] = {
            name: np.full(capacity, np.nan) for name in FLOAT_COLUMNS
        }
        self.fired = np.zeros(capacity, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._row)

    def rows(self, track_ids: Sequence[str]) -> NDArray[np.intp]:
        """Rows of these tracks, new (blank) rows for tracks not seen before."""
        get = self._row.get
        out = np.fromiter((get(t, -1) for t in track_ids), np.intp, len(track_ids))
        for i in np.flatnonzero(out < 0).tolist():
            found = get(track_ids[i], -1)  # a new id may repeat within one call
            out[i] = found if found >= 0 else self._new(track_ids[i])
        return out

    def forget(self, track_id: str) -> None:
        """Free a track's row."""
        row = self._row.pop(track_id, None)
        if row is None:
            return
        for col in self.cols.values():
            col[row] = np.nan
        self.fired[row] = 0
        self._free.append(row)

    def _new(self, track_id: str) -> int:
        if not self._free:
            self._grow()
        row = self._free.pop()
        self._row[track_id] = row
        return row

    def _grow(self) -> None:
        old = self.fired.size
        for name, col in self.cols.items():
            self.cols[name] = np.concatenate([col, np.full(old, np.nan)])
        self.fired = np.concatenate([self.fired, np.zeros(old, dtype=np.int64)])
        self._free.extend(range(2 * old - 1, old - 1, -1))

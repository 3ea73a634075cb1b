"""Initiation: every detection no track took starts a tentative track."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker.batch import DetectionBatch
from limes.ops.tracker.classification import ClassFuser
from limes.ops.tracker.config import TrackerConfig
from limes.ops.tracker.table import CONFIRMED, TENTATIVE, TrackTable


class SinglePointInitiator:
    """Starts a track at the detection with zero velocity and a wide, class-dependent prior.

    The velocity variance is the class-probability-weighted mean of `initial_speed_sd²`, so a
    detection declared "vehicle" opens a wider gate than one declared "person". The second
    detection's Kalman update is then the two-point velocity estimate.
    """

    def __init__(self, config: TrackerConfig, fuser: ClassFuser, confirm_at_birth: bool) -> None:
        self.velocity_var = config.initial_velocity_var_vector()
        self.fuser = fuser
        self.confirm_at_birth = confirm_at_birth

    def initiate(
        self,
        table: TrackTable,
        scan: DetectionBatch,
        index: NDArray[np.intp],
        now: float,
        sensor: int,
        ids: list[str],
    ) -> NDArray[np.intp]:
        """Open one track per detection at `index`; returns their slots."""
        if index.size == 0:
            return index
        n = index.size
        slots = table.allocate(n)
        z, r = scan.z[index], scan.r[index]
        probs = self.fuser.fuse(self.fuser.prior(n), scan.declared[index], scan.confidence[index])
        vvar = probs @ self.velocity_var
        table.x[slots] = 0.0
        table.x[slots, :2] = z
        p = np.zeros((n, 4, 4))
        p[:, 0, 0], p[:, 0, 1], p[:, 1, 1] = r[:, 0], r[:, 1], r[:, 2]
        p[:, 1, 0] = r[:, 1]
        p[:, 2, 2] = p[:, 3, 3] = vvar
        table.p[slots] = p
        table.t[slots] = now
        table.class_p[slots] = probs
        table.group[slots] = scan.group_size[index]
        table.hits[slots] = 1
        table.history[slots] = 1
        table.opportunities[slots] = 1
        table.add_sensor(slots, sensor)
        table.status[slots] = CONFIRMED if self.confirm_at_birth else TENTATIVE
        for slot, i, track_id in zip(slots.tolist(), index.tolist(), ids, strict=True):
            table.ids[slot] = track_id
            table.last_key[slot] = scan.detections[i].key
        return slots

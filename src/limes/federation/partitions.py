"""Detections partitioned by sector onto JetStream subjects, for tracker workers inside one site.

A site that outgrows one tracker process splits its detections by sector: partition `k` is the
scenario's `k`-th sector, its subject `limes.det.<site>.<k>` in the site's stream
`LIMES_DET_<site>`. A worker process owns a set of partitions (one durable consumer each) and
runs the live pipeline for them (`limes.federation.worker`).

**Hand-off band.** A detection within `handover_m` (chainage along the border) of a
neighbouring sector goes to that sector's partition too. So the partition a walker is about to
enter already tracks it, and its rules already know what fired, before the walker crosses; each
partition *emits* only the alerts located in its own sector. An alert is thus emitted once, by
the partition holding it, instead of once per partition that saw the target (the cause of
duplicates when each side starts its own track at the boundary). The band must be wider than
the distance a target covers while a track is confirmed: the scenario's `rules.handover_m`
(default 1 km, a walker at 2 m/s for ~8 minutes).

**Clock.** Every published batch reaches every partition, empty where a partition has no
detections, carrying the latest detection time seen by the publisher: each partition's tracker
moves on exactly as the partitions of one in-process `PartitionedTracker` do (coasting and
deletion in a quiet sector), so N workers give the alerts of one process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limes.ops.detection import Detection, TargetClass
from limes.scenario.model import Scenario

#: Subject root of partitioned detections: `limes.det.<site>.<partition>`.
DETECTION_ROOT = "limes.det"


def detection_stream(site: str) -> str:
    """The site's stream of partitioned detections."""
    return f"LIMES_DET_{site}"


def detection_subject(site: str, partition: int) -> str:
    """The subject of one partition's detections."""
    return f"{DETECTION_ROOT}.{site}.{partition}"


def partition_consumer(partition: int) -> str:
    """The durable consumer that the owner of `partition` reads it with."""
    return f"limes-track-{partition}"


def assign(partitions: int, workers: int) -> list[list[int]]:
    """Partitions of each worker, round robin (worker `i` owns `k` where `k % workers == i`)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return [list(range(i, partitions, workers)) for i in range(workers)]


class SectorPartitions:
    """Which partitions (sector indices) receive each detection: its own and the band's."""

    def __init__(self, scenario: Scenario, handover_m: float | None = None) -> None:
        """`handover_m` overrides the scenario's `rules.handover_m` (as a test may)."""
        if handover_m is None:
            handover_m = scenario.spec.rules.handover_m
        if handover_m < 0:
            raise ValueError(f"handover_m must not be negative, got {handover_m}")
        self.scenario = scenario
        self.handover_m = handover_m
        self.names = [s.name for s in scenario.spec.sectors]

    def __len__(self) -> int:
        return len(self.names)

    def sectors(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.intp]:
        """The sector index of each frame point."""
        chain, _ = self.scenario.locate(x, y)
        return self.scenario.sector_index(chain)

    def receivers(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        """For frame points: own sector, and the sectors `handover_m` back and ahead of it
        (equal to the own sector away from a boundary)."""
        chain, _ = self.scenario.locate(x, y)
        own = self.scenario.sector_index(chain)
        back = self.scenario.sector_index(chain - self.handover_m)
        ahead = self.scenario.sector_index(chain + self.handover_m)
        return own, back, ahead

    def split(self, detections: Sequence[Detection]) -> list[list[Detection]]:
        """The detections each partition receives (index = partition), band copies included."""
        out: list[list[Detection]] = [[] for _ in self.names]
        if not detections:
            return out
        x = np.fromiter((d.x for d in detections), float, len(detections))
        y = np.fromiter((d.y for d in detections), float, len(detections))
        own, back, ahead = self.receivers(x, y)
        for k, d in enumerate(detections):
            o, b, a = int(own[k]), int(back[k]), int(ahead[k])
            out[o].append(d)
            if b != o:
                out[b].append(d)
            if a != o and a != b:
                out[a].append(d)
        return out


@dataclass(frozen=True, slots=True)
class PartitionBatch:
    """One partition's share of one published batch, and the publisher's clock (POSIX s)."""

    latest: float | None
    detections: list[Detection]


def encode(batch: PartitionBatch) -> bytes:
    """A partition batch as compact JSON (one row of values per detection, times in POSIX s)."""
    rows: list[list[Any]] = [
        [d.sensor_id, d.seq, d.time.timestamp(), d.lon, d.lat, d.x, d.y, d.var_xx, d.var_xy,
         d.var_yy, d.target_class.value, d.confidence, d.group_size,
         None if d.received is None else d.received.timestamp(), d.late]
        for d in batch.detections
    ]  # fmt: skip
    return json.dumps({"t": batch.latest, "d": rows}, separators=(",", ":")).encode()


def decode(data: bytes) -> PartitionBatch:
    """`encode`'s inverse."""
    raw = json.loads(data)
    detections = [
        Detection(
            sensor_id=r[0], seq=int(r[1]), time=datetime.fromtimestamp(r[2], UTC),
            lon=r[3], lat=r[4], x=r[5], y=r[6], var_xx=r[7], var_xy=r[8], var_yy=r[9],
            target_class=TargetClass(r[10]), confidence=r[11], group_size=r[12],
            received=None if r[13] is None else datetime.fromtimestamp(r[13], UTC), late=r[14],
        )
        for r in raw["d"]
    ]  # fmt: skip
    return PartitionBatch(raw["t"], detections)

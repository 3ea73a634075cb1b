"""The multi-target tracker: detections in, fused tracks out, one tracker per sector.

Compose-your-own components live in the submodules (`motion`, `kalman`, `gating`,
`association`, `initiator`, `lifecycle`, `classification`, `scans`); most callers need only
`Tracker`, `PartitionedTracker`, `TrackerConfig` and the `TrackState` records they return.
"""

from limes.ops.tracker.config import TrackerConfig
from limes.ops.tracker.partitioned import PartitionedTracker
from limes.ops.tracker.state import TrackState, TrackStatus, Untracked
from limes.ops.tracker.tracker import Tracker

__all__ = [
    "PartitionedTracker",
    "TrackState",
    "TrackStatus",
    "Tracker",
    "TrackerConfig",
    "Untracked",
]

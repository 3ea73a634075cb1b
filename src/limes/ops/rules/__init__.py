"""Crossing rules: track states in, alerts out (crossing imminent, crossed, intrusion,
loitering at a barrier, vehicle at a vehicle-blocking barrier)."""

from limes.ops.rules.engine import ALERT_NAMESPACE, RuleEngine, alert_id
from limes.ops.rules.geometry import BarrierIndex, interpolate_crossing, predict_crossings

__all__ = [
    "ALERT_NAMESPACE",
    "BarrierIndex",
    "RuleEngine",
    "alert_id",
    "interpolate_crossing",
    "predict_crossings",
]

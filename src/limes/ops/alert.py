"""Alerts: a rule firing on a track, carrying everything a duty officer needs to act on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Rule(StrEnum):
    """The rules of the live pipeline."""

    CROSSING_IMMINENT = "crossing_imminent"
    APPROACH = "approach"
    CROSSED = "crossed"
    INTRUSION = "intrusion"
    LOITERING = "loitering"
    VEHICLE_AT_BARRIER = "vehicle_at_barrier"


class Severity(StrEnum):
    """How urgent an alert is; weaker km of the plan raise it."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Alert:
    """One rule firing on one track, with where, who holds that stretch and who to call.

    `alert_id` is deterministic (rule and track), so a replay after a restart yields the same id and
    a store can keep each alert exactly once. `chainage_km` is the predicted crossing point for
    `crossing_imminent` and the actual one otherwise; `eta_s` the predicted time to the line.
    `p_interruption` is the plan's value for that km when an assessment is loaded.
    `incident_key` names the crossing group the alert belongs to: alerts of several tracks
    (fragments of one track, two sensors' tracks of one group) close in place and time share
    it, and the store opens one incident per key (the track id of the group's first alert;
    None: the alert's own track). `detail` ends with the evidence (reports, sensors).
    """

    alert_id: str
    rule: Rule
    track_id: str
    time: datetime
    lon: float
    lat: float
    target_class: str
    group_size: int | None
    chainage_km: float
    offset_m: float
    sector: str
    command: str
    far_side: str
    channel: str
    severity: Severity
    eta_s: float | None = None
    p_interruption: float | None = None
    barrier_id: str | None = None
    detail: str = ""
    incident_key: str | None = None

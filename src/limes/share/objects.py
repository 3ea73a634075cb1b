"""The floor's records as the release guard sees them: alerts, incidents, sector status, reports.

Each builder takes a change-log payload (the stored row as JSON) and what the floor knows
besides (the scenario's sensor positions, the track's sensors, the unit's last position, the
sector's current threat actors) and returns one `Shareable`. Fields that rules may withhold
use the names of `WITHHELD_FIELDS` (sensors, sensor_positions, unit_id, unit_position…).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from limes.scenario.model import Scenario
from limes.scenario.sharing import ObjectKind, Sharing
from limes.share.report import IntelReport
from limes.share.shareable import Shareable

ALERT_FIELDS = (
    "rule", "severity", "target_class", "group_size", "chainage_km", "offset_m",
    "command", "far_side", "eta_s", "p_interruption", "barrier_id", "detail",
)  # fmt: skip
INCIDENT_FIELDS = ("state", "outcome", "severity", "opened", "resolved", "alert_count")


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


@dataclass(frozen=True)
class FloorContext:
    """What the builders look up besides the record itself."""

    scenario: Scenario | None
    sharing: Sharing
    #: Sector → actors its current intelligence names (an alert there is about them).
    actors: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def sensor_positions(self, sensor_ids: Sequence[str]) -> dict[str, list[float]]:
        """Lon/lat of the scenario's sensors among these ids."""
        if self.scenario is None:
            return {}
        out = {}
        for sid in sensor_ids:
            sensor = self.scenario.sensors.get(sid)
            if sensor is not None:
                out[sid] = list(self.scenario.position_lonlat(sensor.position))
        return out


def alert_object(
    row: Mapping[str, Any], version: int, ctx: FloorContext, sensors: Sequence[str] = ()
) -> Shareable:
    """An alert (its `alerts` row as JSON), with the sensors of its track."""
    fields: dict[str, Any] = {k: row.get(k) for k in ALERT_FIELDS}
    fields["sensors"] = list(sensors)
    fields["sensor_positions"] = ctx.sensor_positions(sensors)
    sector = str(row["sector"])
    return Shareable(
        kind=ObjectKind.ALERT,
        key=f"alert:{row['alert_id']}",
        version=version,
        time=_time(row["time"]),
        originator=ctx.sharing.home,
        sector=sector,
        tlp=ctx.sharing.marking,
        topics=ctx.actors.get(sector, frozenset()),
        position=(float(row["lon"]), float(row["lat"])),
        fields=fields,
    )


def incident_object(
    row: Mapping[str, Any],
    version: int,
    ctx: FloorContext,
    alerts: Sequence[Shareable] = (),
    unit_position: Sequence[float] | None = None,
) -> Shareable:
    """An incident (its `incidents` row as JSON) referring to its alerts."""
    fields: dict[str, Any] = {k: row.get(k) for k in INCIDENT_FIELDS}
    fields["unit_id"] = row.get("unit_id")
    fields["unit_position"] = list(unit_position) if unit_position is not None else None
    sector = str(row["sector"])
    return Shareable(
        kind=ObjectKind.INCIDENT,
        key=f"incident:{row['id']}",
        version=version,
        time=_time(row["updated"]),
        originator=ctx.sharing.home,
        sector=sector,
        tlp=ctx.sharing.marking,
        topics=ctx.actors.get(sector, frozenset()),
        position=(float(row["lon"]), float(row["lat"])),
        fields=fields,
        refs=tuple(alerts),
    )


def sector_object(
    row: Mapping[str, Any], version: int, ctx: FloorContext, threat: str = "low"
) -> Shareable:
    """A sector's status: its impact level and its threat level from intelligence."""
    name = str(row["name"])
    return Shareable(
        kind=ObjectKind.SECTOR_STATUS,
        key=f"sector_status:{name}",
        version=version,
        time=_time(row["updated"]),
        originator=ctx.sharing.home,
        sector=name,
        tlp=ctx.sharing.marking,
        topics=ctx.actors.get(name, frozenset()),
        fields={"level": row.get("level"), "set_level": row.get("set_level"), "threat": threat},
    )


def report_object(record: Mapping[str, Any], version: int) -> Shareable:
    """An intelligence report (its stored record)."""
    body = {k: v for k, v in record.items() if k != "version"}
    return IntelReport.model_validate(body).shareable(version)

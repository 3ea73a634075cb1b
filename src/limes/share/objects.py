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

    def floor_object(
        self,
        kind: ObjectKind,
        key: str,
        version: int,
        time: datetime,
        sector: str,
        fields: dict[str, Any],
        position: tuple[float, float] | None = None,
        refs: tuple[Shareable, ...] = (),
    ) -> Shareable:
        """An object of this floor's own: its home as originator, its marking, the sector's
        topics (the actors known to work there)."""
        return Shareable(
            kind=kind, key=key, version=version, time=time, originator=self.sharing.home,
            sector=sector, tlp=self.sharing.marking,
            topics=self.actors.get(sector, frozenset()), position=position, fields=fields,
            refs=refs,
        )  # fmt: skip

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
    return ctx.floor_object(
        ObjectKind.ALERT, f"alert:{row['alert_id']}", version, _time(row["time"]),
        str(row["sector"]), fields, position=(float(row["lon"]), float(row["lat"])),
    )  # fmt: skip


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
    return ctx.floor_object(
        ObjectKind.INCIDENT, f"incident:{row['id']}", version, _time(row["updated"]),
        str(row["sector"]), fields, position=(float(row["lon"]), float(row["lat"])),
        refs=tuple(alerts),
    )  # fmt: skip


def sector_object(
    row: Mapping[str, Any], version: int, ctx: FloorContext, threat: str = "low"
) -> Shareable:
    """A sector's status: its impact level and its threat level from intelligence."""
    name = str(row["name"])
    fields = {"level": row.get("level"), "set_level": row.get("set_level"), "threat": threat}
    return ctx.floor_object(
        ObjectKind.SECTOR_STATUS, f"sector_status:{name}", version, _time(row["updated"]),
        name, fields,
    )  # fmt: skip


def report_object(record: Mapping[str, Any], version: int) -> Shareable:
    """An intelligence report (its stored record)."""
    body = {k: v for k, v in record.items() if k != "version"}
    return IntelReport.model_validate(body).shareable(version)

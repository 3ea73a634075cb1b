"""Alerts and the incidents they open or join, stored in a fixed number of statements.

On a busy floor a store transaction carries tens of alerts; one ORM round trip per alert,
incident and event would cost more than every detection of the batch. On PostgreSQL this module
does the same as `insert_alerts` + `open_or_join_many` (the reference, which SQLite keeps using)
in a fixed number of statements whatever the number of alerts: the alerts through a COPY stage,
one statement each to lock the open incidents of their tracks, open the missing incidents
(array parameters), link the alerts and update the joined incidents, and the events by COPY.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from limes.ops.alert import Alert, Severity
from limes.ops.incidents import IncidentState, raise_severity
from limes.store import bulk
from limes.store.alerts import alert_params
from limes.store.incidents import SYSTEM
from limes.store.rows import json_value

_ALERT_TYPES = {
    "alert_id": "text", "rule": "text", "track_id": "text", "time": "timestamptz",
    "lon": "float8", "lat": "float8", "target_class": "text", "group_size": "int",
    "chainage_km": "float8", "offset_m": "float8", "sector": "text", "command": "text",
    "far_side": "text", "channel": "text", "severity": "text", "eta_s": "float8",
    "p_interruption": "float8", "barrier_id": "text", "detail": "text",
}  # fmt: skip
_INCIDENT_COLUMNS = (
    "id", "track_id", "sector", "state", "outcome", "severity", "opened", "updated", "resolved",
    "lon", "lat", "unit_id", "alert_count",
)  # fmt: skip
_NEW_INCIDENT_TYPES = {
    "track_id": "text", "sector": "text", "state": "text", "severity": "text",
    "opened": "timestamptz", "updated": "timestamptz", "lon": "float8", "lat": "float8",
    "alert_count": "int",
}  # fmt: skip


def _unnest(types: dict[str, str]) -> str:
    arrays = ", ".join(f"%s::{t}[]" for t in types.values())
    return f"SELECT * FROM unnest({arrays}) AS u({', '.join(types)})"


_STAGE = "_limes_alerts_in"
# In the order given, so ids grow as the alerts came (the first of a repeated id is kept).
_INSERT_ALERTS = (
    f"INSERT INTO alerts ({', '.join(_ALERT_TYPES)}) "
    f"SELECT {', '.join(_ALERT_TYPES)} FROM {_STAGE} ORDER BY ord "
    "ON CONFLICT (alert_id) DO NOTHING RETURNING id, alert_id"
)
_LOCK_OPEN = (
    f"SELECT {', '.join(_INCIDENT_COLUMNS)} FROM incidents "
    "WHERE track_id = ANY(%s::text[]) AND state <> 'resolved' FOR UPDATE"
)
_OPEN_NEW = (
    f"INSERT INTO incidents ({', '.join(_NEW_INCIDENT_TYPES)}) {_unnest(_NEW_INCIDENT_TYPES)} "
    "RETURNING id, track_id"
)
_EVENT_COLUMNS = ("incident_id", "time", "actor", "action", "to_state", "note", "data")
_LINK_ALERTS = (
    "UPDATE alerts SET incident_id = u.incident FROM unnest(%s::int8[], %s::int8[]) "
    "AS u(id, incident) WHERE alerts.id = u.id"
)
_UPDATE_JOINED = (
    "UPDATE incidents SET severity = u.severity, alert_count = u.alert_count, lon = u.lon, "
    "lat = u.lat, sector = u.sector, updated = u.updated FROM unnest(%s::int8[], %s::text[], "
    "%s::int[], %s::float8[], %s::float8[], %s::text[], %s::timestamptz[]) "
    "AS u(id, severity, alert_count, lon, lat, sector, updated) WHERE incidents.id = u.id"
)


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json_value(_utc(v)) for k, v in row.items()}


def store_alerts_postgres(
    session: Session, alerts: Sequence[Alert], now: datetime
) -> list[tuple[dict[str, Any], dict[str, Any], bool]]:
    """Store alerts, opening or joining their tracks' incidents; per newly stored alert, in
    order: the alert row and the incident as it stood right after it (both JSON-ready, for the
    change log) and whether the incident was opened by it."""
    if not alerts:
        return []
    params = [alert_params(a) for a in alerts]
    # Incidents are keyed by the crossing group (`Alert.incident_key`), else by the track.
    key_of = {a.alert_id: a.incident_key or a.track_id for a in alerts}
    with bulk.driver_cursor(session) as cursor:
        columns = ", ".join(_ALERT_TYPES)
        bulk.stage(cursor, _STAGE, f"SELECT 0::int AS ord, {columns} FROM alerts")
        staged = ((k, *(p[c] for c in _ALERT_TYPES)) for k, p in enumerate(params))
        bulk.copy_text(cursor, _STAGE, ("ord", *_ALERT_TYPES), bulk.encode_tuples(staged))
        cursor.execute(_INSERT_ALERTS)
        ids = {alert_id: i for i, alert_id in cursor.fetchall()}
        cursor.execute(f"TRUNCATE {_STAGE}")
        new = []
        for p in params:
            i = ids.pop(p["alert_id"], None)  # a repeat in the batch is stored once
            if i is not None:
                new.append({"id": i, **p})
        if not new:
            return []
        tracks = list(dict.fromkeys(key_of[a["alert_id"]] for a in new))
        cursor.execute(_LOCK_OPEN, (tracks,))
        incidents = {r[1]: dict(zip(_INCIDENT_COLUMNS, r, strict=True)) for r in cursor}
        openers: dict[str, int] = {}  # track -> index of the alert that opens its incident
        for k, a in enumerate(new):
            key = key_of[a["alert_id"]]
            if key not in incidents:
                openers[key] = k
                incidents[key] = {
                    "id": None, "track_id": key, "sector": a["sector"],
                    "state": IncidentState.NEW.value, "outcome": None,
                    "severity": a["severity"], "opened": now, "updated": now, "resolved": None,
                    "lon": a["lon"], "lat": a["lat"], "unit_id": None, "alert_count": 1,
                }  # fmt: skip
        if openers:
            rows = [incidents[t] for t in openers]
            cursor.execute(_OPEN_NEW, [[r[c] for r in rows] for c in _NEW_INCIDENT_TYPES])
            for incident_id, track_id in cursor.fetchall():
                incidents[track_id]["id"] = incident_id
        out = []
        events: list[tuple[Any, ...]] = []
        joined: dict[int, dict[str, Any]] = {}
        for k, a in enumerate(new):
            incident = incidents[key_of[a["alert_id"]]]
            data = json.dumps({"alert_id": a["alert_id"], "rule": a["rule"],
                               "severity": a["severity"]})  # fmt: skip
            opened = openers.get(key_of[a["alert_id"]]) == k
            if opened:
                events.append((incident["id"], now, SYSTEM, "open", IncidentState.NEW.value,
                               "", data))  # fmt: skip
            else:
                incident["severity"] = raise_severity(
                    Severity(incident["severity"]), Severity(a["severity"])
                ).value
                incident["alert_count"] += 1
                incident["lon"], incident["lat"] = a["lon"], a["lat"]
                incident["sector"] = a["sector"]  # the track may have moved on
                incident["updated"] = now
                joined[incident["id"]] = incident
                events.append((incident["id"], now, SYSTEM, "alert", None, "", data))
            a["incident_id"] = incident["id"]
            out.append((_json_row(a), _json_row(incident), opened))
        bulk.copy_text(cursor, "incident_events", _EVENT_COLUMNS, bulk.encode_tuples(events))
        cursor.execute(_LINK_ALERTS, ([a["id"] for a in new], [a["incident_id"] for a in new]))
        if joined:
            rows = list(joined.values())
            cursor.execute(
                _UPDATE_JOINED,
                [[r[c] for r in rows]
                 for c in ("id", "severity", "alert_count", "lon", "lat", "sector", "updated")],
            )  # fmt: skip
    return out

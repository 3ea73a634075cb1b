"""Incidents in the database: opened or joined by alerts, moved on by named people.

The workflow rules are `limes.ops.incidents`; this module applies them to stored incidents and
records every step twice: as an incident event (the incident's own story) and, for steps a
person took, in the audit log with the record before and after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limes.ops.alert import Severity
from limes.ops.incidents import (
    IncidentAction,
    IncidentError,
    IncidentState,
    Transition,
    next_state,
    raise_severity,
)
from limes.store.audit import audit
from limes.store.errors import Conflict, NotFound
from limes.store.rows import row_dict
from limes.store.tables import AlertRow, DispatchRow, IncidentEventRow, IncidentRow

#: The actor named on events the pipeline itself causes.
SYSTEM = "system"


def _event(
    session: Session,
    incident: IncidentRow,
    *,
    time: datetime,
    actor: str,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        IncidentEventRow(
            incident_id=incident.id,
            time=time,
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=to_state,
            note=note,
            data=data or {},
        )
    )


def open_incident_of_track(session: Session, track_id: str) -> IncidentRow | None:
    """The track's open (not resolved) incident, locked for update on PostgreSQL."""
    query = (
        select(IncidentRow)
        .where(IncidentRow.track_id == track_id, IncidentRow.state != IncidentState.RESOLVED)
        .with_for_update()
    )
    return session.scalars(query).first()


def open_or_join(session: Session, alert: AlertRow, now: datetime) -> tuple[IncidentRow, bool]:
    """Attach a newly stored alert to its track's open incident, or open one.

    Returns the incident and whether it was opened now. The incident takes the alert's sector
    and position and the worst severity of its alerts.
    """
    incident = open_incident_of_track(session, alert.track_id)
    data = {"alert_id": alert.alert_id, "rule": alert.rule, "severity": alert.severity}
    if incident is None:
        incident = IncidentRow(
            track_id=alert.track_id,
            sector=alert.sector,
            state=IncidentState.NEW.value,
            outcome=None,
            severity=alert.severity,
            opened=now,
            updated=now,
            resolved=None,
            lon=alert.lon,
            lat=alert.lat,
            unit_id=None,
            alert_count=1,
        )
        session.add(incident)
        session.flush()
        _event(session, incident, time=now, actor=SYSTEM, action="open",
               to_state=IncidentState.NEW.value, data=data)  # fmt: skip
        created = True
    else:
        incident.severity = raise_severity(Severity(incident.severity), Severity(alert.severity))
        incident.alert_count += 1
        incident.lon, incident.lat = alert.lon, alert.lat
        incident.sector = alert.sector  # the track may have moved into the next sector
        incident.updated = now
        _event(session, incident, time=now, actor=SYSTEM, action="alert", data=data)
        created = False
    alert.incident_id = incident.id
    return incident, created


def open_or_join_many(
    session: Session,
    alerts: Sequence[AlertRow],
    now: datetime,
    keys: Mapping[str, str] | None = None,
) -> list[tuple[IncidentRow, bool, dict[str, Any]]]:
    """`open_or_join` for many newly stored alerts, in order, in a constant number of
    statements: per alert its incident, whether it was opened now, and the incident as it stood
    right after that alert (JSON-ready, for the change log).

    `keys` maps an alert id to its incident key (`Alert.incident_key`: the crossing group's
    first track), so alerts of one group's several tracks join one incident; an alert not in
    it joins its own track's."""
    if not alerts:
        return []
    key_of = {a.alert_id: (keys or {}).get(a.alert_id) or a.track_id for a in alerts}
    tracks = list(dict.fromkeys(key_of.values()))
    query = (
        select(IncidentRow)
        .where(IncidentRow.track_id.in_(tracks), IncidentRow.state != IncidentState.RESOLVED)
        .with_for_update()
    )
    incidents = {i.track_id: i for i in session.scalars(query)}
    openers: dict[int, IncidentRow] = {}  # id(alert) -> the incident it opens
    for alert in alerts:
        if key_of[alert.alert_id] not in incidents:
            key = key_of[alert.alert_id]
            incident = incidents[key] = IncidentRow(
                track_id=key, sector=alert.sector, state=IncidentState.NEW.value,
                outcome=None, severity=alert.severity, opened=now, updated=now, resolved=None,
                lon=alert.lon, lat=alert.lat, unit_id=None, alert_count=1,
            )  # fmt: skip
            openers[id(alert)] = incident
    session.add_all(openers.values())
    session.flush()  # one batched INSERT: the new incidents' ids
    out = []
    for alert in alerts:
        incident = incidents[key_of[alert.alert_id]]
        data = {"alert_id": alert.alert_id, "rule": alert.rule, "severity": alert.severity}
        created = openers.get(id(alert)) is incident
        if created:
            _event(session, incident, time=now, actor=SYSTEM, action="open",
                   to_state=IncidentState.NEW.value, data=data)  # fmt: skip
        else:
            incident.severity = raise_severity(
                Severity(incident.severity), Severity(alert.severity)
            )
            incident.alert_count += 1
            incident.lon, incident.lat = alert.lon, alert.lat
            incident.sector = alert.sector  # the track may have moved into the next sector
            incident.updated = now
            _event(session, incident, time=now, actor=SYSTEM, action="alert", data=data)
        alert.incident_id = incident.id
        out.append((incident, created, row_dict(incident)))
    return out


def get_incident(session: Session, incident_id: int, *, lock: bool = False) -> IncidentRow:
    """One incident, or `NotFound`."""
    query = select(IncidentRow).where(IncidentRow.id == incident_id)
    if lock:
        query = query.with_for_update()
    incident = session.scalars(query).first()
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def apply_transition(
    session: Session, incident_id: int, transition: Transition, *, actor: str, now: datetime
) -> IncidentRow:
    """Move an incident on by a named person; `Conflict` (with the workflow's reason) if the
    transition is illegal from its current state. Assigning records a dispatch of the unit;
    reassigning or resolving ends the running one."""
    incident = get_incident(session, incident_id, lock=True)
    before = row_dict(incident)
    state = IncidentState(incident.state)
    try:
        target = next_state(state, transition)
    except IncidentError as error:
        raise Conflict(f"incident {incident_id}: {error}") from None
    action = transition.action
    if action in (IncidentAction.ASSIGN, IncidentAction.RESOLVE):
        reason = "reassigned" if action is IncidentAction.ASSIGN else "resolved"
        _end_dispatch(session, incident, now, reason)
    if action is IncidentAction.ASSIGN:
        assert transition.unit_id is not None  # next_state refuses assign without a unit
        incident.unit_id = transition.unit_id
        session.add(
            DispatchRow(
                incident_id=incident.id,
                unit_id=transition.unit_id,
                ordered=now,
                ordered_by=actor,
                ended=None,
                end_reason=None,
            )
        )
    if action is IncidentAction.RESOLVE:
        assert transition.outcome is not None
        incident.outcome = transition.outcome.value
        incident.resolved = now
    incident.state = target.value
    incident.updated = now
    data: dict[str, Any] = {}
    if transition.unit_id:
        data["unit_id"] = transition.unit_id
    if transition.outcome:
        data["outcome"] = transition.outcome.value
    _event(session, incident, time=now, actor=actor, action=action.value, from_state=state.value,
           to_state=target.value, note=transition.note, data=data)  # fmt: skip
    session.flush()
    audit(session, actor=actor, action=action.value, entity="incident", entity_id=incident.id,
          before=before, after=row_dict(incident), time=now)  # fmt: skip
    return incident


def _end_dispatch(session: Session, incident: IncidentRow, now: datetime, reason: str) -> None:
    query = select(DispatchRow).where(
        DispatchRow.incident_id == incident.id, DispatchRow.ended.is_(None)
    )
    for dispatch in session.scalars(query):
        dispatch.ended = now
        dispatch.end_reason = reason


def add_note(
    session: Session, incident_id: int, note: str, *, actor: str, now: datetime
) -> IncidentRow:
    """Add a person's note to an incident in any state (not a transition)."""
    if not note.strip():
        raise Conflict("a note needs some text")
    incident = get_incident(session, incident_id, lock=True)
    before = row_dict(incident)
    incident.updated = now
    _event(session, incident, time=now, actor=actor, action="note", note=note)
    session.flush()
    audit(session, actor=actor, action="note", entity="incident", entity_id=incident.id,
          before=before, after={**row_dict(incident), "note": note}, time=now)  # fmt: skip
    return incident


def list_incidents(
    session: Session,
    *,
    sector: str | None = None,
    state: str | None = None,
    track_id: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[IncidentRow]:
    """Incidents, newest first, filtered (`before_id`: paging)."""
    query = select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)
    if sector is not None:
        query = query.where(IncidentRow.sector == sector)
    if state is not None:
        query = query.where(IncidentRow.state == state)
    if track_id is not None:
        query = query.where(IncidentRow.track_id == track_id)
    if before_id is not None:
        query = query.where(IncidentRow.id < before_id)
    return session.scalars(query).all()


def incident_events(session: Session, incident_id: int) -> Sequence[IncidentEventRow]:
    """An incident's story, oldest first."""
    query = (
        select(IncidentEventRow)
        .where(IncidentEventRow.incident_id == incident_id)
        .order_by(IncidentEventRow.id)
    )
    return session.scalars(query).all()


def incident_alerts(session: Session, incident_id: int) -> Sequence[AlertRow]:
    """The alerts of an incident, oldest first."""
    query = select(AlertRow).where(AlertRow.incident_id == incident_id).order_by(AlertRow.id)
    return session.scalars(query).all()


def incident_dispatches(session: Session, incident_id: int) -> Sequence[DispatchRow]:
    """The units sent to an incident, oldest first."""
    query = (
        select(DispatchRow).where(DispatchRow.incident_id == incident_id).order_by(DispatchRow.id)
    )
    return session.scalars(query).all()


def open_severities(session: Session, sector: str) -> list[Severity]:
    """The severities of a sector's open incidents."""
    query = select(IncidentRow.severity).where(
        IncidentRow.sector == sector, IncidentRow.state != IncidentState.RESOLVED
    )
    return [Severity(s) for s in session.scalars(query)]


def incident_counts(session: Session) -> dict[tuple[str, str], int]:
    """Incidents per (sector, state)."""
    query = select(IncidentRow.sector, IncidentRow.state, func.count()).group_by(
        IncidentRow.sector, IncidentRow.state
    )
    return {(sector, state): int(n) for sector, state, n in session.execute(query).all()}


def latest_alerts(session: Session, incident_ids: Sequence[int]) -> dict[int, AlertRow]:
    """Each incident's newest alert (where it was last seen, what, by which rule)."""
    if not incident_ids:
        return {}
    newest = (
        select(func.max(AlertRow.id))
        .where(AlertRow.incident_id.in_(list(incident_ids)))
        .group_by(AlertRow.incident_id)
    )
    rows = session.scalars(select(AlertRow).where(AlertRow.id.in_(newest))).all()
    return {r.incident_id: r for r in rows if r.incident_id is not None}


def merge_incidents(
    session: Session, into_id: int, other_ids: Sequence[int], *, actor: str, note: str,
    now: datetime,
) -> list[IncidentRow]:  # fmt: skip
    """Fold open incidents into another open one (one crossing reported twice): their alerts
    move to it, its severity is the worst, and each folded incident is closed with no outcome
    (it was never a crossing of its own), its running dispatch ended. Returns every incident
    touched, the kept one first. `Conflict` if any is closed or the list names the kept one."""
    if into_id in other_ids:
        raise Conflict(f"incident {into_id} cannot be merged into itself")
    into = get_incident(session, into_id, lock=True)
    if into.state == IncidentState.RESOLVED:
        raise Conflict(f"incident {into_id} is resolved: merge into an open incident")
    before = row_dict(into)
    folded = []
    for other_id in sorted(set(other_ids)):
        other = get_incident(session, other_id, lock=True)
        if other.state == IncidentState.RESOLVED:
            raise Conflict(f"incident {other_id} is resolved: only open incidents are merged")
        other_before = row_dict(other)
        for alert in session.scalars(select(AlertRow).where(AlertRow.incident_id == other.id)):
            alert.incident_id = into.id
        into.alert_count += other.alert_count
        into.severity = raise_severity(Severity(into.severity), Severity(other.severity))
        _end_dispatch(session, other, now, "merged")
        other.state = IncidentState.RESOLVED.value
        other.resolved = now
        other.updated = now
        _event(session, other, time=now, actor=actor, action="merge", from_state=other_before[
            "state"], to_state=other.state, note=note, data={"into": into.id})  # fmt: skip
        audit(session, actor=actor, action="merge", entity="incident", entity_id=other.id,
              before=other_before, after=row_dict(other), time=now)  # fmt: skip
        folded.append(other)
    into.updated = now
    _event(session, into, time=now, actor=actor, action="merge", note=note,
           data={"merged": [o.id for o in folded]})  # fmt: skip
    session.flush()
    audit(session, actor=actor, action="merge", entity="incident", entity_id=into.id,
          before=before, after=row_dict(into), time=now)  # fmt: skip
    return [into, *folded]

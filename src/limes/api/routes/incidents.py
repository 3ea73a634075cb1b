"""Incidents: list, detail, transitions and notes (by named people, audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.api.models import (
    AcknowledgeIn,
    AcknowledgeOut,
    AlertOut,
    DispatchOut,
    IncidentDetail,
    IncidentEventOut,
    IncidentOut,
    MergeIn,
    NoteIn,
    Page,
    TransitionIn,
    WorkflowStateOut,
)
from limes.api.paging import Cursor, Limit, int_cursor, page
from limes.api.routes.common import IncidentId, services
from limes.api.services import Services
from limes.ops.alert import Rule
from limes.ops.incidents import IncidentState, Transition, workflow_table
from limes.store.incidents import (
    get_incident,
    incident_alerts,
    incident_dispatches,
    incident_events,
    latest_alerts,
    list_incidents,
)
from limes.store.tables import AlertRow, IncidentRow
from limes.store.users import Principal

router = APIRouter(tags=["incidents"])
Svc = Annotated[Services, Depends(services)]
Worker = Annotated[Principal, Depends(require(Permission.WORK_INCIDENTS))]


@router.get("/incidents", response_model=Page[IncidentOut], responses=responses(401, 403, 422))
def get_incidents(
    _: Annotated[Principal, Depends(require(Permission.READ))],
    svc: Svc,
    sector: Annotated[str | None, Query(max_length=100)] = None,
    state: IncidentState | None = None,
    track_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[IncidentOut]:
    """Incidents, newest first, filtered by sector, state and track."""
    with svc.db.reader() as session:
        rows = list_incidents(
            session,
            sector=sector,
            state=state,
            track_id=track_id,
            before_id=int_cursor(cursor),
            limit=limit + 1,
        )
        items, nxt = page(rows, limit, lambda r: r.id)
        last = latest_alerts(session, [r.id for r in items])
        return Page[IncidentOut](items=[_out(r, last.get(r.id)) for r in items], next_cursor=nxt)


def _out(row: IncidentRow, alert: AlertRow | None) -> IncidentOut:
    """An incident with where, what and which rule its newest alert saw."""
    out = IncidentOut.model_validate(row)
    if alert is not None:
        out.chainage_km, out.rule = alert.chainage_km, Rule(alert.rule)
        out.target_class, out.group_size = alert.target_class, alert.group_size
    return out


@router.get("/incidents/workflow", response_model=dict[IncidentState, WorkflowStateOut],
            responses=responses(401, 403))  # fmt: skip
def get_workflow(
    _: Annotated[Principal, Depends(require(Permission.READ))],
) -> dict[str, dict[str, object]]:
    """The transition table the server enforces: per state, the actions allowed (and where each
    leads) and the outcomes a resolve accepts. Clients offer exactly these."""
    return workflow_table()


def _detail(svc: Services, incident_id: int) -> IncidentDetail:
    with svc.db.reader() as session:
        row = get_incident(session, incident_id)
        alerts = incident_alerts(session, row.id)
        return IncidentDetail(
            **_out(row, alerts[-1] if alerts else None).model_dump(
                exclude={"mgrs", "actions", "outcomes"}
            ),
            events=[IncidentEventOut.model_validate(e) for e in incident_events(session, row.id)],
            alerts=[AlertOut.model_validate(a) for a in alerts],
            dispatches=[
                DispatchOut.model_validate(d) for d in incident_dispatches(session, row.id)
            ],
        )


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentDetail,
    responses=responses(401, 403, 404, 422),
)
def get_one(
    incident_id: IncidentId,
    _: Annotated[Principal, Depends(require(Permission.READ))],
    svc: Svc,
) -> IncidentDetail:
    """One incident with its story (events), alerts and dispatches."""
    return _detail(svc, incident_id)


@router.post(
    "/incidents/{incident_id}/transitions",
    response_model=IncidentDetail,
    responses=responses(401, 403, 404, 409, 422),
)
def transition(
    incident_id: IncidentId, body: TransitionIn, who: Worker, svc: Svc
) -> IncidentDetail:
    """Move an incident on: acknowledge, assign (a unit), resolve (with an outcome).

    An illegal transition answers 409 naming the state, the action and what is allowed.
    """
    sc = svc.scenario
    if body.unit_id is not None and sc is not None and body.unit_id not in sc.units:
        raise ApiError(422, "invalid_request", f"body.unit_id: no unit {body.unit_id!r}")
    step = Transition(body.action, body.unit_id, body.outcome, body.note)
    svc.workflow.transition(incident_id, step, actor=who.name, now=svc.now())
    return _detail(svc, incident_id)


@router.post(
    "/incidents/{incident_id}/notes",
    response_model=IncidentDetail,
    responses=responses(401, 403, 404, 409, 422),
)
def note(incident_id: IncidentId, body: NoteIn, who: Worker, svc: Svc) -> IncidentDetail:
    """Add a note to an incident, in any state."""
    svc.workflow.note(incident_id, body.note, actor=who.name, now=svc.now())
    return _detail(svc, incident_id)


@router.post(
    "/incidents/acknowledge", response_model=AcknowledgeOut, responses=responses(401, 403, 422)
)
def acknowledge_many(body: AcknowledgeIn, who: Worker, svc: Svc) -> AcknowledgeOut:
    """Acknowledge several incidents at once; each one the workflow refuses (not new, or
    unknown) is named with the reason, and the others are acknowledged all the same."""
    done, refused = svc.workflow.acknowledge_many(body.ids, actor=who.name, note=body.note,
                                                  now=svc.now())  # fmt: skip
    return AcknowledgeOut(acknowledged=done, refused=refused)


@router.post(
    "/incidents/{incident_id}/merge",
    response_model=IncidentDetail,
    responses=responses(401, 403, 404, 409, 422),
)
def merge(incident_id: IncidentId, body: MergeIn, who: Worker, svc: Svc) -> IncidentDetail:
    """Fold other open incidents into this one (one crossing reported as several): their
    alerts join it and they close without an outcome, each naming this one in its story."""
    svc.workflow.merge(incident_id, body.ids, actor=who.name, note=body.note, now=svc.now())
    return _detail(svc, incident_id)

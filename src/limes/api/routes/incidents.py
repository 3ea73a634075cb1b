"""Incidents: list, detail, transitions and notes (by named people, audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.api.models import (
    AlertOut,
    DispatchOut,
    IncidentDetail,
    IncidentEventOut,
    IncidentOut,
    NoteIn,
    Page,
    TransitionIn,
)
from limes.api.paging import Cursor, Limit, int_cursor, page
from limes.api.routes.common import now, services
from limes.api.services import Services
from limes.ops.incidents import IncidentState, Transition
from limes.store.incidents import (
    get_incident,
    incident_alerts,
    incident_dispatches,
    incident_events,
    list_incidents,
)
from limes.store.users import Principal

router = APIRouter(tags=["incidents"])
Svc = Annotated[Services, Depends(services)]
IncidentId = Annotated[int, Path(ge=1, le=2**62)]
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
        return Page[IncidentOut](
            items=[IncidentOut.model_validate(r) for r in items], next_cursor=nxt
        )


def _detail(svc: Services, incident_id: int) -> IncidentDetail:
    with svc.db.reader() as session:
        row = get_incident(session, incident_id)
        return IncidentDetail(
            **IncidentOut.model_validate(row).model_dump(),
            events=[IncidentEventOut.model_validate(e) for e in incident_events(session, row.id)],
            alerts=[AlertOut.model_validate(a) for a in incident_alerts(session, row.id)],
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
    svc.workflow.transition(incident_id, step, actor=who.name, now=now())
    return _detail(svc, incident_id)


@router.post(
    "/incidents/{incident_id}/notes",
    response_model=IncidentDetail,
    responses=responses(401, 403, 404, 409, 422),
)
def note(incident_id: IncidentId, body: NoteIn, who: Worker, svc: Svc) -> IncidentDetail:
    """Add a note to an incident, in any state."""
    svc.workflow.note(incident_id, body.note, actor=who.name, now=now())
    return _detail(svc, incident_id)

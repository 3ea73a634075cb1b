"""Dispatch routes: units ranked for an incident or a place, and sending one (status en route).

The advice follows the `DispatchConfig` given to `create_app` (`Services.dispatch`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.api.routes.common import IncidentId, scenario, services
from limes.api.services import Services
from limes.ops.dispatch import (
    Advice,
    DispatchConfig,
    DispatchError,
    Target,
    UnitSituation,
    advise,
    predict_target,
    target_at_lonlat,
    time_to_inner_edge,
)
from limes.ops.incidents import IncidentAction, Transition
from limes.scenario.model import Scenario
from limes.store.database import Database
from limes.store.errors import Conflict, NotFound
from limes.store.tables import IncidentRow, TrackRow
from limes.store.units import UnitReport, UnitStatus, active_dispatches, unit_states
from limes.store.users import Principal

# At module level: with postponed annotations FastAPI resolves dependencies by name here.
Reader = Annotated[Principal, Depends(require(Permission.READ))]

router = APIRouter(tags=["dispatch"])


class AdviceOut(BaseModel):
    """One unit's time to the target and its route."""

    unit_id: str
    kind: str
    mode: str = Field(description='"ground" (roads and off road) or "air" (straight line)')
    readiness_s: float
    travel_s: float
    total_s: float = Field(description="readiness + travel, seconds")
    distance_m: float
    route: list[tuple[float, float]] = Field(description="lon/lat polyline, unit to target")


class DispatchAdviceOut(BaseModel):
    """Units ranked quickest first for one target."""

    target_lon: float
    target_lat: float
    predicted_from: datetime | None = Field(
        None, description="time of the track state the target was predicted from, if any"
    )
    units: list[AdviceOut]


class SendIn(BaseModel):
    """Which unit to send."""

    unit_id: str = Field(max_length=64)
    note: str = Field("", max_length=2000)


def situations(db: Database) -> dict[str, UnitSituation]:
    """Each unit's last reported status and position, and its running dispatch, from the store."""
    with db.reader() as session:
        states = unit_states(session)
        running = active_dispatches(session)
    out = {}
    for uid in set(states) | set(running):
        s, d = states.get(uid), running.get(uid)
        out[uid] = UnitSituation(
            uid,
            s.status if s else None,
            s.lon if s else None,
            s.lat if s else None,
            d.incident_id if d else None,
        )
    return out


def incident_target(
    db: Database, sc: Scenario, incident_id: int, lead_s: float
) -> tuple[Target, datetime | None, float | None]:
    """Where to send units for an incident: its track's position `lead_s` ahead, else its place;
    the time of the track state it was predicted from; and the group's seconds to the strip's
    inner edge (None when its track is gone or not heading in)."""
    with db.reader() as session:
        incident = session.get(IncidentRow, incident_id)
        if incident is None:
            raise ApiError(404, "not_found", f"no incident {incident_id}")
        track = session.get(TrackRow, incident.track_id)
        if track is not None and track.status != "deleted":
            target = predict_target(sc, track.x, track.y, track.vx, track.vy, lead_s)
            group_s = time_to_inner_edge(sc, track.x, track.y, track.vx, track.vy)
            return target, track.time, group_s
        return target_at_lonlat(sc, incident.lon, incident.lat), None, None


def ranked(svc: Services, sc: Scenario, target: Target, cfg: DispatchConfig) -> list[Advice]:
    """Free units ranked for a target: from the kept travel fields when the app keeps them."""
    if svc.advice is not None and svc.advice.config == cfg:
        return svc.advice.advise(target, situations(svc.db))
    return advise(sc, target, situations(svc.db), cfg)


def _out(target: Target, advice: list[Advice], since: datetime | None) -> DispatchAdviceOut:
    return DispatchAdviceOut(
        target_lon=target.lon,
        target_lat=target.lat,
        predicted_from=since,
        units=[AdviceOut.model_validate(a, from_attributes=True) for a in advice],
    )


@router.get(
    "/dispatch/advice",
    response_model=DispatchAdviceOut,
    responses=responses(401, 403, 404, 422),
    summary="Free units ranked by time to a place",
)
def advice_for_place(
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    _: Reader,
    svc: Annotated[Services, Depends(services)],
    sc: Annotated[Scenario, Depends(scenario)],
) -> DispatchAdviceOut:
    try:
        target = target_at_lonlat(sc, lon, lat)
    except DispatchError as error:
        raise ApiError(422, "invalid_request", str(error)) from None
    return _out(target, ranked(svc, sc, target, svc.dispatch), None)


@router.get(
    "/incidents/{incident_id}/advice",
    response_model=DispatchAdviceOut,
    responses=responses(401, 403, 404, 422),
    summary="Free units ranked by time to an incident's predicted position",
)
def advice_for_incident(
    incident_id: IncidentId,
    _: Reader,
    svc: Annotated[Services, Depends(services)],
    sc: Annotated[Scenario, Depends(scenario)],
) -> DispatchAdviceOut:
    target, since, _group_s = incident_target(svc.db, sc, incident_id, svc.dispatch.lead_s)
    return _out(target, ranked(svc, sc, target, svc.dispatch), since)


@router.post(
    "/incidents/{incident_id}/dispatch",
    responses=responses(401, 403, 404, 409, 422),
    summary="Send a unit: the incident is assigned to it and the unit is en route",
)
def send(
    incident_id: IncidentId,
    body: SendIn,
    who: Annotated[Principal, Depends(require(Permission.WORK_INCIDENTS))],
    svc: Annotated[Services, Depends(services)],
    sc: Annotated[Scenario, Depends(scenario)],
) -> dict[str, object]:
    if body.unit_id not in sc.units:
        raise ApiError(404, "not_found", f"no unit {body.unit_id!r} in scenario {sc.name}")
    t = svc.now()
    try:
        incident = svc.workflow.transition(
            incident_id,
            Transition(IncidentAction.ASSIGN, unit_id=body.unit_id, note=body.note),
            actor=who.name,
            now=t,
        )
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    except Conflict as error:
        raise ApiError(409, "conflict", str(error)) from None
    unit = svc.workflow.report_unit(
        UnitReport(body.unit_id, t, UnitStatus.EN_ROUTE), actor=who.name, now=t
    )
    return {"incident": incident, "unit": unit}

"""Response units: the scenario's units with their reported status; status/position reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.api.models import UnitOut, UnitReportIn
from limes.api.routes.common import aware, scenario, services
from limes.api.services import Services
from limes.scenario.model import Scenario
from limes.store.units import UnitReport, UnitStatus, active_dispatches, unit_states
from limes.store.users import Principal, Role

router = APIRouter(tags=["units"])


def _units(svc: Services, sc: Scenario) -> dict[str, UnitOut]:
    with svc.db.reader() as session:
        states = unit_states(session)
        dispatched = active_dispatches(session)
    out = {}
    for unit in sc.spec.units:
        lon, lat = sc.position_lonlat(unit.base)
        state = states.get(unit.id)
        dispatch = dispatched.get(unit.id)
        out[unit.id] = UnitOut(
            id=unit.id,
            kind=unit.kind.value,
            label=unit.label,
            base_lon=lon,
            base_lat=lat,
            available=unit.available,
            status=UnitStatus(state.status) if state else None,
            lon=state.lon if state else None,
            lat=state.lat if state else None,
            reported=state.time if state else None,
            incident_id=dispatch.incident_id if dispatch else None,
        )
    return out


@router.get("/units", response_model=list[UnitOut], responses=responses(401, 403, 404))
def list_units(
    _: Annotated[Principal, Depends(require(Permission.READ))],
    svc: Annotated[Services, Depends(services)],
    sc: Annotated[Scenario, Depends(scenario)],
) -> list[UnitOut]:
    """The scenario's units with their last report and current dispatch (bounded: no paging)."""
    return list(_units(svc, sc).values())


@router.post(
    "/units/{unit_id}/reports", response_model=UnitOut, responses=responses(401, 403, 404, 422)
)
def report_unit(
    unit_id: Annotated[str, Path(max_length=64)],
    body: UnitReportIn,
    who: Annotated[Principal, Depends(require(Permission.REPORT_UNIT))],
    svc: Annotated[Services, Depends(services)],
    sc: Annotated[Scenario, Depends(scenario)],
) -> UnitOut:
    """A unit's status and/or position. Commanders report for any unit; a sensor token only for
    the unit ids it speaks for (a unit's own tracker)."""
    if who.role is Role.SENSOR and unit_id not in who.speaks_for:
        raise ApiError(403, "forbidden", f"this sensor token may not report for unit {unit_id!r}")
    if unit_id not in sc.units:
        raise ApiError(404, "not_found", f"no unit {unit_id!r} in scenario {sc.name}")
    if (body.lon is None) != (body.lat is None):
        raise ApiError(422, "invalid_request", "body: give both lon and lat, or neither")
    t = svc.now()
    report = UnitReport(
        unit_id, aware(body.time, "body.time") or t, body.status, body.lon, body.lat
    )
    svc.workflow.report_unit(report, actor=who.name, now=t)
    return _units(svc, sc)[unit_id]

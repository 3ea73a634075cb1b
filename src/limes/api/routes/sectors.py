"""Sectors and their EUROSUR impact levels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.api.models import ImpactIn, SectorOut
from limes.api.routes.common import services
from limes.api.services import Services
from limes.ops.incidents import ImpactLevel, IncidentState
from limes.store.incidents import incident_counts
from limes.store.sectors import list_sectors
from limes.store.users import Principal

router = APIRouter(tags=["sectors"])
Svc = Annotated[Services, Depends(services)]


def _sectors(svc: Services) -> dict[str, SectorOut]:
    commands = {s.name: s.command for s in svc.scenario.spec.sectors} if svc.scenario else {}
    with svc.db.reader() as session:
        stored = {row.name: row for row in list_sectors(session)}
        counts = incident_counts(session)
    open_by_sector: dict[str, int] = {}
    for (sector, state), n in counts.items():
        if state != IncidentState.RESOLVED:
            open_by_sector[sector] = open_by_sector.get(sector, 0) + n
    out = {}
    for name in [*commands, *sorted(set(stored) - set(commands))]:
        row = stored.get(name)
        out[name] = SectorOut(
            name=name,
            command=commands.get(name),
            level=ImpactLevel(row.level) if row else ImpactLevel.LOW,
            set_level=ImpactLevel(row.set_level) if row else ImpactLevel.LOW,
            set_by=row.set_by if row else None,
            set_at=row.set_at if row else None,
            note=row.note if row else "",
            open_incidents=open_by_sector.get(name, 0),
        )
    return out


@router.get("/sectors", response_model=list[SectorOut], responses=responses(401, 403))
def get_sectors(
    _: Annotated[Principal, Depends(require(Permission.READ))], svc: Svc
) -> list[SectorOut]:
    """Every sector with its impact level (scenario order; bounded: no paging)."""
    return list(_sectors(svc).values())


@router.put(
    "/sectors/{name}/impact", response_model=SectorOut, responses=responses(401, 403, 404, 422)
)
def set_impact(
    name: Annotated[str, Path(max_length=100)],
    body: ImpactIn,
    who: Annotated[Principal, Depends(require(Permission.COMMAND))],
    svc: Svc,
) -> SectorOut:
    """A commander sets a sector's impact level; open incidents may hold it higher."""
    if svc.scenario is not None and name not in {s.name for s in svc.scenario.spec.sectors}:
        raise ApiError(404, "not_found", f"no sector {name!r} in scenario {svc.scenario.name}")
    svc.workflow.set_impact(name, body.level, actor=who.name, note=body.note, now=svc.now())
    return _sectors(svc)[name]

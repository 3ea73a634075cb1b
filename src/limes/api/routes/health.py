"""Liveness (no token) and readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from limes.api.auth import Permission, require
from limes.api.errors import responses
from limes.api.models import Health, Ready
from limes.api.routes.common import services
from limes.store.migrate import is_current
from limes.store.users import Principal

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness (no token needed)")
def health() -> Health:
    """The process answers. The only route open without a token."""
    return Health()


@router.get(
    "/ready",
    response_model=Ready,
    summary="Readiness: database reachable and schema current",
    responses={**responses(401, 403), 503: {"model": Ready, "description": "Not ready."}},
)
def ready(
    request: Request, _: Annotated[Principal, Depends(require(Permission.READ))]
) -> JSONResponse:
    svc = services(request)
    database = svc.db.ping()
    current = database and is_current(svc.db)
    trouble = svc.ingest.trouble() if svc.ingest and svc.ingest.trouble else None
    reason = (
        "the database does not answer" if not database
        else "the schema is not current" if not current
        else trouble
    )  # fmt: skip
    body = Ready(
        ready=reason is None,
        database=database,
        schema_current=current,
        scenario=svc.scenario.name if svc.scenario else None,
        reason=reason,
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)

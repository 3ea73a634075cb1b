"""Alerts, newest first, with filters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from limes.api.auth import Permission, require
from limes.api.errors import responses
from limes.api.models import AlertOut, Page
from limes.api.paging import Cursor, Limit, int_cursor, page
from limes.api.routes.common import aware, services
from limes.api.services import Services
from limes.ops.alert import Rule, Severity
from limes.store.alerts import list_alerts
from limes.store.users import Principal

router = APIRouter(tags=["alerts"])
Text = Annotated[str | None, Query(max_length=100)]


@router.get("/alerts", response_model=Page[AlertOut], responses=responses(401, 403, 422))
def get_alerts(
    _: Annotated[Principal, Depends(require(Permission.READ))],
    svc: Annotated[Services, Depends(services)],
    sector: Text = None,
    rule: Rule | None = None,
    severity: Severity | None = None,
    track_id: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[AlertOut]:
    """Alerts, newest first, filtered by sector, rule, severity, track and time window."""
    since, until = aware(since, "query.since"), aware(until, "query.until")
    with svc.db.reader() as session:
        rows = list_alerts(
            session,
            sector=sector,
            rule=rule,
            severity=severity,
            track_id=track_id,
            since=since,
            until=until,
            before_id=int_cursor(cursor),
            limit=limit + 1,
        )
        items, nxt = page(rows, limit, lambda r: r.id)
        return Page[AlertOut](items=[AlertOut.model_validate(r) for r in items], next_cursor=nxt)

"""The change log over plain HTTP: the stream's content for clients that poll."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from limes.api.auth import Permission, require
from limes.api.errors import responses
from limes.api.models import ChangeOut, ChangesOut
from limes.api.paging import MAX_LIMIT
from limes.api.routes.common import services
from limes.api.services import Services
from limes.store.changes import change_bounds, changes_after
from limes.store.users import Principal

router = APIRouter(tags=["stream"])


@router.get("/changes", response_model=ChangesOut, responses=responses(401, 403, 422))
def get_changes(
    _: Annotated[Principal, Depends(require(Permission.READ))],
    svc: Annotated[Services, Depends(services)],
    cursor: Annotated[int, Query(ge=0, le=2**62, description="last change id handled")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> ChangesOut:
    """Changes after `cursor`, oldest first (the same messages the WebSocket stream sends)."""
    with svc.db.reader() as session:
        oldest, _newest = change_bounds(session)
        reset = oldest > cursor + 1
        start = oldest - 1 if reset else cursor
        rows = changes_after(session, start, limit)
        items = [ChangeOut.model_validate(r) for r in rows]
    return ChangesOut(
        changes=items, cursor=items[-1].id if items else start, oldest=oldest, reset=reset
    )

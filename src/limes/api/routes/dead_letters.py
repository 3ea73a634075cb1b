"""Dead letters: what the doors refused, with why and the bytes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from limes.api.auth import Permission, require
from limes.api.errors import responses
from limes.api.models import DeadLetterOut, Page
from limes.api.paging import Cursor, Limit, int_cursor, page
from limes.api.routes.common import services
from limes.api.services import Services
from limes.ops.ingest.dead_letter import RejectReason
from limes.store.dead_letters import dead_letters
from limes.store.tables import DeadLetterRow
from limes.store.users import Principal

router = APIRouter(tags=["dead letters"])


def _out(row: DeadLetterRow) -> DeadLetterOut:
    return DeadLetterOut(
        id=row.id,
        reason=row.reason,
        detail=row.detail,
        source=row.source,
        received=row.received,
        item=row.item,
        sensor_id=row.sensor_id,
        payload_text=row.payload.decode("utf-8", errors="replace"),
        payload_size=len(row.payload),
    )


@router.get("/dead-letters", response_model=Page[DeadLetterOut], responses=responses(401, 403, 422))
def get_dead_letters(
    _: Annotated[Principal, Depends(require(Permission.READ))],
    svc: Annotated[Services, Depends(services)],
    reason: RejectReason | None = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[DeadLetterOut]:
    """Rejected reports, newest first, by reason and source."""
    with svc.db.reader() as session:
        rows = dead_letters(
            session, reason=reason, source=source, before_id=int_cursor(cursor), limit=limit + 1
        )
        items, nxt = page(rows, limit, lambda r: r.id)
        return Page[DeadLetterOut](items=[_out(r) for r in items], next_cursor=nxt)

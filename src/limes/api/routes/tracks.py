"""Tracks: current states and each track's history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.api.models import Page, TrackOut, TrackPointOut
from limes.api.paging import Cursor, Limit, int_cursor, page
from limes.api.routes.common import aware, services
from limes.api.services import Services
from limes.store.tracks import current_tracks, track, track_history
from limes.store.users import Principal

router = APIRouter(tags=["tracks"])
Reader = Annotated[Principal, Depends(require(Permission.READ))]
Svc = Annotated[Services, Depends(services)]
TrackId = Annotated[str, Path(max_length=64)]
Status = Literal["tentative", "confirmed", "coasting", "deleted", "alive", "all"]


@router.get("/tracks", response_model=Page[TrackOut], responses=responses(401, 403, 422))
def list_tracks(
    _: Reader,
    svc: Svc,
    status: Annotated[
        Status, Query(description='one status; "alive" (default): all but deleted; "all"')
    ] = "alive",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[TrackOut]:
    """Current tracks by id: by default those alive (deleted ones only when asked)."""
    with svc.db.reader() as session:
        rows = current_tracks(session, status=status, after_track_id=cursor, limit=limit + 1)
        items, nxt = page(rows, limit, lambda r: r.track_id)
        return Page[TrackOut](items=[TrackOut.model_validate(r) for r in items], next_cursor=nxt)


@router.get("/tracks/{track_id}", response_model=TrackOut, responses=responses(401, 403, 404))
def get_track(track_id: TrackId, _: Reader, svc: Svc) -> TrackOut:
    """One track's current state."""
    with svc.db.reader() as session:
        row = track(session, track_id)
        if row is None:
            raise ApiError(404, "not_found", f"no track {track_id!r}")
        return TrackOut.model_validate(row)


@router.get(
    "/tracks/{track_id}/history",
    response_model=Page[TrackPointOut],
    responses=responses(401, 403, 422),
)
def get_history(
    track_id: TrackId,
    _: Reader,
    svc: Svc,
    since: Annotated[datetime | None, Query(description="from this time (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="to this time (exclusive)")] = None,
    limit: Limit = 1000,
    cursor: Cursor = None,
) -> Page[TrackPointOut]:
    """A track's past states in a time window (empty for an unknown track)."""
    since, until = aware(since, "query.since"), aware(until, "query.until")
    with svc.db.reader() as session:
        rows = track_history(
            session,
            track_id,
            since=since,
            until=until,
            after_id=int_cursor(cursor),
            limit=limit + 1,
        )
        items, nxt = page(rows, limit, lambda r: r.id)
        return Page[TrackPointOut](
            items=[TrackPointOut.model_validate(r) for r in items], next_cursor=nxt
        )

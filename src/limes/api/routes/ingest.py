"""HTTP ingest: a sensor posts a detection or a batch, only for its own sensor ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.api.models import IngestErrorOut, IngestResultOut
from limes.api.rate_limit import RateLimiter
from limes.api.routes.common import services
from limes.api.services import Services
from limes.errors import LimesError
from limes.ops.ingest.http_batch import ingest_http_batch
from limes.ops.ingest.json_format import detection_json_schema
from limes.store.users import Principal

router = APIRouter(tags=["ingest"])
#: Seconds a sender should wait before retrying when the store cannot take its reports.
RETRY = {"Retry-After": "5"}


def _body_schema() -> dict[str, object]:
    schema = detection_json_schema()
    schema.pop("$schema", None)
    return schema


@router.post(
    "/ingest/detections",
    response_model=IngestResultOut,
    responses=responses(401, 403, 413, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _body_schema()}},
            "description": 'One detection, or {"detections": [...]} (docs/protocols.md).',
        }
    },
)
async def ingest(
    request: Request,
    who: Annotated[Principal, Depends(require(Permission.INGEST))],
    svc: Annotated[Services, Depends(services)],
) -> IngestResultOut:
    """Take detections from a sensor token, for the sensor ids it speaks for.

    Every item gets an answer: accepted, duplicate, or rejected with reason and detail (kept
    as a dead letter). Items for another sensor are rejected as `sensor_mismatch`.
    """
    wait = svc.limiter.take(who.token_id)
    if wait > 0:
        svc.count("ingest_rate_limited")
        raise ApiError(
            429,
            "rate_limited",
            f"over {svc.settings.ingest_rate_per_s:g} requests/s for this token",
            {"Retry-After": RateLimiter.retry_after(wait)},
        )
    ctx, handoff = svc.ingest_context, svc.ingest
    if ctx is None or handoff is None:
        raise ApiError(503, "unavailable", "ingest needs a scenario; none is loaded")
    trouble = handoff.trouble() if handoff.trouble is not None else None
    if trouble is not None:
        svc.count("ingest_unavailable")
        raise ApiError(503, "unavailable", f"not taking detections now: {trouble}", RETRY)
    cap = ctx.limits.max_message_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ApiError(413, "too_large", f"body of {declared} bytes, over the {cap} byte limit")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise ApiError(413, "too_large", f"body over the {cap} byte limit")
    try:
        result = await run_in_threadpool(
            ingest_http_batch,
            body,
            ctx,
            on_detections=handoff.on_detections,
            on_rejection=handoff.on_rejection,
            dedup=handoff.dedup,
            allowed_sensors=who.speaks_for,
            source=f"http:{who.name}",
        )
    except (LimesError, DBAPIError, OSError, TimeoutError) as error:  # refused: retry later
        svc.count("ingest_unavailable")
        raise ApiError(
            503, "unavailable", f"could not take the detections now ({error})", RETRY
        ) from None
    if handoff.stored is not None and not await run_in_threadpool(
        handoff.stored, handoff.store_wait_s
    ):
        # Taken but not stored in time: the sender retries; the repeat is answered as a
        # duplicate (not tracked twice) once the first is stored.
        svc.count("ingest_unavailable")
        raise ApiError(
            503, "unavailable", f"not stored within {handoff.store_wait_s:g} s; retry", RETRY
        )
    svc.count("ingest_accepted", result.accepted)
    svc.count("ingest_rejected", result.rejected)
    return IngestResultOut(
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=result.rejected,
        errors=[
            IngestErrorOut(item=e.item, reason=e.reason.value, detail=e.detail)
            for e in result.errors
        ],
    )

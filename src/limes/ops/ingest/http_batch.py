"""The HTTP door: one JSON body (a detection or a batch) from the API, with a per-item answer."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.dead_letter import RejectReason
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.delivery import Delivery, OnDetections, OnRejection
from limes.ops.ingest.json_format import parse_json_message


class ItemError(BaseModel):
    """Why one item (or, with `item` None, the whole body) was rejected."""

    model_config = ConfigDict(frozen=True)

    item: int | None
    reason: RejectReason
    detail: str


class HttpBatchResult(BaseModel):
    """The answer to one HTTP body: counts and the errors, item by item."""

    model_config = ConfigDict(frozen=True)

    accepted: int
    duplicates: int
    rejected: int
    errors: list[ItemError]


def ingest_http_batch(
    body: bytes,
    ctx: IngestContext,
    *,
    on_detections: OnDetections,
    on_rejection: OnRejection,
    dedup: Deduplicator | None = None,
    allowed_sensors: Collection[str] | None = None,
    source: str = "http",
    received: datetime | None = None,
) -> HttpBatchResult:
    """Check one body, hand its detections and rejections on, and say what became of each item.

    `allowed_sensors` (None: any) are the sensors the authenticated caller may report for.
    Never raises on bad input; an error raised by `on_detections` propagates (answer 503, the
    client retries, and the deduplicator has forgotten the items so the retry is taken).
    """
    outcome = parse_json_message(
        body, ctx, source=source, received=received, allowed_sensors=allowed_sensors
    )
    delivered = Delivery(on_detections, on_rejection, dedup)(outcome)
    return HttpBatchResult(
        accepted=delivered.accepted,
        duplicates=delivered.duplicates,
        rejected=delivered.rejected,
        errors=[
            ItemError(item=r.item, reason=r.reason, detail=r.detail) for r in outcome.rejections
        ],
    )

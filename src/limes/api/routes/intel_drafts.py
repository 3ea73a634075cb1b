"""Draft reports from `limes intel ingest` into the analyst's queue.

- `POST /api/intel/drafts`: file drafts (each a `reports.jsonl` line with the body of the
  document its span points into) as intelligence reports in review (`status: draft`). They
  raise no threat level until an analyst accepts them (`PUT /api/intel/reports/{id}` with
  `status: accepted`, after editing what needs it); rejected ones stay on record.

A draft already filed (same draft id) is left as it is, so re-submitting an ingest never
undoes a review. New drafts are graded with the claims already stored, so a later batch's
independent report of the same event raises the credibility of both, and a republication of a
stored story does not (`limes.share.intel_claims`). A draft whose border-state claim disagrees
with the scenario says so in its title, for the planner.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.api.routes.common import now
from limes.api.routes.intel import Share
from limes.share.report import IntelReport, ThreatLevel
from limes.share.report_store import get_report
from limes.store.errors import NotFound
from limes.store.users import Principal

router = APIRouter(tags=["intelligence"])
Filer = Annotated[Principal, Depends(require(Permission.FILE_INTEL))]


class DraftPlace(BaseModel):
    """A place of a draft (the fields the queue uses; the rest are kept as sent)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(max_length=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    sector: str | None = Field(default=None, max_length=100)


class Draft(BaseModel):
    """One line of `reports.jsonl` (see docs/intelligence.md); unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=200)
    source: str | None = Field(default=None, max_length=200)
    published: str | None = Field(default=None, max_length=64)
    text_span: tuple[int, int] | None = None
    event_type: str | None = Field(default=None, max_length=64)
    actors: list[str] = Field(default_factory=list, max_length=50)
    places: list[DraftPlace] = Field(default_factory=list, max_length=50)
    reliability: str = Field(default="F", max_length=1)
    credibility: int = Field(default=6, ge=1, le=6)
    threat: str = Field(default="low", max_length=16)
    scenario_check: dict[str, Any] | None = None


class DraftIn(BaseModel):
    """One draft and the document body its `text_span` points into."""

    model_config = ConfigDict(extra="forbid")

    draft: Draft = Field(description="one line of reports.jsonl")
    text: str = Field(min_length=1, max_length=200_000, description="the document's body")


class DraftsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drafts: list[DraftIn] = Field(min_length=1, max_length=1000)


class DraftsOut(BaseModel):
    filed: list[str] = Field(description="report ids filed as drafts")
    existing: list[str] = Field(description="report ids already filed (left as they are)")
    raised: list[str] = Field(
        default_factory=list,
        description="report ids already filed whose credibility these drafts raised",
    )


def _title(draft: dict[str, Any]) -> str:
    places = draft.get("places") or []
    where = f" at {places[0]['name']}" if places and places[0].get("name") else ""
    title = f"{draft.get('event_type') or 'report'}{where} ({draft.get('source') or 'unknown'})"
    check = draft.get("scenario_check")
    if isinstance(check, dict) and check.get("agrees") is False:
        title = f"SCENARIO MISMATCH — {title}: {check.get('note', '')}"
    return title[:200]


@router.post(
    "/intel/drafts", status_code=201, response_model=DraftsOut,
    responses=responses(401, 403, 422),
)  # fmt: skip
def post_drafts(body: DraftsIn, who: Filer, share: Share) -> DraftsOut:
    """File ingested drafts in the analyst's queue (analysts, commanders)."""
    stamp = now()
    new: list[tuple[IntelReport, dict[str, Any], str]] = []
    existing: list[str] = []
    for i, item in enumerate(body.drafts):
        draft = item.draft.model_dump(mode="json")
        try:
            report = IntelReport.from_draft(
                draft,
                text=item.text,
                originator=share.sharing.home,
                author=who.name,
                reported=stamp,
            )
            report = report.model_copy(
                update={
                    "title": _title(draft),
                    "threat": ThreatLevel(draft["threat"]),
                }
            )
        except ValueError as error:
            raise ApiError(422, "invalid_request", f"drafts[{i}]: {error}") from None
        try:
            get_report(share.db, report.report_id)
            existing.append(report.report_id)
            continue
        except NotFound:
            pass
        if all(r.report_id != report.report_id for r, _, _ in new):
            new.append((report, draft, item.text))
    # Imported here: the corroboration reader is heavy, and a service that files no draft
    # should not pay for it at every start (restart-to-ready).
    from limes.share.intel_claims import file_drafts

    done = file_drafts(share.db, new, actor=who.name, now=stamp)
    if done.raised:
        share.refresh_threat(stamp)
    return DraftsOut(filed=done.filed, existing=existing, raised=done.raised)

"""Intelligence reports (analysts and commanders file and review them) and the release audit.

- `POST /api/intel/reports`: file a report (originator: this installation; author: the caller);
- `PUT /api/intel/reports/{id}`: a new version (review: accept, reject, edit);
- `GET /api/intel/reports`, `GET /api/intel/reports/{id}`: read them (any reader);
- `GET /api/share/releases`: the release audit (admins): partner, object, version, rule,
  channel, time;
- `GET /api/share/recipients?key=`: who has received an object (the map's view);
- `GET /api/share/explain?partner=&key=`: why an object is or is not released to a partner.

Filing or revising a report recomputes the sector threat levels alert severity reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from limes.api.auth import Permission, require
from limes.api.errors import ApiError, responses
from limes.scenario.sharing import Credibility, Reliability, Tlp
from limes.share.audit import releases
from limes.share.context import ShareContext
from limes.share.guard import UnknownPartner, explain
from limes.share.report import IntelReport, ReportStatus, ThreatLevel
from limes.share.report_store import file_report, get_report, list_reports
from limes.share.shareable import from_record, to_record
from limes.store.users import Principal

router = APIRouter(tags=["intelligence"])
Filer = Annotated[Principal, Depends(require(Permission.FILE_INTEL))]
Reader = Annotated[Principal, Depends(require(Permission.READ))]
Admin = Annotated[Principal, Depends(require(Permission.ADMIN))]
ReportId = Annotated[str, Path(max_length=64)]


def share_context(request: Request) -> ShareContext:
    """The app's sharing context (every app has one; without a scenario it shares nothing)."""
    found: ShareContext = request.app.state.share
    return found


Share = Annotated[ShareContext, Depends(share_context)]


class ReportIn(BaseModel):
    """What an analyst files; the id, originator, author and filing time are the server's."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=200)
    text: str = Field(min_length=1, max_length=20_000)
    time: datetime
    place: str | None = Field(default=None, max_length=200)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    area: list[tuple[float, float]] | None = None
    sector: str | None = Field(default=None, max_length=100)
    source: str = Field(min_length=1, max_length=200)
    reliability: Reliability
    credibility: Credibility
    tlp: Tlp = Tlp.AMBER
    releasable_to: list[str] = Field(default_factory=list, max_length=100)
    actors: list[str] = Field(default_factory=list, max_length=50)
    event_type: str | None = Field(default=None, max_length=64)
    threat: ThreatLevel = ThreatLevel.LOW
    status: ReportStatus = ReportStatus.ACCEPTED


class ReportOut(BaseModel):
    report: IntelReport
    version: int
    grade: str


class ReleaseOut(BaseModel):
    id: int
    time: datetime
    partner: str
    key: str
    version: int
    rule: str
    channel: str


class RecipientOut(BaseModel):
    partner: str
    first: datetime
    last: datetime
    versions: list[int]
    channels: list[str]


class ExplainOut(BaseModel):
    partner: str
    key: str
    released: bool
    available_at: datetime | None
    reasons: list[str]
    projection: dict[str, object] | None


def _check_sector(share: ShareContext, sector: str | None) -> None:
    sc = share.scenario
    if sector is not None and sc is not None and sector not in {s.name for s in sc.spec.sectors}:
        raise ApiError(422, "invalid_request", f"sector: no sector {sector!r} in {sc.name}")


def _file(share: Share, body: ReportIn, who: Principal, report_id: str | None) -> ReportOut:
    _check_sector(share, body.sector)
    stamp = share.clock()
    fields = body.model_dump()
    if report_id is not None:
        fields["report_id"] = report_id
    try:
        report = IntelReport(
            **fields, reported=stamp, originator=share.sharing.home, author=who.name
        )
    except ValueError as error:
        raise ApiError(422, "invalid_request", str(error)) from None
    version = file_report(share.db, report, actor=who.name, now=stamp)
    share.refresh_threat(stamp)
    return ReportOut(report=report, version=version, grade=report.grade)


@router.post(
    "/intel/reports", status_code=201, response_model=ReportOut,
    responses=responses(401, 403, 422),
)  # fmt: skip
def post_report(body: ReportIn, who: Filer, share: Share) -> ReportOut:
    """File an intelligence report (analysts, commanders)."""
    return _file(share, body, who, None)


@router.put(
    "/intel/reports/{report_id}", response_model=ReportOut,
    responses=responses(401, 403, 404, 422),
)  # fmt: skip
def put_report(report_id: ReportId, body: ReportIn, who: Filer, share: Share) -> ReportOut:
    """A new version of a report: accept, reject or edit it."""
    get_report(share.db, report_id)  # 404 when unknown
    return _file(share, body, who, report_id)


@router.get("/intel/reports", response_model=list[ReportOut], responses=responses(401, 403))
def get_reports(
    _: Reader,
    share: Share,
    sector: Annotated[str | None, Query(max_length=100)] = None,
    status: ReportStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReportOut]:
    """Reports, newest event first (a review queue: `status=draft`)."""
    found = list_reports(share.db, sector=sector, status=status, limit=limit)
    return [ReportOut(report=r, version=v, grade=r.grade) for r, v in found]


@router.get(
    "/intel/reports/{report_id}", response_model=ReportOut, responses=responses(401, 403, 404)
)
def get_one_report(report_id: ReportId, _: Reader, share: Share) -> ReportOut:
    """One report, its current version."""
    report, version = get_report(share.db, report_id)
    return ReportOut(report=report, version=version, grade=report.grade)


@router.get("/share/releases", response_model=list[ReleaseOut], responses=responses(401, 403))
def get_releases(
    _: Admin,
    share: Share,
    key: Annotated[str | None, Query(max_length=160)] = None,
    partner: Annotated[str | None, Query(max_length=64)] = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReleaseOut]:
    """The release audit, newest first (admins)."""
    rows = releases(share.db, key=key, partner=partner, before_id=before_id, limit=limit)
    return [
        ReleaseOut(id=r.id, time=r.time, partner=r.partner, key=r.key, version=r.version,
                   rule=r.rule, channel=r.channel)
        for r in rows
    ]  # fmt: skip


@router.get(
    "/share/recipients", response_model=list[RecipientOut], responses=responses(401, 403, 422)
)
def get_recipients(
    _: Reader, share: Share, key: Annotated[str, Query(max_length=160)]
) -> list[RecipientOut]:
    """Who has received an object (`alert:<id>`, `incident:<id>`, …), first and last time."""
    rows = releases(share.db, key=key, limit=10_000)
    by: dict[str, list[tuple[datetime, int, str]]] = {}
    for r in rows:
        by.setdefault(r.partner, []).append((r.time, r.version, r.channel))
    return [
        RecipientOut(
            partner=p, first=min(t for t, _, _ in got), last=max(t for t, _, _ in got),
            versions=sorted({v for _, v, _ in got}), channels=sorted({c for _, _, c in got}),
        )
        for p, got in sorted(by.items())
    ]  # fmt: skip


@router.get("/share/explain", response_model=ExplainOut, responses=responses(401, 403, 404))
def get_explain(
    _: Admin,
    share: Share,
    partner: Annotated[str, Query(max_length=64)],
    key: Annotated[str, Query(max_length=160)],
) -> ExplainOut:
    """Why the newest version of an object is or is not released to a partner, and in what form."""
    try:
        policy = share.partner(partner)
    except UnknownPartner as error:
        raise ApiError(404, "not_found", str(error)) from None
    stamp = share.clock()
    share.catch_up(stamp)
    record = share.feed.latest(key)
    if record is None:
        raise ApiError(404, "not_found", f"no shareable object {key!r}")
    decision = explain(policy, from_record(record), now=stamp)
    projection = None if decision.release is None else to_record(decision.release.object)
    return ExplainOut(
        partner=partner, key=key, released=decision.release is not None,
        available_at=decision.available_at, reasons=decision.reasons, projection=projection,
    )  # fmt: skip

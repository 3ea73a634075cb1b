"""Intelligence reports: what an analyst (or a partner, or the text pipeline) files.

A report says what was learnt (text), when it happened, where (a point and/or an area, and the
sector), who said it (source) and how far to trust it: the Admiralty grade, the source's
reliability (A–F) and the information's credibility (1–6) assessed separately. It carries a
TLP 2.0 marking and its releasability (the partners it may go to: empty, nobody). The
originator is the installation's home id, or the partner that shared it into limes.

Draft reports from `limes intel ingest` (one JSON object a line) become reports through
`IntelReport.from_draft`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from limes.scenario.sharing import Credibility, ObjectKind, Reliability, Tlp
from limes.share.shareable import Shareable

Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]

#: Namespace of report ids minted from a draft's own id (so a re-ingested draft is the same).
REPORT_NAMESPACE = uuid.UUID("0f6b1c3e-7a59-5e0a-8c1d-6c696d657332")


class ReportStatus(StrEnum):
    """Where a report is in review: drafts wait in the analyst's queue."""

    DRAFT = "draft"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ThreatLevel(StrEnum):
    """The threat a report indicates for its sector (the EUROSUR impact-level words)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IntelReport(BaseModel):
    """One graded, marked intelligence report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: str = Field(default_factory=lambda: str(uuid.uuid4()), max_length=64)
    title: str = Field(default="", max_length=200, description="one line; the gist")
    text: str = Field(min_length=1, max_length=20_000)
    time: datetime = Field(description="when the reported event happened (aware UTC)")
    reported: datetime = Field(description="when the report was filed (aware UTC)")
    place: str | None = Field(default=None, max_length=200)
    lon: Lon | None = None
    lat: Lat | None = None
    area: list[tuple[Lon, Lat]] | None = Field(
        default=None, description="a polygon ring (lon, lat), for reports about an area"
    )
    sector: str | None = Field(default=None, max_length=100)
    source: str = Field(min_length=1, max_length=200, description="who said it")
    reliability: Reliability
    credibility: Credibility
    tlp: Tlp = Tlp.AMBER
    releasable_to: list[str] = Field(
        default_factory=list, description='partner ids ("*": any the rules allow); empty: none'
    )
    originator: str = Field(max_length=64)
    author: str = Field(max_length=64, description="who filed it")
    actors: list[str] = Field(default_factory=list, description="who it is about (IS, PMF…)")
    event_type: str | None = Field(default=None, max_length=64)
    threat: ThreatLevel = ThreatLevel.LOW
    status: ReportStatus = ReportStatus.ACCEPTED

    @field_validator("time", "reported")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a timezone (e.g. Z or +03:00)")
        return value

    @model_validator(mode="after")
    def _place(self) -> Self:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat must be given together")
        if self.area is not None and len(self.area) < 3:
            raise ValueError("an area needs at least three vertices")
        return self

    @property
    def position(self) -> tuple[float, float] | None:
        """The point the report is about, if it names one."""
        return None if self.lon is None or self.lat is None else (self.lon, self.lat)

    @property
    def grade(self) -> str:
        """The Admiralty grade as written, e.g. `B2`."""
        return f"{self.reliability.value}{int(self.credibility)}"

    def shareable(self, version: int = 1) -> Shareable:
        """The report as the release guard sees it."""
        return Shareable(
            kind=ObjectKind.INTEL_REPORT,
            key=f"intel_report:{self.report_id}",
            version=version,
            time=self.time,
            originator=self.originator,
            sector=self.sector,
            tlp=self.tlp,
            releasable_to=frozenset(self.releasable_to),
            topics=frozenset(self.actors),
            position=self.position,
            area=tuple(self.area) if self.area is not None else None,
            fields={
                "title": self.title,
                "text": self.text,
                "reported": self.reported.isoformat(),
                "place": self.place,
                "source": self.source,
                "reliability": self.reliability.value,
                "credibility": int(self.credibility),
                "actors": list(self.actors),
                "event_type": self.event_type,
                "threat": self.threat.value,
            },
        )

    @classmethod
    def from_draft(
        cls, draft: dict[str, Any], *, text: str, originator: str, author: str, reported: datetime
    ) -> IntelReport:
        """A draft report from `limes intel ingest` (one `reports.jsonl` line).

        `text` is the article the draft's `text_span` points into; the first place that lies
        in a sector gives the report's position and sector. Drafts stay drafts (the analyst's
        queue) and are releasable to nobody until an analyst says otherwise.
        """
        start, end = draft.get("text_span") or (0, len(text))
        places = draft.get("places") or []
        placed = next((p for p in places if p.get("sector")), places[0] if places else None)
        published = draft.get("published")
        when = datetime.fromisoformat(published) if published else reported
        return cls(
            report_id=str(uuid.uuid5(REPORT_NAMESPACE, str(draft["id"]))),
            title=str(draft.get("event_type") or "report")[:200],
            text=text[start:end] or text,
            time=when,
            reported=reported,
            place=placed.get("name") if placed else None,
            lon=placed.get("lon") if placed else None,
            lat=placed.get("lat") if placed else None,
            sector=placed.get("sector") if placed else None,
            source=str(draft.get("source") or "unknown"),
            reliability=Reliability(draft.get("reliability", "F")),
            credibility=Credibility(int(draft.get("credibility", 6))),
            originator=originator,
            author=author,
            actors=[str(a) for a in draft.get("actors", [])],
            event_type=draft.get("event_type"),
            status=ReportStatus.DRAFT,
        )

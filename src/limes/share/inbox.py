"""What partners share into limes: STIX reports become draft intelligence reports.

A partner posts a TAXII envelope to its inbox. Each `report` (with the `location` objects it
refers to, when the envelope carries them) becomes an `IntelReport`: originator the partner,
source reliability the partner's own grade in the sharing policy (limes grades its sources;
a partner does not grade itself), information credibility from the report's STIX `confidence`
(STIX 2.1's Admiralty scale; none stated: 6, cannot be judged), TLP 2.0 from its marking
(none: AMBER), placed in the sector of its location. Reports arrive as drafts in the
analysts' queue; other object types are refused, each with its reason, in the status.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import stix2
from pydantic import ValidationError
from stix2.confidence.scales import value_to_admiralty_credibility
from stix2.exceptions import STIXError

from limes.scenario.sharing import Credibility, Tlp
from limes.share.context import ShareContext
from limes.share.guard import PartnerPolicy
from limes.share.report import IntelReport, ReportStatus
from limes.share.report_store import file_report
from limes.share.stix import CREDIBILITY_WORDS, TLP_BY_ID
from limes.store.tables import InboxStatusRow

_CREDIBILITY_OF_WORDS = {v: k for k, v in CREDIBILITY_WORDS.items()}


def accept_bundle(
    share: ShareContext, partner: PartnerPolicy, objects: Sequence[Any], *, actor: str
) -> dict[str, Any]:
    """File the reports of one posted envelope; the TAXII status (also stored)."""
    now = share.clock()
    locations = {o["id"]: o for o in objects if isinstance(o, dict) and o.get("type") == "location"}
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for raw in objects:
        ident = raw.get("id", "?") if isinstance(raw, dict) else "?"
        version = raw.get("modified", raw.get("created", "")) if isinstance(raw, dict) else ""
        try:
            if not isinstance(raw, dict):
                raise ValueError("not a STIX object")
            kind = raw.get("type")
            if kind == "location" or kind == "marking-definition" or kind == "identity":
                stix2.parse(raw, allow_custom=False, version="2.1")
                successes.append({"id": ident, "version": version})
                continue
            if kind != "report":
                raise ValueError(f"{kind} objects are not taken in; send reports")
            report = _report(share, partner, raw, locations, now)
            file_report(share.db, report, actor=actor, now=now)
            successes.append({"id": ident, "version": version})
        except (ValueError, STIXError, ValidationError, KeyError, TypeError) as error:
            failures.append({"id": ident, "version": version, "message": str(error)[:500]})
    status = {
        "id": str(uuid.uuid4()),
        "status": "complete",
        "request_timestamp": now.isoformat().replace("+00:00", "Z"),
        "total_count": len(objects),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pending": [],
    }
    with share.db.session() as session:
        session.add(
            InboxStatusRow(
                id=status["id"],
                partner=partner.id,
                time=now,
                status="complete",
                total=len(objects),
                successes=successes,
                failures=failures,
            )
        )
    return status


def inbox_status(db: Any, status_id: str, partner: str) -> dict[str, Any] | None:
    """A stored status, only for the partner that posted it (None otherwise)."""
    with db.reader() as session:
        row = session.get(InboxStatusRow, status_id)
        if row is None or row.partner != partner:
            return None
        return {
            "id": row.id, "status": row.status,
            "request_timestamp": row.time.isoformat().replace("+00:00", "Z"),
            "total_count": row.total, "success_count": len(row.successes),
            "successes": list(row.successes), "failure_count": len(row.failures),
            "failures": list(row.failures), "pending_count": 0, "pending": [],
        }  # fmt: skip


def _report(
    share: ShareContext,
    partner: PartnerPolicy,
    raw: Mapping[str, Any],
    locations: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> IntelReport:
    parsed = stix2.parse(dict(raw), allow_custom=False, version="2.1")
    place = next((locations[r] for r in parsed.object_refs if r in locations), None)
    lon = lat = None
    sector = None
    if place is not None and "longitude" in place and "latitude" in place:
        lon, lat = float(place["longitude"]), float(place["latitude"])
        sector = _sector_of(share, lon, lat)
    marking = next((TLP_BY_ID[m] for m in raw.get("object_marking_refs", ()) if m in TLP_BY_ID),
                   Tlp.AMBER)  # fmt: skip
    score = raw.get("confidence")
    credibility = Credibility.CANNOT_BE_JUDGED
    if score is not None:
        credibility = _CREDIBILITY_OF_WORDS[value_to_admiralty_credibility(int(score))]
    text = str(raw.get("description") or raw.get("name") or "")
    published = datetime.fromisoformat(str(parsed.published))
    return IntelReport(
        report_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{partner.id}:{raw['id']}")),
        title=str(raw.get("name", ""))[:200],
        text=text or "(no text)",
        time=published,
        reported=now,
        place=str(place.get("name")) if place is not None and place.get("name") else None,
        lon=lon,
        lat=lat,
        sector=sector,
        source=f"{partner.partner.name} ({raw['id']})"[:200],
        reliability=partner.partner.reliability,
        credibility=credibility,
        tlp=marking,
        releasable_to=["*"],
        originator=partner.id,
        author=f"partner:{partner.id}",
        actors=[str(x)[6:] for x in raw.get("labels", ()) if str(x).startswith("topic:")],
        status=ReportStatus.DRAFT,
    )


def _sector_of(share: ShareContext, lon: float, lat: float) -> str | None:
    sc = share.scenario
    if sc is None:
        return None
    x, y = sc.frame.to_xy(lon, lat)
    chainage_m, _offset = sc.locate(x, y)
    return sc.sector_at(float(chainage_m) / 1000.0).name

"""Corroboration across ingest batches: drafts filed now are weighed against those stored.

`limes intel ingest` grades a batch on its own: independent origins inside the batch raise a
claim's credibility, a republication does not. A report from next week's batch that confirms
one filed today must do the same, so every filed draft leaves in the store what corroboration
needs (`intel_claims`: the claim's key and its document's outlet and word shingles), and
filing new drafts counts, by the batch's own rules (`limes.intel.corroboration`), the
independent voices among the stored and the new claims that are the same claim. Both sides
are raised: the new draft gets the better of its batch grade and this one; a stored report
whose credibility improves is filed as a new version (its review status kept). Credibility is
never lowered here: an analyst's grade, or a batch's, stands.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from limes.intel.corroboration import (
    ClaimKey,
    CorroborationSettings,
    Subject,
    credibility,
    group_origins,
    same_claim,
    shingles,
    voices,
)
from limes.scenario.sharing import Credibility
from limes.share.report import IntelReport
from limes.share.report_store import file_report, get_report
from limes.store.database import Database
from limes.store.tables import IntelClaimRow


@dataclass(frozen=True)
class _Entry:
    """One claim, stored or new, as corroboration sees it."""

    report_id: str
    document: str
    source: str | None
    key: ClaimKey
    contradicted: bool
    shingles: frozenset[int]


@dataclass(frozen=True)
class FiledDrafts:
    """What filing did: the reports filed, and the stored ones raised by them."""

    filed: list[str]
    raised: list[str]


def _key_json(k: ClaimKey) -> dict[str, Any]:
    return {
        "lon": k.lon, "lat": k.lat, "sector": k.sector, "chainage_km": k.chainage_km,
        "start": None if k.start is None else k.start.isoformat(),
        "end": None if k.end is None else k.end.isoformat(),
        "stretch": None if k.subject is None else k.subject.stretch,
        "km": None if k.subject is None else k.subject.km,
    }  # fmt: skip


def _key_of(event_type: str, j: Mapping[str, Any]) -> ClaimKey:
    subject = None if j.get("stretch") is None else Subject(str(j["stretch"]), float(j["km"]))
    return ClaimKey(
        event_type, j.get("lon"), j.get("lat"), j.get("sector"), j.get("chainage_km"),
        None if j.get("start") is None else date.fromisoformat(j["start"]),
        None if j.get("end") is None else date.fromisoformat(j["end"]),
        subject,
    )  # fmt: skip


def _entry(report: IntelReport, draft: Mapping[str, Any], body: str, k: int) -> _Entry:
    check = draft.get("scenario_check")
    return _Entry(
        report.report_id,
        hashlib.sha1(body.encode()).hexdigest()[:16],  # one text is one document
        report.source,
        ClaimKey.of_draft(draft),
        isinstance(check, Mapping) and check.get("agrees") is False,
        frozenset(shingles(body, k)),
    )


def _stored(db: Database, types: set[str], exclude: set[str]) -> list[_Entry]:
    query = select(IntelClaimRow).where(IntelClaimRow.event_type.in_(sorted(types)))
    with db.reader() as session:
        return [
            _Entry(r.report_id, r.document, r.source, _key_of(r.event_type, r.key),
                   r.contradicted, frozenset(r.shingles))
            for r in session.scalars(query) if r.report_id not in exclude
        ]  # fmt: skip


def _grades(entries: Sequence[_Entry], st: CorroborationSettings) -> list[int]:
    """Per entry, the credibility its independent voices among `entries` give it."""
    doc_index: dict[str, int] = {}
    sets: list[set[int]] = []
    sources: list[str | None] = []
    for e in entries:
        if e.document not in doc_index:
            doc_index[e.document] = len(sets)
            sets.append(set(e.shingles))
            sources.append(e.source)
    voice = voices(sources, group_origins(sets, st))
    out = []
    for e in entries:
        same = [o for o in entries if o is e or same_claim(e.key, o.key, st)]
        n = len({voice[doc_index[o.document]] for o in same})
        out.append(credibility(n, e.contradicted))
    return out


def file_drafts(
    db: Database,
    drafts: Sequence[tuple[IntelReport, Mapping[str, Any], str]],
    *,
    actor: str,
    now: datetime,
    settings: CorroborationSettings | None = None,
) -> FiledDrafts:
    """File new drafts (report, its `reports.jsonl` line, its document's body), graded with
    the stored claims; raise the stored reports they corroborate."""
    st = settings or CorroborationSettings()
    new = [_entry(r, d, body, st.shingle_words) for r, d, body in drafts]
    mine = {e.report_id for e in new}
    stored = _stored(db, {e.key.event_type for e in new}, mine)
    # The stored claims the new ones speak of, and those that speak of them (one more hop, so
    # a stored claim's count includes its stored corroborators).
    near = [s for s in stored if any(same_claim(s.key, e.key, st) for e in new)]
    near += [s for s in stored if s not in near and any(same_claim(s.key, n.key, st) for n in near)]
    entries = near + new
    grades = dict(zip((e.report_id for e in entries), _grades(entries, st), strict=True))
    filed = []
    for (report, _, _), e in zip(drafts, new, strict=True):
        better = min(int(report.credibility), grades[e.report_id])
        report = report.model_copy(update={"credibility": Credibility(better)})
        file_report(db, report, actor=actor, now=now)
        filed.append(report.report_id)
    raised = []
    for s in near:
        old, _ = get_report(db, s.report_id)
        if grades[s.report_id] < int(old.credibility):
            update = {"credibility": Credibility(grades[s.report_id])}
            file_report(db, old.model_copy(update=update), actor=actor, now=now)
            raised.append(s.report_id)
    with db.session() as session:
        for e in new:
            session.merge(IntelClaimRow(
                report_id=e.report_id, document=e.document, source=e.source,
                event_type=e.key.event_type, key=_key_json(e.key),
                contradicted=e.contradicted, shingles=sorted(e.shingles), filed=now,
            ))  # fmt: skip
    return FiledDrafts(filed, raised)

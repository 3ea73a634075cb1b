"""`limes intel ingest`: texts in, graded draft reports out (reports.jsonl), offline.

A file that cannot be read is listed in rejected.jsonl with the reason; the rest go on.

Read every document, clean it, extract its facts and claims, group republications into
origins, count independent origins per claim, grade (source reliability from the register,
information credibility from corroboration), check border-state claims against the scenario,
and write one draft report a line. The documents themselves (cleaned body, removed lines
with reasons) go to documents.jsonl, so every span can be looked up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from limes.intel.actors import ActorTable, actor_table
from limes.intel.border_check import check_claim
from limes.intel.corroboration import (
    CorroborationSettings,
    Subject,
    corroborate,
    credibility,
)
from limes.intel.document import Document, document_paths, read_document
from limes.intel.errors import IntelError
from limes.intel.extraction import Claim, Extraction, extract
from limes.intel.gazetteer import Gazetteer, build_gazetteer
from limes.intel.register import SourceRegister, load_register
from limes.intel.threat_hint import suggested_threat
from limes.scenario.model import Scenario


@dataclass
class Reader:
    """What reading needs, built once: the register, the gazetteer and the actor table."""

    register: SourceRegister
    gazetteer: Gazetteer
    actors: ActorTable
    scenario: Scenario | None = None

    @classmethod
    def for_scenario(cls, scenario: Scenario | None, register_path: Path | None = None) -> Reader:
        return cls(load_register(register_path), build_gazetteer(scenario), actor_table(), scenario)

    def extract(self, doc: Document) -> Extraction:
        return extract(doc, self.gazetteer, self.actors)


@dataclass
class IngestResult:
    """What one ingest produced, and the files it could not read (path, why)."""

    documents: list[Document]
    extractions: list[Extraction]
    reports: list[dict[str, object]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    @property
    def removed_lines(self) -> int:
        return sum(len(d.removed) for d in self.documents)


def report_id(claim: Claim) -> str:
    """A stable id: the document, the event type and where in the body."""
    key = f"{claim.document.id}|{claim.event_type}|{claim.span.start}"
    return "intel-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def draft_reports(
    extractions: Sequence[Extraction],
    reader: Reader,
    settings: CorroborationSettings | None = None,
) -> list[dict[str, object]]:
    """Graded draft reports, one per claim, in the order of the documents."""
    claims = [c for ex in extractions for c in ex.claims]
    docs = [ex.document for ex in extractions]
    checks = [
        check_claim(c, reader.scenario) if reader.scenario is not None else None for c in claims
    ]
    subjects = [None if k is None else Subject(k.stretch, k.reported_km) for k in checks]
    corr = corroborate(claims, docs, settings, subjects)
    out: list[dict[str, object]] = []
    for claim, co, check in zip(claims, corr, checks, strict=True):
        doc = claim.document
        contradicted = check is not None and not check.agrees
        span = claim.span
        date = claim.date
        actors = list(dict.fromkeys(a.actor for a in claim.actors))
        place = claim.place
        fighters = max(
            (q.max or q.value for q in claim.quantities if q.unit == "fighters"), default=0.0
        )
        out.append(
            {
                "id": report_id(claim),
                "source": doc.source,
                "published": doc.published.isoformat() if doc.published else None,
                "text_span": [span.start, span.end],
                "event_type": claim.event_type,
                "actors": actors,
                "places": [p.to_json() for p in claim.places],
                "quantities": [q.to_json() for q in claim.quantities],
                "reliability": reader.register.reliability(doc.source),
                "credibility": credibility(co.independent_origins, contradicted),
                "removed_lines": len(doc.removed),
                "document": doc.id,
                "text": span.text(doc.body),
                "event_date": None
                if date is None
                else {**date.to_json(), "inferred": claim.date_inferred},
                "dates": [d.to_json() for d in claim.dates],
                "cues": [[c.start, c.end] for c in claim.cues],
                "origin": co.origin,
                "independent_origins": co.independent_origins,
                "corroborated_by": list(co.corroborated_by),
                "republished_by": list(co.republished_by),
                "scenario_check": None if check is None else check.to_json(),
                "threat": suggested_threat(
                    claim.event_type,
                    sector=place.sector if place else None,
                    independent_origins=co.independent_origins,
                    actors=actors,
                    fighters=fighters,
                ),
                "status": "draft",
            }
        )
    return out


def ingest(
    path: Path,
    out_dir: Path | None = None,
    *,
    scenario: Scenario | None = None,
    register: Path | None = None,
    reader: Reader | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    """Read a file or folder of texts; write reports.jsonl and documents.jsonl to `out_dir`."""
    rd = reader or Reader.for_scenario(scenario, register)
    paths = document_paths(path)
    docs: list[Document] = []
    extractions: list[Extraction] = []
    rejected: list[tuple[str, str]] = []
    for i, p in enumerate(paths):
        rel = p.relative_to(path) if path.is_dir() else Path(p.name)
        try:
            doc = read_document(p, rd.register, str(rel.with_suffix("")).replace("/", "-"))
        except (IntelError, OSError) as exc:
            # One unreadable file is counted and kept aside; the batch goes on.
            rejected.append((str(p), str(exc)))
            continue
        docs.append(doc)
        extractions.append(rd.extract(doc))
        if progress:
            progress(i + 1, len(paths))
    result = IngestResult(docs, extractions, draft_reports(extractions, rd), rejected)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        with (out_dir / "reports.jsonl").open("w", encoding="utf-8") as fh:
            for r in result.reports:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        with (out_dir / "documents.jsonl").open("w", encoding="utf-8") as fh:
            for d in docs:
                fh.write(json.dumps(d.to_json(), ensure_ascii=False) + "\n")
        with (out_dir / "rejected.jsonl").open("w", encoding="utf-8") as fh:
            for where, why in rejected:
                fh.write(json.dumps({"path": where, "error": why}, ensure_ascii=False) + "\n")
    return result

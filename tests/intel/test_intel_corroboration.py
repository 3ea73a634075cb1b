"""Corroboration: a republished wire story counts once; independent reports count each."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from limes.intel.corroboration import credibility, near_duplicate, shingles
from limes.intel.document import Document
from limes.intel.ingest import Reader, draft_reports

CORPUS = Path(__file__).parent / "corpus"

WIRE = (
    "Islamic State fighters tried to cross the border near Husaybah on Monday night but "
    "withdrew when border guards opened fire, an Iraqi army officer said. The officer said the "
    "group of about eight men came from the direction of Abu Kamal and was seen by a tower "
    "camera shortly before midnight. Commanders have asked for a thermal camera for the gap."
)
REPUBLISHED = (
    "BAGHDAD (Tigris Times) — " + WIRE + " The Tigris Times could not verify the report "
    "independently. Read our coverage of the border every morning."
)
INDEPENDENT = (
    "A patrol report says a group of militants approached the berm south of Husaybah on the "
    "night of 31 May and tried to cross before guards fired flares and warning shots. They "
    "fell back towards Abu Kamal."
)


def doc(doc_id: str, source: str, body: str) -> Document:
    return Document(
        doc_id, doc_id, "text", source, datetime(2021, 6, 3, 9, 0, tzinfo=UTC), "", body
    )


def infiltration_reports(reader: Reader, docs: list[Document]) -> list[dict[str, object]]:
    reports = draft_reports([reader.extract(d) for d in docs], reader)
    return [r for r in reports if r["event_type"] == "infiltration"]


def test_two_outlets_republishing_one_wire_story_count_once(reader: Reader) -> None:
    reports = infiltration_reports(
        reader, [doc("wire", "Euphrates Wire", WIRE), doc("repub", "Tigris Times", REPUBLISHED)]
    )
    assert len(reports) == 2
    assert {r["origin"] for r in reports} == {"wire"}
    assert all(r["independent_origins"] == 1 for r in reports)
    assert all(r["credibility"] == credibility(1, False) == 3 for r in reports)
    assert reports[0]["republished_by"] == ["repub"]


def test_two_independent_reports_of_one_event_count_twice(reader: Reader) -> None:
    reports = infiltration_reports(
        reader,
        [
            doc("wire", "Euphrates Wire", WIRE),
            doc("repub", "Tigris Times", REPUBLISHED),
            doc("patrol", "Anbar Border Guard patrol report", INDEPENDENT),
        ],
    )
    by_doc = {r["document"]: r for r in reports}
    assert {r["origin"] for r in reports} == {"wire", "patrol"}
    assert all(r["independent_origins"] == 2 for r in reports)
    assert all(r["credibility"] == 2 for r in reports)
    assert by_doc["patrol"]["corroborated_by"] == ["repub", "wire"]


def test_a_report_elsewhere_does_not_corroborate(reader: Reader) -> None:
    elsewhere = INDEPENDENT.replace("Husaybah", "Rabia").replace("Abu Kamal", "al-Yarubiyah")
    reports = infiltration_reports(
        reader, [doc("wire", "Euphrates Wire", WIRE), doc("far", "Nineveh Daily", elsewhere)]
    )
    assert all(r["independent_origins"] == 1 for r in reports)


def test_the_corpus_wire_story_and_its_republications_are_one_origin(reader: Reader) -> None:
    from limes.intel.ingest import ingest

    result = ingest(CORPUS / "dev", reader=reader)
    origin = {r["document"]: r["origin"] for r in result.reports}
    assert origin["d02-anbar-gazette-republish"] == origin["d01-wire-qaim"] == "d01-wire-qaim"
    assert origin["d03-tigris-times-republish"] == "d01-wire-qaim"
    attempt = [
        r
        for r in result.reports
        if r["event_type"] == "infiltration"
        and r["document"] in ("d01-wire-qaim", "d04-patrol-report-husaybah")
    ]
    assert {r["independent_origins"] for r in attempt} == {2}


def test_near_duplicate_is_containment_of_shingles() -> None:
    a, b = shingles(WIRE, 5), shingles(REPUBLISHED, 5)
    assert near_duplicate(a, b, 0.5)
    assert not near_duplicate(a, shingles(INDEPENDENT, 5), 0.5)


def test_two_articles_of_one_outlet_count_once(reader: Reader) -> None:
    reports = infiltration_reports(
        reader,
        [
            doc("patrol-1", "Anbar Border Guard patrol report", INDEPENDENT),
            doc(
                "patrol-2",
                "Anbar Border Guard patrol report",
                "Militants tried to cross the border near Husaybah on Monday night; guards fired "
                "flares and the group went back.",
            ),
        ],
    )
    assert len(reports) == 2
    assert all(r["independent_origins"] == 1 for r in reports)


def test_a_wire_story_inside_a_long_article_is_one_origin_with_it() -> None:
    from limes.intel.corroboration import origins

    # The outlet runs the wire copy inside a long piece of its own: the wire's shingles are a
    # small part of the article (low Jaccard), but all of the wire's are in it (containment).
    own = " ".join(
        f"Paragraph {i} of the outlet's own background on the desert economy, the harvest, "
        f"fuel prices number {i} and the history of the crossing before the war."
        for i in range(12)
    )
    docs = [
        doc("wire", "Euphrates Wire", WIRE),
        doc("long", "Tigris Times", own + " " + WIRE + " " + own.replace("desert", "river")),
        doc("patrol", "Anbar Border Guard patrol report", INDEPENDENT),
    ]
    got = origins(docs)
    assert got[0] == got[1] != got[2]

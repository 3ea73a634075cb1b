"""Drafts into the analyst's queue through the API; accepting one raises the sector's threat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intel_support import Floor

from limes.api.routes.intel import ReportIn
from limes.intel.document import Document
from limes.intel.ingest import Reader, draft_reports
from limes.ops.alert import Severity

SECTOR = "Anbar (al-Qaim)"
WIRE = (
    "Islamic State fighters tried to cross the border near Husaybah last night but withdrew "
    "when border guards opened fire, an Iraqi army officer said."
)
PATROL = (
    "A patrol report says a group of IS militants approached the berm south of Husaybah last "
    "night and tried to cross before guards fired flares. They fell back towards Abu Kamal."
)
BLOG = "Only 60 km of the 220 km vulnerable section near Rabia has been closed, he said."


def drafts(reader: Reader) -> list[dict[str, object]]:
    published = datetime.now(UTC) - timedelta(hours=1)
    docs = [
        Document(n, n, "text", src, published, "", body)
        for n, src, body in (
            ("wire", "Euphrates Wire", WIRE),
            ("patrol", "Anbar Border Guard patrol report", PATROL),
            ("blog", "Border Truth Blog", BLOG),
        )
    ]
    bodies = {d.id: d.body for d in docs}
    return [
        {"draft": r, "text": bodies[str(r["document"])]}
        for r in draft_reports([reader.extract(d) for d in docs], reader)
    ]


def test_drafts_wait_for_review_and_an_accepted_one_raises_the_threat(
    floor: Floor, reader: Reader
) -> None:
    items = drafts(reader)
    got = floor.client.post("/api/intel/drafts", json={"drafts": items}, headers=floor.h("analyst"))
    assert got.status_code == 201, got.text
    assert len(got.json()["filed"]) == len(items)
    queue = floor.client.get("/api/intel/reports?status=draft", headers=floor.h("analyst")).json()
    assert len(queue) == len(items)
    board = floor.client.app.state.share.board  # type: ignore[attr-defined]
    assert board.level(SECTOR) is Severity.LOW  # drafts weigh nothing

    wire = next(
        q
        for q in queue
        if q["report"]["source"] == "Euphrates Wire" and q["report"]["event_type"] == "infiltration"
    )
    rep = wire["report"]
    assert rep["sector"] == SECTOR
    assert wire["grade"] == "B2"  # a usually reliable wire, confirmed by a second origin
    body = {
        k: rep[k]
        for k in (
            "title",
            "text",
            "time",
            "place",
            "lon",
            "lat",
            "area",
            "sector",
            "source",
            "reliability",
            "credibility",
            "tlp",
            "releasable_to",
            "actors",
            "event_type",
            "threat",
        )
    }
    accepted = floor.client.put(
        f"/api/intel/reports/{rep['report_id']}",
        json={**body, "status": "accepted"},
        headers=floor.h("analyst"),
    )
    assert accepted.status_code == 200, accepted.text
    assert board.level(SECTOR) in (Severity.HIGH, Severity.CRITICAL)

    again = floor.client.post(
        "/api/intel/drafts", json={"drafts": items}, headers=floor.h("analyst")
    ).json()
    assert again["filed"] == [] and rep["report_id"] in again["existing"]
    one = floor.client.get(f"/api/intel/reports/{rep['report_id']}", headers=floor.h("analyst"))
    assert one.json()["report"]["status"] == "accepted"  # re-submitting never undoes a review


def test_a_scenario_mismatch_is_flagged_in_the_queue(floor: Floor, reader: Reader) -> None:
    items = [i for i in drafts(reader) if i["draft"]["document"] == "blog"]  # type: ignore[index]
    floor.client.post("/api/intel/drafts", json={"drafts": items}, headers=floor.h("analyst"))
    queue = floor.client.get("/api/intel/reports?status=draft", headers=floor.h("analyst")).json()
    assert any(q["report"]["title"].startswith("SCENARIO MISMATCH") for q in queue)


def test_a_viewer_may_not_file_drafts(floor: Floor, reader: Reader) -> None:
    got = floor.client.post(
        "/api/intel/drafts", json={"drafts": drafts(reader)[:1]}, headers=floor.h("viewer")
    )
    assert got.status_code == 403


def test_an_ingest_folder_is_submitted_once(floor: Floor, reader: Reader, tmp_path: Path) -> None:
    from limes.intel.ingest import ingest
    from limes.intel.submit import submit_drafts

    corpus = Path(__file__).parent / "corpus" / "dev"
    result = ingest(corpus, tmp_path / "out", reader=reader)
    first = submit_drafts(
        tmp_path / "out", "http://testserver", floor.tokens["analyst"], client=floor.client
    )
    assert (first.filed, first.existing) == (len(result.reports), 0)
    again = submit_drafts(
        tmp_path / "out", "http://testserver", floor.tokens["analyst"], client=floor.client
    )
    assert (again.filed, again.existing) == (0, len(result.reports))


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
_DRAFT_KEYS = [
    "id",
    "text_span",
    "places",
    "published",
    "reliability",
    "credibility",
    "source",
    "event_type",
    "actors",
    "threat",
    "scenario_check",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(st.sampled_from(_DRAFT_KEYS), _JSON, max_size=8),
    st.text(min_size=1, max_size=50),
)
def test_any_malformed_draft_is_refused_clearly_never_a_crash(
    floor: Floor, draft: dict[str, object], text: str
) -> None:
    got = floor.client.post(
        "/api/intel/drafts",
        json={"drafts": [{"draft": draft, "text": text}]},
        headers=floor.h("analyst"),
    )
    assert got.status_code in (201, 422), got.text
    if got.status_code == 422:
        assert "drafts[0]" in got.json()["detail"] or got.json()["detail"]


def test_the_map_reads_accepted_reports_with_place_and_grade_rejected_ones_not(
    floor: Floor, reader: Reader
) -> None:
    items = drafts(reader)
    floor.client.post("/api/intel/drafts", json={"drafts": items}, headers=floor.h("analyst"))
    queue = floor.client.get("/api/intel/reports?status=draft", headers=floor.h("analyst")).json()
    placed = [q for q in queue if q["report"]["lon"] is not None]
    assert len(placed) >= 2
    keep = [k for k in ReportIn.model_fields if k != "status"]  # what a review may send
    for q, status in zip(placed[:2], ("accepted", "rejected"), strict=True):
        rep = q["report"]
        got = floor.client.put(f"/api/intel/reports/{rep['report_id']}",
                               json={**{k: rep[k] for k in keep}, "status": status},
                               headers=floor.h("analyst"))  # fmt: skip
        assert got.status_code == 200, got.text
    # What the map asks for, as a viewer: the accepted report, at its place, with its grade.
    shown = floor.client.get("/api/intel/reports?status=accepted", headers=floor.h("viewer"))
    assert shown.status_code == 200
    (one,) = shown.json()
    want = placed[0]["report"]
    assert one["report"]["report_id"] == want["report_id"]
    assert (one["report"]["lon"], one["report"]["lat"]) == (want["lon"], want["lat"])
    assert one["grade"] == f"{want['reliability']}{want['credibility']}"
    assert one["report"]["text"] and one["report"]["source"] == want["source"]
    # Nobody unknown reads them.
    assert floor.client.get("/api/intel/reports?status=accepted").status_code == 401

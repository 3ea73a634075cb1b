"""Intelligence reports: who may file them, how they raise a sector's threat and alert severity."""

from __future__ import annotations

from typing import Any

from share_support import ShareApi, ago

from limes.api.routes.taxii import collection_id
from limes.ops.alert import Rule, Severity
from limes.ops.detection import TargetClass
from limes.ops.plan_lookup import SeverityPolicy


def _report(**over: Any) -> dict[str, Any]:
    body = {
        "text": "IS cell of six gathering 5 km west of the line", "time": ago(600).isoformat(),
        "lon": 41.2, "lat": 35.6, "sector": "Jazeera", "source": "border post 12",
        "reliability": "B", "credibility": 2, "tlp": "green", "releasable_to": ["*"],
        "actors": ["IS"], "threat": "high",
    }  # fmt: skip
    return body | over


def test_an_analyst_files_and_a_viewer_may_not(share_api: ShareApi) -> None:
    c = share_api.client
    filed = c.post("/api/intel/reports", json=_report(), headers=share_api.headers("analyst"))
    assert filed.status_code == 201, filed.text
    assert filed.json()["grade"] == "B2" and filed.json()["report"]["originator"] == "watch-floor"
    refused = c.post("/api/intel/reports", json=_report(), headers=share_api.headers("viewer"))
    assert refused.status_code == 403
    listed = c.get("/api/intel/reports?sector=Jazeera", headers=share_api.headers("viewer"))
    assert [r["grade"] for r in listed.json()] == ["B2"]
    # a partner token reads nothing of the floor's own API
    assert c.get("/api/alerts", headers=share_api.headers("coalition")).status_code == 403
    bad = c.post("/api/intel/reports", json=_report(sector="Nowhere"),
                 headers=share_api.headers("analyst"))  # fmt: skip
    assert bad.status_code == 422 and "Nowhere" in bad.text


def test_a_credible_report_raises_the_sectors_threat_and_alert_severity(
    share_api: ShareApi,
) -> None:
    board = share_api.share.board
    policy = SeverityPolicy(threat=board)
    before = policy.severity(Rule.LOITERING, TargetClass.PERSON, None, "Jazeera")
    assert before is Severity.LOW
    share_api.client.post(
        "/api/intel/reports", json=_report(), headers=share_api.headers("analyst")
    )
    assert board.level("Jazeera") is Severity.HIGH and board.actors("Jazeera") == {"IS"}
    after = policy.severity(Rule.LOITERING, TargetClass.PERSON, None, "Jazeera")
    assert after is Severity.MEDIUM  # one level up in a high-threat sector
    assert policy.severity(Rule.LOITERING, TargetClass.PERSON, None, "Nineveh") is Severity.LOW


def test_a_rumour_raises_nothing(share_api: ShareApi) -> None:
    for grade in ({"reliability": "F", "credibility": 2}, {"reliability": "B", "credibility": 5}):
        share_api.client.post(
            "/api/intel/reports", json=_report(**grade), headers=share_api.headers("analyst")
        )
    assert share_api.share.board.level("Jazeera") is Severity.LOW


def test_the_quadrilateral_gets_our_is_report_but_not_the_coalitions(share_api: ShareApi) -> None:
    c = share_api.client
    c.post("/api/intel/reports", json=_report(time=ago(7200).isoformat()),
           headers=share_api.headers("analyst"))  # fmt: skip
    theirs = c.post("/api/intel/reports", json=_report(time=ago(7200).isoformat()),
                    headers=share_api.headers("analyst")).json()["report"]  # fmt: skip
    # the same report, as if the coalition had shared it (its originator), accepted
    from limes.share.report import IntelReport
    from limes.share.report_store import file_report

    coalition = IntelReport.model_validate(theirs | {"originator": "coalition", "report_id": "c1"})
    file_report(share_api.db, coalition, actor="test", now=ago(0))
    url = f"/taxii2/limes/collections/{collection_id('quadrilateral')}/objects/?match[type]=report"
    got = c.get(url, headers=share_api.headers("quadrilateral")).json()["objects"]
    assert len(got) == 2  # ours, twice filed; never the coalition's
    assert all("description" not in r for r in got)  # text withheld from the centre
    coal = c.get(url.replace("quadrilateral", "coalition"), headers=share_api.headers("coalition"))
    assert coal.status_code == 404  # a collection id of another partner is no collection

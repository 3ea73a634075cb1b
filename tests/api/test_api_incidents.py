"""Incidents through the API: who may move them, illegal moves refused, the audit trail."""

from __future__ import annotations

from api_records import alert
from api_support import UNIT_ID, Api


def test_an_operator_works_an_incident_and_the_audit_log_names_each_person(api_both: Api) -> None:
    api = api_both
    api.services.writer.write(alerts=[alert("T7")])  # type: ignore[union-attr]
    listed = api.client.get(
        "/api/incidents?state=new&sector=Peshmerga", headers=api.headers("viewer")
    ).json()
    (incident,) = listed["items"]
    url = f"/api/incidents/{incident['id']}"
    op, cmd = api.headers("operator"), api.headers("commander")

    refused = api.client.post(f"{url}/transitions", json={"action": "acknowledge"},
                              headers=api.headers("viewer"))  # fmt: skip
    assert refused.status_code == 403
    illegal = api.client.post(f"{url}/transitions", json={"action": "resolve",
                              "outcome": "intercepted"}, headers=op)  # fmt: skip
    assert illegal.status_code == 409
    assert illegal.json()["detail"] == (
        f"incident {incident['id']}: cannot resolve an incident that is new; "
        "allowed from new: acknowledge"
    )
    steps = [
        (op, {"action": "acknowledge", "note": "thermal camera confirms 4"}),
        (cmd, {"action": "assign", "unit_id": UNIT_ID}),
        (op, {"action": "resolve", "outcome": "intercepted", "note": "4 detained"}),
    ]
    for headers, body in steps:
        answer = api.client.post(f"{url}/transitions", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    unknown_unit = api.client.post(f"{url}/transitions", json={"action": "assign",
                                   "unit_id": "nobody"}, headers=op)  # fmt: skip
    assert unknown_unit.status_code == 422
    detail = api.client.get(url, headers=api.headers("viewer")).json()
    assert (detail["state"], detail["outcome"], detail["unit_id"]) == (
        "resolved",
        "intercepted",
        UNIT_ID,
    )
    assert [(e["actor"], e["action"]) for e in detail["events"]] == [
        ("system", "open"),
        ("operator-user", "acknowledge"),
        ("commander-user", "assign"),
        ("operator-user", "resolve"),
    ]
    assert detail["dispatches"][0]["end_reason"] == "resolved"
    audit = api.client.get("/api/audit?entity=incident", headers=cmd).json()["items"]
    assert [(a["actor"], a["action"]) for a in reversed(audit)] == [
        ("operator-user", "acknowledge"),
        ("commander-user", "assign"),
        ("operator-user", "resolve"),
    ]
    assert audit[0]["before"]["state"] == "assigned" and audit[0]["after"]["state"] == "resolved"


def test_sector_impact_is_set_by_commanders_and_raised_by_incidents(api: Api) -> None:
    cmd = api.headers("commander")
    answer = api.client.put("/api/sectors/Nineveh/impact", json={"level": "medium"}, headers=cmd)
    assert answer.status_code == 200 and answer.json()["level"] == "medium"
    api.services.writer.write(alerts=[alert("T8", sector="Nineveh")])  # type: ignore[union-attr]
    sectors = {s["name"]: s for s in api.client.get("/api/sectors", headers=cmd).json()}
    assert (sectors["Nineveh"]["level"], sectors["Nineveh"]["set_level"]) == ("high", "medium")
    assert sectors["Nineveh"]["open_incidents"] == 1 and sectors["Peshmerga"]["level"] == "low"
    missing = api.client.put("/api/sectors/Atlantis/impact", json={"level": "low"}, headers=cmd)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_lists_page_with_a_cursor_until_the_end(api: Api) -> None:
    api.services.writer.write(alerts=[alert(f"P{i}") for i in range(5)])  # type: ignore[union-attr]
    seen, cursor = [], ""
    while True:
        page = api.client.get(f"/api/alerts?limit=2{cursor}", headers=api.headers("viewer")).json()
        seen += [a["track_id"] for a in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == [f"P{i}" for i in reversed(range(5))]
    bad = api.client.get("/api/alerts?cursor=abc", headers=api.headers("viewer"))
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"

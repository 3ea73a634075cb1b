"""What the watch floor relies on: the workflow offered is the workflow accepted, positions
people can send a patrol to, bulk acknowledge and merge, alive tracks, and one clock."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime
from typing import Any

import pyproj
import pytest
from api_records import alert, track
from api_support import UNIT_ID, Api

from limes.ops.alert import Severity
from limes.ops.tracker.state import TrackStatus

ACTIONS = ("acknowledge", "assign", "resolve")
OUTCOMES = ("intercepted", "turned_back", "lost", "false_alarm", "humanitarian")
# How to bring a new incident to each state, through the API.
PATHS: dict[str, list[dict[str, Any]]] = {
    "new": [],
    "acknowledged": [{"action": "acknowledge"}],
    "assigned": [{"action": "acknowledge"}, {"action": "assign", "unit_id": UNIT_ID}],
    "resolved": [{"action": "acknowledge"}, {"action": "resolve", "outcome": "false_alarm"}],
}


def _open(api: Api, track_id: str, severity: Severity = Severity.HIGH) -> int:
    api.services.writer.write(alerts=[alert(track_id, severity=severity)])  # type: ignore[union-attr]
    items = api.client.get(f"/api/incidents?track_id={track_id}", headers=api.headers("viewer"))
    return int(items.json()["items"][0]["id"])


def _post(api: Api, incident: int, body: dict[str, Any]) -> Any:
    return api.client.post(
        f"/api/incidents/{incident}/transitions", json=body, headers=api.headers("operator")
    )


def _request(action: str, outcome: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"action": action}
    if action == "assign":
        body["unit_id"] = UNIT_ID
    if outcome is not None:
        body["outcome"] = outcome
    return body


def test_what_an_incident_offers_is_exactly_what_the_server_accepts(api: Api) -> None:
    """Every (state, action, outcome): offered ⇔ accepted, tried on a fresh incident each."""
    table = api.client.get("/api/incidents/workflow", headers=api.headers("viewer")).json()
    n = 0
    for state, path in PATHS.items():
        probe = _open(api, f"P-{state}")
        for body in path:
            assert _post(api, probe, body).status_code == 200
        shown = api.client.get(f"/api/incidents/{probe}", headers=api.headers("viewer")).json()
        assert shown["state"] == state
        assert (shown["actions"], shown["outcomes"]) == (
            list(table[state]["actions"]),
            table[state]["outcomes"],
        )
        tries = [(a, None) for a in ACTIONS if a != "resolve"]
        tries += [("resolve", o) for o in OUTCOMES]
        for action, outcome in tries:
            n += 1
            incident = _open(api, f"T-{n}")
            for body in path:
                assert _post(api, incident, body).status_code == 200
            offered = action in shown["actions"] and (
                outcome is None or outcome in shown["outcomes"]
            )
            answer = _post(api, incident, _request(action, outcome))
            assert (answer.status_code == 200) == offered, (state, action, outcome, answer.text)
            if offered:
                assert answer.json()["state"] == table[state]["actions"][action]
    # No outcome is assumed, and people in need are never forced into a hostile outcome:
    # humanitarian is offered wherever a resolve is.
    for state, row in table.items():
        if "resolve" in row["actions"]:
            assert "humanitarian" in row["outcomes"], state


def test_a_note_can_be_written_in_every_state(api: Api) -> None:
    for state, path in PATHS.items():
        incident = _open(api, f"N-{state}")
        for body in path:
            assert _post(api, incident, body).status_code == 200
        answer = api.client.post(f"/api/incidents/{incident}/notes", json={"note": "seen"},
                                 headers=api.headers("operator"))  # fmt: skip
        assert answer.status_code == 200, (state, answer.text)
        assert answer.json()["events"][-1]["note"] == "seen"


def _utm(lon: float, lat: float) -> tuple[int, float, float]:
    zone = int((lon + 180) // 6) + 1
    to = pyproj.Transformer.from_crs(4326, 32600 + zone, always_xy=True)
    e, n = to.transform(lon, lat)
    return zone, e, n


def test_positions_are_given_as_mgrs_that_agree_with_utm(api: Api) -> None:
    """MGRS = zone, band, 100 km square, then easting and northing within it (1 m): the digits
    must be UTM's (pyproj) modulo 100 km, and the square's row letter must cycle with them."""
    now = datetime.now(UTC)
    api.services.writer.write(tracks=[track("TM", now)], alerts=[alert("TM")])  # type: ignore[union-attr]
    viewer = api.headers("viewer")
    bodies = [
        api.client.get("/api/tracks", headers=viewer).json()["items"][0],
        api.client.get("/api/alerts", headers=viewer).json()["items"][0],
        api.client.get("/api/incidents", headers=viewer).json()["items"][0],
    ]
    for body in bodies:
        zone, e, n = _utm(body["lon"], body["lat"])
        code = body["mgrs"]
        assert code[:2] == f"{zone:02d}", code
        assert code[2] in "S"  # 32°–40° N: Iraq–Syria
        digits = code[5:]
        assert len(digits) == 10
        assert abs(int(digits[:5]) - int(e % 100_000)) <= 1, (code, e)
        assert abs(int(digits[5:]) - int(n % 100_000)) <= 1, (code, n)


def test_tracks_lists_the_alive_by_default_and_the_deleted_only_when_asked(api: Api) -> None:
    t = datetime.now(UTC)
    gone = track("GONE", t)
    gone = dataclasses.replace(gone, status=TrackStatus.DELETED)
    api.services.writer.write(tracks=[track("ALIVE", t), gone])  # type: ignore[union-attr]
    viewer = api.headers("viewer")

    def ids(query: str) -> set[str]:
        items = api.client.get(f"/api/tracks{query}", headers=viewer).json()["items"]
        return {i["track_id"] for i in items}

    assert ids("") == {"ALIVE"}
    assert ids("?status=all") == {"ALIVE", "GONE"}
    assert ids("?status=deleted") == {"GONE"}


def test_bulk_acknowledge_does_the_new_and_names_why_the_others_were_not(api: Api) -> None:
    a, b, c = (_open(api, f"B{k}") for k in range(3))
    assert _post(api, c, {"action": "acknowledge"}).status_code == 200
    body = {"ids": [a, b, c, 999999], "note": "seen on camera"}
    answer = api.client.post("/api/incidents/acknowledge", json=body,
                             headers=api.headers("operator"))  # fmt: skip
    assert answer.status_code == 200
    body = answer.json()
    assert body["acknowledged"] == [a, b]
    assert set(body["refused"]) == {str(c), "999999"}
    assert "cannot acknowledge an incident that is acknowledged" in body["refused"][str(c)]
    for incident in (a, b):
        shown = api.client.get(f"/api/incidents/{incident}", headers=api.headers("viewer")).json()
        assert shown["state"] == "acknowledged"
        assert shown["events"][-1]["actor"] == "operator-user"


def test_merge_folds_one_crossing_reported_twice_into_one_incident(api: Api) -> None:
    keep = _open(api, "M1", Severity.MEDIUM)
    other = _open(api, "M2", Severity.CRITICAL)
    closed = _open(api, "M3")
    for body in PATHS["resolved"]:
        _post(api, closed, body)
    op = api.headers("operator")
    refused = api.client.post(f"/api/incidents/{keep}/merge", json={"ids": [closed]}, headers=op)
    assert refused.status_code == 409 and "resolved" in refused.json()["detail"]
    answer = api.client.post(f"/api/incidents/{keep}/merge", json={"ids": [other],
                             "note": "same group"}, headers=op)  # fmt: skip
    assert answer.status_code == 200, answer.text
    kept = answer.json()
    assert (kept["alert_count"], kept["severity"]) == (2, "critical")
    assert {a["track_id"] for a in kept["alerts"]} == {"M1", "M2"}
    assert kept["events"][-1]["action"] == "merge"
    folded = api.client.get(f"/api/incidents/{other}", headers=op).json()
    assert (folded["state"], folded["outcome"], folded["actions"]) == ("resolved", None, [])
    assert folded["events"][-1]["data"] == {"into": keep}


def test_every_stamp_of_a_persons_action_comes_from_the_systems_clock(api: Api) -> None:
    """An exercise runs its own clock: transitions, notes and unit reports carry its time."""
    exercise_now = datetime(2031, 5, 1, 3, 0, tzinfo=UTC)
    api.services.clock = lambda: exercise_now
    incident = _open(api, "C1")
    steps = [{"action": "acknowledge"}, {"action": "assign", "unit_id": UNIT_ID}]
    for body in steps:
        assert _post(api, incident, body).status_code == 200
    api.client.post(f"/api/incidents/{incident}/notes", json={"note": "n"},
                    headers=api.headers("operator"))  # fmt: skip
    shown = api.client.get(f"/api/incidents/{incident}", headers=api.headers("viewer")).json()
    people = [e for e in shown["events"] if e["actor"] != "system"]
    assert [datetime.fromisoformat(e["time"]) for e in people] == [exercise_now] * 3
    assert datetime.fromisoformat(shown["updated"]) == exercise_now
    assert datetime.fromisoformat(shown["dispatches"][0]["ordered"]) == exercise_now
    report = api.client.post(f"/api/units/{UNIT_ID}/reports", json={"status": "on_scene"},
                             headers=api.headers("commander"))  # fmt: skip
    assert datetime.fromisoformat(report.json()["reported"]) == exercise_now


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(PATHS, 2)))
def test_merging_needs_both_open(api: Api, a: str, b: str) -> None:
    first, second = _open(api, f"X{a}{b}1"), _open(api, f"X{a}{b}2")
    for incident, state in ((first, a), (second, b)):
        for body in PATHS[state]:
            _post(api, incident, body)
    answer = api.client.post(f"/api/incidents/{first}/merge", json={"ids": [second]},
                             headers=api.headers("operator"))  # fmt: skip
    assert (answer.status_code == 200) == ("resolved" not in (a, b)), answer.text

"""Every route × every role: each role gets exactly its permissions, nothing more or less.

The table below is the specification. Routes are enumerated from the app itself, so a route
added without a row here fails `test_every_route_has_a_row`.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_records import alert, detection_json
from api_support import OTHER_SENSOR, OTHER_UNIT, SENSOR_ID, UNIT_ID, Api
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from limes.api.routes.taxii import collection_id

ANYONE = {None, "viewer", "operator", "commander", "sensor", "admin", "analyst", "partner"}
READERS = {"viewer", "operator", "commander", "admin", "analyst"}
FILERS = {"analyst", "commander", "admin"}
PARTNERS = {"partner"}
WORKERS = {"operator", "commander", "admin"}
COMMANDERS = {"commander", "admin"}
ADMINS = {"admin"}

#: (method, path) -> the roles allowed (None = no token).
TABLE: dict[tuple[str, str], set[str | None]] = {
    ("GET", "/api/health"): ANYONE,
    ("GET", "/api/ready"): READERS,
    ("GET", "/api/openapi.json"): READERS,
    ("GET", "/api/scenario"): READERS,
    ("GET", "/api/scenario/layers"): READERS,
    ("GET", "/api/sensors"): READERS,
    ("GET", "/api/units"): READERS,
    ("POST", "/api/units/{unit_id}/reports"): COMMANDERS | {"sensor"},
    ("GET", "/api/tracks"): READERS,
    ("GET", "/api/tracks/{track_id}"): READERS,
    ("GET", "/api/tracks/{track_id}/history"): READERS,
    ("GET", "/api/alerts"): READERS,
    ("GET", "/api/incidents"): READERS,
    ("GET", "/api/incidents/{incident_id}"): READERS,
    ("POST", "/api/incidents/{incident_id}/transitions"): WORKERS,
    ("POST", "/api/incidents/{incident_id}/notes"): WORKERS,
    ("GET", "/api/incidents/{incident_id}/advice"): READERS,
    ("POST", "/api/incidents/{incident_id}/dispatch"): WORKERS,
    ("GET", "/api/dispatch/advice"): READERS,
    ("GET", "/api/incidents/workflow"): READERS,
    ("POST", "/api/incidents/acknowledge"): WORKERS,
    ("POST", "/api/incidents/{incident_id}/merge"): WORKERS,
    ("GET", "/api/sectors"): READERS,
    ("PUT", "/api/sectors/{name}/impact"): COMMANDERS,
    ("GET", "/api/dead-letters"): READERS,
    ("GET", "/api/metrics"): READERS,
    ("POST", "/api/ingest/detections"): {"sensor"},
    ("GET", "/api/changes"): READERS,
    ("GET", "/api/users"): ADMINS,
    ("POST", "/api/users"): ADMINS,
    ("POST", "/api/users/{name}/tokens"): ADMINS,
    ("DELETE", "/api/tokens/{token_id}"): ADMINS,
    ("GET", "/api/audit"): COMMANDERS,
    ("WS", "/api/stream"): READERS,
    ("POST", "/api/intel/reports"): FILERS,
    ("POST", "/api/intel/drafts"): FILERS,
    ("PUT", "/api/intel/reports/{report_id}"): FILERS,
    ("GET", "/api/intel/reports"): READERS,
    ("GET", "/api/intel/reports/{report_id}"): READERS,
    ("GET", "/api/share/releases"): ADMINS,
    ("GET", "/api/share/recipients"): READERS,
    ("GET", "/api/share/explain"): ADMINS,
    ("GET", "/taxii2/"): PARTNERS,
    ("GET", "/taxii2/limes/"): PARTNERS,
    ("GET", "/taxii2/limes/collections/"): PARTNERS,
    ("GET", "/taxii2/limes/collections/{cid}/"): PARTNERS,
    ("GET", "/taxii2/limes/collections/{cid}/objects/"): PARTNERS,
    ("POST", "/taxii2/limes/collections/{cid}/objects/"): PARTNERS,
    ("GET", "/taxii2/limes/collections/{cid}/manifest/"): PARTNERS,
    ("GET", "/taxii2/limes/collections/{cid}/objects/{object_id}/"): PARTNERS,
    ("GET", "/taxii2/limes/collections/{cid}/objects/{object_id}/versions/"): PARTNERS,
    ("GET", "/taxii2/limes/status/{status_id}/"): PARTNERS,
}

JOC = collection_id("joc")
JOC_INBOX = collection_id("joc", inbox=True)
REPORT = {"text": "seen", "time": "2026-03-01T00:00:00Z", "source": "post 4",
          "reliability": "B", "credibility": 2}  # fmt: skip
STIX_ID = "report--00000000-0000-4000-8000-000000000000"

#: How each route is called: concrete URL and JSON body.
CALLS: dict[tuple[str, str], tuple[str, Any]] = {
    ("POST", "/api/units/{unit_id}/reports"): (
        f"/api/units/{UNIT_ID}/reports", {"status": "en_route", "lon": 42.3, "lat": 37.0}
    ),
    ("GET", "/api/tracks/{track_id}"): ("/api/tracks/T1", None),
    ("GET", "/api/tracks/{track_id}/history"): ("/api/tracks/T1/history", None),
    ("GET", "/api/incidents/{incident_id}"): ("/api/incidents/1", None),
    ("POST", "/api/incidents/{incident_id}/transitions"): (
        "/api/incidents/1/transitions", {"action": "acknowledge"}
    ),
    ("POST", "/api/incidents/{incident_id}/notes"): ("/api/incidents/1/notes", {"note": "seen"}),
    ("GET", "/api/incidents/{incident_id}/advice"): ("/api/incidents/1/advice", None),
    ("POST", "/api/incidents/{incident_id}/dispatch"): (
        "/api/incidents/1/dispatch", {"unit_id": UNIT_ID}
    ),
    ("GET", "/api/dispatch/advice"): ("/api/dispatch/advice?lon=42.3&lat=37.0", None),
    ("POST", "/api/incidents/acknowledge"): ("/api/incidents/acknowledge", {"ids": [1]}),
    ("POST", "/api/incidents/{incident_id}/merge"): ("/api/incidents/1/merge", {"ids": [2]}),
    ("PUT", "/api/sectors/{name}/impact"): ("/api/sectors/Peshmerga/impact", {"level": "high"}),
    ("POST", "/api/ingest/detections"): ("/api/ingest/detections", detection_json(1)),
    ("POST", "/api/users"): ("/api/users", {"name": "new.user", "role": "viewer"}),
    ("POST", "/api/users/{name}/tokens"): ("/api/users/viewer-user/tokens", None),
    ("DELETE", "/api/tokens/{token_id}"): ("/api/tokens/{spare}", None),
    ("POST", "/api/intel/reports"): ("/api/intel/reports", REPORT),
    ("PUT", "/api/intel/reports/{report_id}"): ("/api/intel/reports/r1", REPORT),
    ("GET", "/api/intel/reports/{report_id}"): ("/api/intel/reports/r1", None),
    ("GET", "/api/share/recipients"): ("/api/share/recipients?key=alert:1", None),
    ("GET", "/api/share/explain"): ("/api/share/explain?partner=joc&key=alert:1", None),
    ("GET", "/taxii2/limes/collections/{cid}/"): (f"/taxii2/limes/collections/{JOC}/", None),
    ("GET", "/taxii2/limes/collections/{cid}/objects/"): (
        f"/taxii2/limes/collections/{JOC}/objects/", None),
    ("POST", "/taxii2/limes/collections/{cid}/objects/"): (
        f"/taxii2/limes/collections/{JOC_INBOX}/objects/", {"objects": []}),
    ("GET", "/taxii2/limes/collections/{cid}/manifest/"): (
        f"/taxii2/limes/collections/{JOC}/manifest/", None),
    ("GET", "/taxii2/limes/collections/{cid}/objects/{object_id}/"): (
        f"/taxii2/limes/collections/{JOC}/objects/{STIX_ID}/", None),
    ("GET", "/taxii2/limes/collections/{cid}/objects/{object_id}/versions/"): (
        f"/taxii2/limes/collections/{JOC}/objects/{STIX_ID}/versions/", None),
    ("GET", "/taxii2/limes/status/{status_id}/"): ("/taxii2/limes/status/s1/", None),
    ("POST", "/api/intel/drafts"): (
        "/api/intel/drafts", {"drafts": [{"draft": {"id": "auth-table"}, "text": "seen"}]}
    ),
}  # fmt: skip


def app_routes(api: Api) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, included routers flattened with their prefixes."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(api.app.routes):
        route, path = context.original_route, str(context.path)
        if isinstance(route, APIRoute):
            found |= {(m, path) for m in context.methods or () if m != "HEAD"}
        elif isinstance(route, APIWebSocketRoute):
            found.add(("WS", path))
        else:
            raise AssertionError(f"route of unknown kind: {route!r}")
    return found


def test_every_route_has_a_row(api: Api) -> None:
    routes = app_routes(api)
    assert routes - set(TABLE) == set(), "routes without a permission row"
    assert set(TABLE) - routes == set(), "rows for routes that do not exist"


def _ws_status(api: Api, role: str | None) -> int:
    try:
        with api.client.websocket_connect("/api/stream?cursor=0", headers=api.headers(role)) as ws:
            message = ws.receive_json()
            if message["type"] == "error":
                return {"unauthorized": 401, "forbidden": 403}[message["error"]]
            return 200
    except (WebSocketDisconnect, WebSocketDenialResponse):  # pragma: no cover - not expected
        return 0


@pytest.mark.parametrize(
    "role", [None, "viewer", "operator", "commander", "sensor", "admin", "analyst", "partner"]
)
def test_each_role_gets_exactly_its_permissions(api: Api, role: str | None) -> None:
    api.services.writer.write(alerts=[alert("T1")])  # type: ignore[union-attr]  # incident 1
    with api.db.session() as s:
        from limes.store.users import issue_token

        spare, _ = issue_token(s, "viewer-user", actor="test", now=alert().time)
    for (method, path), allowed in sorted(TABLE.items()):
        if method == "WS":
            status = _ws_status(api, role)
        else:
            url, body = CALLS.get((method, path), (path, None))
            url = url.replace("{spare}", str(spare.id))
            headers = api.headers(role)
            if method == "POST" and path.startswith("/taxii2/"):
                headers |= {"Content-Type": "application/taxii+json;version=2.1"}
            response = api.client.request(method, url, json=body, headers=headers)
            status = response.status_code
            # TAXII answers errors in its own shape (title, description, http_status)
            shape = {"title", "description", "http_status"} if path.startswith("/taxii2/") else {
                "error", "detail"}  # fmt: skip
            if status in (401, 403):
                assert set(response.json()) == shape
        where = f"{method} {path} as {role}"
        if role in allowed:
            assert status not in (401, 403), f"{where}: refused ({status})"
        elif role is None:
            assert status == 401, f"{where}: {status}, expected 401"
        else:
            assert status == 403, f"{where}: {status}, expected 403"


def test_a_sensor_token_cannot_ingest_for_another_sensor(api: Api) -> None:
    body = {"detections": [detection_json(1), detection_json(2, sensor=OTHER_SENSOR)]}
    answer = api.client.post("/api/ingest/detections", json=body, headers=api.headers("sensor"))
    assert answer.status_code == 200
    result = answer.json()
    assert (result["accepted"], result["rejected"]) == (1, 1)
    assert result["errors"][0]["item"] == 1 and result["errors"][0]["reason"] == "sensor_mismatch"
    letters = api.client.get("/api/dead-letters", headers=api.headers("viewer")).json()["items"]
    assert [(d["reason"], d["sensor_id"]) for d in letters] == [("sensor_mismatch", OTHER_SENSOR)]


def test_a_sensor_token_cannot_report_for_another_unit(api: Api) -> None:
    body = {"status": "available"}
    own = api.client.post(f"/api/units/{UNIT_ID}/reports", json=body, headers=api.headers("sensor"))
    other = api.client.post(
        f"/api/units/{OTHER_UNIT}/reports", json=body, headers=api.headers("sensor")
    )
    assert own.status_code == 200 and own.json()["status"] == "available"
    assert other.status_code == 403 and OTHER_UNIT in other.json()["detail"]


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    viewer = api.headers("viewer")
    assert api.client.get("/api/tracks", headers=viewer).status_code == 200
    users = api.client.get("/api/users", headers=api.headers("admin")).json()
    (token_id,) = [t["id"] for u in users if u["name"] == "viewer-user" for t in u["tokens"]]
    revoked = api.client.delete(f"/api/tokens/{token_id}", headers=api.headers("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is not None
    answer = api.client.get("/api/tracks", headers=viewer)
    assert answer.status_code == 401
    assert answer.json() == {"error": "unauthorized", "detail": "the token is unknown or revoked"}
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer limes_nope"])
def test_missing_or_bad_credentials_answer_401_json(api: Api, header: str) -> None:
    answer = api.client.get("/api/alerts", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"


def test_ingest_is_rate_limited_per_sensor_token(tmp_path: Any, scenario: Any) -> None:
    from api_support import database, make_api

    for db in database("sqlite", tmp_path):
        api = make_api(db, scenario, ingest_rate_per_s=0.01, ingest_burst=2)
        codes = []
        for seq in range(3):
            answer = api.client.post(
                "/api/ingest/detections", json=detection_json(seq), headers=api.headers("sensor")
            )
            codes.append(answer.status_code)
        assert codes == [200, 200, 429]
        assert int(answer.headers["retry-after"]) >= 1
        assert answer.json()["error"] == "rate_limited"
        assert SENSOR_ID  # the limited token is the sensor's own

"""Text no database stores (NUL, unpaired surrogates) answers 422 on every route, on both
databases; every answer carries the security headers the map needs."""

from __future__ import annotations

import re
from typing import Any

from api_support import SENSOR_ID, UNIT_ID, Api

from limes.api.security_headers import CONTENT_SECURITY_POLICY
from limes.store.dead_letters import dead_letters

NUL = "a\x00b"


def requests_with_nul(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, request keyword arguments) carrying NUL in each parameter of each
    documented operation, one parameter at a time (from the published OpenAPI document)."""
    spec = api.client.get("/api/openapi.json", headers=api.headers("admin")).json()
    out: list[tuple[str, str, dict[str, Any]]] = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            plain = re.sub(r"\{[^}]+\}", "1", path)
            for p in params:
                if p["in"] == "path":  # percent-encoded, as a client sends it
                    url = path.replace("{" + p["name"] + "}", "a%00b")
                    out.append((method, re.sub(r"\{[^}]+\}", "1", url), {}))
                elif p["in"] == "query":
                    out.append((method, plain, {"params": {p["name"]: NUL}}))
            if "requestBody" in op and not path.startswith("/api/ingest"):
                out.append((method, plain, {"json": {"note": NUL, "x": [{"\x00": 1}]}}))
                out.append(
                    (
                        method,
                        plain,
                        {
                            "content": b'{"note": "\\ud800"}',
                            "headers": {"content-type": "application/json"},
                        },
                    )
                )
    return out


def test_nul_anywhere_answers_422_on_every_route_and_both_databases(api_both: Api) -> None:
    cases = requests_with_nul(api_both)
    assert len(cases) >= 30  # every route with a parameter is covered
    admin = api_both.headers("admin")
    wrong = []
    for method, url, kw in cases:
        headers = {**admin, **kw.pop("headers", {})}
        answer = api_both.client.request(method, url, headers=headers, **kw)
        if answer.status_code != 422 or answer.json()["error"] != "invalid_request":
            wrong.append((method, url, kw, answer.status_code, answer.text[:200]))
    assert wrong == []


def test_nul_in_an_ingested_item_is_a_dead_letter_on_both_databases(api_both: Api) -> None:
    body = {"detections": [{"sensor_id": SENSOR_ID, "seq": 1, "time": "2025-01-01T00:00:00Z",
                            "lon": 41.0, "lat": 34.0, "\x00": 1}]}  # fmt: skip
    answer = api_both.client.post(
        "/api/ingest/detections", json=body, headers=api_both.headers("sensor")
    )
    assert answer.status_code == 200 and answer.json()["rejected"] == 1
    with api_both.db.reader() as s:
        (row,) = dead_letters(s)
    assert row.reason == "schema" and "\\x00" in row.detail and "\x00" not in row.detail


def test_every_answer_carries_the_security_headers(api: Api) -> None:
    for answer in (
        api.client.get("/api/health"),
        api.client.get("/api/tracks"),  # 401: errors carry them too
        api.client.get("/api/tracks", headers=api.headers("viewer")),
    ):
        h = answer.headers
        assert h["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "script-src 'self'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"


def test_a_unit_reports_coordinates_must_be_numbers(api: Api) -> None:
    url = f"/api/units/{UNIT_ID}/reports"
    headers = api.headers("sensor")
    for lon in (True, False, "42.3"):
        body = {"status": "en_route", "lon": lon, "lat": 37.0}
        answer = api.client.post(url, json=body, headers=headers)
        assert answer.status_code == 422, (lon, answer.text)
    ok = api.client.post(url, json={"status": "en_route", "lon": 42, "lat": 37.0}, headers=headers)
    assert ok.status_code in (200, 201), ok.text

"""The live stream: everything after the cursor, then live changes; a reconnect misses nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_records import track
from api_support import Api
from starlette.websockets import WebSocketDisconnect

from limes.store.retention import RetentionPolicy, apply_retention

T0 = datetime(2025, 3, 1, 21, 0, tzinfo=UTC)


def _write(api: Api, n: int, start: int = 0) -> None:
    writer = api.services.writer
    assert writer is not None
    for i in range(start, start + n):
        writer.write(tracks=[track("T1", T0 + timedelta(seconds=i), x=float(i))])


def _receive(ws: Any, n: int) -> list[dict[str, Any]]:
    return [ws.receive_json() for _ in range(n)]


def test_stream_sends_the_backlog_then_live_changes_and_resumes_from_a_cursor(
    api_both: Api,
) -> None:
    api = api_both
    _write(api, 5)
    url = "/api/stream?cursor={}"
    with api.client.websocket_connect(url.format(0), headers=api.headers("viewer")) as ws:
        backlog = _receive(ws, 5)
        _write(api, 3, start=5)  # committed while connected: delivered live
        live = _receive(ws, 3)
    ids = [m["id"] for m in backlog + live]
    assert ids == sorted(ids) and len(set(ids)) == 8
    assert {m["type"] for m in backlog + live} == {"change"}
    assert [m["payload"]["x"] for m in backlog + live] == [float(i) for i in range(8)]
    # Disconnected after the 4th; changes written meanwhile; reconnect with the last id handled.
    _write(api, 2, start=8)
    token = api.tokens["viewer"]  # browsers pass the token in the query
    with api.client.websocket_connect(f"{url.format(ids[3])}&token={token}") as ws:
        resumed = _receive(ws, 6)
    assert [m["id"] for m in resumed] == [*ids[4:], ids[-1] + 1, ids[-1] + 2]
    assert [m["payload"]["x"] for m in resumed] == [float(i) for i in range(4, 10)]


def test_the_http_change_log_matches_the_stream(api: Api) -> None:
    _write(api, 4)
    first = api.client.get("/api/changes?cursor=0&limit=3", headers=api.headers("viewer")).json()
    rest = api.client.get(
        f"/api/changes?cursor={first['cursor']}", headers=api.headers("viewer")
    ).json()
    assert [c["payload"]["x"] for c in first["changes"] + rest["changes"]] == [0.0, 1.0, 2.0, 3.0]
    assert not first["reset"] and rest["cursor"] == rest["changes"][-1]["id"]


def test_a_cursor_older_than_retention_gets_a_reset_first(api: Api) -> None:
    _write(api, 3)
    apply_retention(api.db, RetentionPolicy(detections=None, track_history=None,
                                            dead_letters=None, changes=timedelta(0)),
                    datetime.now(UTC) + timedelta(seconds=1))  # fmt: skip
    _write(api, 2, start=3)
    with api.client.websocket_connect("/api/stream?cursor=1", headers=api.headers("viewer")) as ws:
        reset, *changes = _receive(ws, 3)
    assert reset == {"type": "reset", "oldest": 4, "cursor": 3}
    assert [m["id"] for m in changes] == [4, 5]


@pytest.mark.parametrize(
    ("headers", "query", "code", "error"),
    [
        ({}, "cursor=0", 4401, "unauthorized"),
        ({"Authorization": "Bearer limes_wrong"}, "cursor=0", 4401, "unauthorized"),
        (None, "cursor=0", 4403, "forbidden"),
        ("viewer", "cursor=-3", 4400, "invalid_request"),
    ],
)
def test_stream_refusals_say_why_and_close_with_a_code(
    api: Api, headers: Any, query: str, code: int, error: str
) -> None:
    if headers is None:
        headers = api.headers("sensor")
    elif isinstance(headers, str):
        headers = api.headers(headers)
    with api.client.websocket_connect(f"/api/stream?{query}", headers=headers) as ws:
        message = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert message["type"] == "error" and message["error"] == error
    assert closed.value.code == code

"""The live stream: every change after the client's cursor, then live changes, over WebSocket.

Protocol (docs/api.md): connect to `/api/stream?cursor=N` with the token as
`Authorization: Bearer` or `?token=`. The server sends JSON text messages:
`{"type": "change", "id", "time", "kind", "payload"}` for each change with id > N in id order,
`{"type": "reset", "oldest", "cursor"}` first when changes after N were already deleted by
retention (reload the state from the REST routes, then continue from `cursor`),
`{"type": "heartbeat", "cursor"}` when idle, and `{"type": "error", "error", "detail"}` before
closing with 4401 (bad token), 4403 (role) or 4400 (bad cursor). A client that reconnects with
the id of the last change it handled misses nothing and sees nothing twice.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from limes.api.auth import Permission, bearer_token, check, principal_of
from limes.api.errors import ApiError
from limes.api.services import Services
from limes.store.changes import change_bounds, changes_after
from limes.store.rows import json_value

#: Seconds between heartbeats on an idle stream.
HEARTBEAT_S = 15.0


def _read(svc: Services, cursor: int, limit: int) -> list[dict[str, Any]]:
    with svc.db.reader() as session:
        return [
            {
                "type": "change",
                "id": r.id,
                "time": json_value(r.time),
                "kind": r.kind,
                "payload": r.payload,
            }
            for r in changes_after(session, cursor, limit)
        ]


def _bounds(svc: Services) -> tuple[int, int]:
    with svc.db.reader() as session:
        return change_bounds(session)


async def stream(websocket: WebSocket) -> None:
    """Serve one live-stream client (see module docstring)."""
    svc: Services = websocket.app.state.services
    await websocket.accept()
    token = websocket.query_params.get("token") or bearer_token(
        websocket.headers.get("authorization")
    )
    try:
        principal = await run_in_threadpool(principal_of, svc, token)
        check(principal, Permission.READ)
    except ApiError as error:
        await websocket.send_json({"type": "error", "error": error.error, "detail": error.detail})
        await websocket.close(code=4000 + error.status)
        return
    raw = websocket.query_params.get("cursor", "0")
    if not raw.isdigit() or len(raw) > 18:
        await websocket.send_json(
            {
                "type": "error",
                "error": "invalid_request",
                "detail": f"cursor {raw!r} is not a cursor",
            }
        )
        await websocket.close(code=4400)
        return
    cursor = int(raw)
    svc.count("stream_connections")
    try:
        oldest, newest = await run_in_threadpool(_bounds, svc)
        if cursor > newest:
            cursor = newest  # a cursor from a wiped database: start from now
        if oldest > cursor + 1:
            await websocket.send_json({"type": "reset", "oldest": oldest, "cursor": oldest - 1})
            cursor = oldest - 1
        last_sent = time.monotonic()
        while True:
            seen = svc.signal.version
            batch = await run_in_threadpool(_read, svc, cursor, svc.settings.stream_batch)
            for message in batch:
                await websocket.send_json(message)
                cursor = message["id"]
            if batch:
                last_sent = time.monotonic()
                if len(batch) == svc.settings.stream_batch:
                    continue  # still catching up
            elif time.monotonic() - last_sent >= HEARTBEAT_S:
                await websocket.send_json({"type": "heartbeat", "cursor": cursor})
                last_sent = time.monotonic()
            await svc.signal.wait(seen, svc.settings.stream_poll_s)
    except WebSocketDisconnect:
        return

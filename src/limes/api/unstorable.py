"""Input no database can store is refused at the door with 422, on every route.

PostgreSQL refuses NUL in text and neither database stores an unpaired surrogate; SQLite
would keep a NUL and answer as if all were well. Rather than let each route find out from its
database (a 500 on one, a silent oddity on the other), this middleware reads what every route
reads (the path, the query string, a JSON body) and answers 422 naming the parameter when a
text holds NUL or cannot be encoded as UTF-8. HTTP ingest is exempt for its body: it answers
per item, and keeps a refused item as a dead letter (docs/protocols.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from limes.api.errors import ErrorBody

#: Paths whose bodies are checked by their own route (a prefix match).
OWN_BODY_CHECK = ("/api/ingest/",)


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored (NUL, unpaired surrogate), or None."""
    if "\x00" in value:
        return "contains NUL (U+0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (not UTF-8)"
    return None


def _walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(where, problem) for every unstorable text in a parsed JSON value, keys included."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            yield where or "body", problem
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key)
            if problem:
                yield f"{where}.{key!r}" if where else repr(key), f"key {problem}"
            yield from _walk(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{where}[{i}]")


def request_problem(scope: Scope, body: bytes | None) -> str | None:
    """The first unstorable parameter of a request, in words, or None."""
    problem = text_problem(scope.get("path", ""))
    if problem:
        return f"path: {problem}"
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        problem = text_problem(key) or text_problem(value)
        if problem:
            return f"query parameter {key!r}: {problem}"
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # not JSON: the route answers for its own body
        for where, problem in _walk(parsed, ""):
            return f"body.{where}: {problem}"
    return None


class UnstorableInput:
    """ASGI middleware answering 422 to requests carrying text no database stores.

    Bodies are read (up to `max_body_bytes`, beyond which the route's own limit answers) only
    for JSON requests, then handed on unchanged.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int = 1 << 20) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body: bytes | None = None
        if self._reads_body(scope):
            size = 0
            chunks = []
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                chunks.append(chunk)
                if not message.get("more_body", False) or size > self.max_body_bytes:
                    break
            if size <= self.max_body_bytes and not messages[-1].get("more_body", False):
                body = b"".join(chunks)
        problem = request_problem(scope, body)
        if problem is not None:
            await _refuse(send, problem)
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _reads_body(scope: Scope) -> bool:
        if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE"):
            return False
        if str(scope.get("path", "")).startswith(OWN_BODY_CHECK):
            return False
        headers = dict(scope.get("headers", []))
        return b"json" in headers.get(b"content-type", b"").lower()


async def _refuse(send: Send, detail: str) -> None:
    body = ErrorBody(error="invalid_request", detail=f"cannot be stored: {detail}")
    data = body.model_dump_json().encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})

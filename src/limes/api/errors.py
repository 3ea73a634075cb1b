"""API errors: one JSON shape `{"error": ..., "detail": ...}` for every failure, never a traceback.

`error` is a stable machine word (unauthorized, forbidden, not_found, conflict, invalid_request,
rate_limited, ...); `detail` says what and where in words.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from limes.errors import WebError
from limes.store.errors import Conflict, NotFound, StoreError

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """What every error answer carries."""

    error: str
    detail: str


class ApiError(WebError):
    """An error answer: status, machine word, words, headers."""

    def __init__(
        self, status: int, error: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


_WORDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}
_DESCRIPTIONS = {
    400: "The request cannot be used.",
    401: "No token, or the token is unknown or revoked.",
    403: "The token's role may not do this.",
    404: "No such thing.",
    409: "The request clashes with the current state (e.g. an illegal incident transition).",
    413: "The body is larger than allowed.",
    422: "A parameter or the body is invalid.",
    429: "Too many requests for this token; retry after Retry-After seconds.",
    503: "The service cannot answer now.",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI response declarations for these error statuses (all with `ErrorBody`)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status in (429, 503):
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
        if status == 401:
            entry["headers"] = {
                "WWW-Authenticate": {"description": "Bearer.", "schema": {"type": "string"}}
            }
        out[status] = entry
    return out


def _answer(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> Any:
    return JSONResponse(
        ErrorBody(error=error, detail=detail).model_dump(), status_code=status, headers=headers
    )


def _validation_detail(error: RequestValidationError) -> str:
    parts = []
    for e in error.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Turn every exception into an `ErrorBody` answer."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Any:
        return _answer(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Any:
        return _answer(422, "invalid_request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Any:
        word = _WORDS.get(exc.status_code, "error")
        return _answer(exc.status_code, word, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> Any:
        return _answer(404, "not_found", str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_request: Request, exc: Conflict) -> Any:
        return _answer(409, "conflict", str(exc))

    @app.exception_handler(StoreError)
    async def _store(_request: Request, exc: StoreError) -> Any:
        return _answer(422, "invalid_request", str(exc))

    @app.exception_handler(sa_exc.DataError)
    async def _refused(_request: Request, exc: sa_exc.DataError) -> Any:
        # A value the database will not take (too long, out of range): the caller's to fix.
        words = str(getattr(exc, "orig", exc)).strip().splitlines()
        return _answer(422, "invalid_request", f"cannot be stored: {words[0] if words else ''}")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _answer(500, "internal", "the service failed on this request; it is logged")

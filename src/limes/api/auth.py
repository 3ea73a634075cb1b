"""Token authentication and role permissions for every route and the stream.

A request carries `Authorization: Bearer <token>` (the stream may pass `?token=` instead,
since browsers cannot set headers on a WebSocket). The token's user has one role; each route
declares the one permission it needs, and `ROLE_PERMISSIONS` says which roles hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

from fastapi import Request

from limes.api.errors import ApiError
from limes.api.services import Services
from limes.store.users import Principal, Role, authenticate


class Permission(StrEnum):
    """What a route needs."""

    READ = "read"  # scenario, sensors, units, tracks, alerts, incidents, dead letters, metrics
    WORK_INCIDENTS = "work_incidents"  # transitions and notes
    COMMAND = "command"  # sector impact levels, unit reports, audit log
    ADMIN = "admin"  # users and tokens
    INGEST = "ingest"  # post detections, as the token's own sensor ids
    REPORT_UNIT = "report_unit"  # unit status/position (commanders; a unit's own sensor token)
    FILE_INTEL = "file_intel"  # file and review intelligence reports
    SHARE = "share"  # a partner's channels: TAXII collections and inbox, as its partner id


ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WORK_INCIDENTS}),
    Role.COMMANDER: frozenset(
        {
            Permission.READ,
            Permission.WORK_INCIDENTS,
            Permission.COMMAND,
            Permission.REPORT_UNIT,
            Permission.FILE_INTEL,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.READ,
            Permission.WORK_INCIDENTS,
            Permission.COMMAND,
            Permission.REPORT_UNIT,
            Permission.ADMIN,
            Permission.FILE_INTEL,
        }
    ),
    # A sensor speaks only for its own ids: ingest, and the position of a unit it rides with.
    Role.SENSOR: frozenset({Permission.INGEST, Permission.REPORT_UNIT}),
    Role.ANALYST: frozenset({Permission.READ, Permission.FILE_INTEL}),
    # A partner sees only what the release guard gives its one partner id.
    Role.PARTNER: frozenset({Permission.SHARE}),
}


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def unauthorized(detail: str) -> ApiError:
    """A 401 answer with the Bearer challenge."""
    return ApiError(401, "unauthorized", detail, {"WWW-Authenticate": "Bearer"})


def principal_of(services: Services, token: str | None) -> Principal:
    """The principal of a token, or a 401 `ApiError` saying why not."""
    if token is None:
        raise unauthorized("a token is required: send 'Authorization: Bearer <token>'")
    with services.db.reader() as session:
        principal = authenticate(session, token)
    if principal is None:
        raise unauthorized("the token is unknown or revoked")
    return principal


def check(principal: Principal, permission: Permission) -> None:
    """Raise 403 unless the principal's role holds the permission."""
    if permission not in ROLE_PERMISSIONS[principal.role]:
        allowed = sorted(r.value for r, perms in ROLE_PERMISSIONS.items() if permission in perms)
        raise ApiError(
            403,
            "forbidden",
            f"role {principal.role.value} may not {permission.value.replace('_', ' ')}; "
            f"roles that may: {', '.join(allowed)}",
        )


def require(permission: Permission) -> Callable[[Request], Principal]:
    """A route dependency: the caller's principal, holding `permission` (else 401/403)."""

    def dependency(request: Request) -> Principal:
        services: Services = request.app.state.services
        principal = principal_of(services, bearer_token(request.headers.get("authorization")))
        check(principal, permission)
        return principal

    dependency.__name__ = f"require_{permission.value}"
    return dependency

"""Users and API tokens: roles, token issue and revocation, authentication.

A token is 32 random bytes (URL-safe base64, prefixed `limes_`); only its SHA-256 is stored, so
the table grants nothing if it leaks. Lookup is by the hash (indexed) and the stored hash is then
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from limes.store.audit import audit
from limes.store.errors import Conflict, NotFound, StoreError
from limes.store.rows import row_dict
from limes.store.tables import TokenRow, UserRow

TOKEN_PREFIX = "limes_"
TOKEN_BYTES = 32
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")


class Role(StrEnum):
    """What a token's holder may do (see docs/api.md for the full table)."""

    VIEWER = "viewer"  # reads everything
    OPERATOR = "operator"  # + works incidents
    COMMANDER = "commander"  # + sector impact levels, unit reports
    ADMIN = "admin"  # + users and tokens
    SENSOR = "sensor"  # only ingests, only as its own sensor (or unit) ids
    ANALYST = "analyst"  # reads everything, files intelligence reports
    PARTNER = "partner"  # only what the release guard gives its one partner id (TAXII, shares)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token belongs to."""

    user_id: int
    name: str
    role: Role
    speaks_for: frozenset[str]
    token_id: int


def new_token() -> str:
    """A fresh random token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_user(name: str, role: Role, speaks_for: Sequence[str]) -> None:
    if not NAME_PATTERN.match(name):
        raise StoreError(f"user name {name!r} must match {NAME_PATTERN.pattern}")
    if role is Role.SENSOR and not speaks_for:
        raise StoreError("a sensor user needs the sensor (or unit) ids it may report for")
    if role is Role.PARTNER and len(speaks_for) != 1:
        raise StoreError("a partner user speaks for exactly one partner id of the sharing policy")
    if role not in (Role.SENSOR, Role.PARTNER) and speaks_for:
        raise StoreError(
            f"only sensor and partner users speak for ids; {role.value} {name!r} cannot"
        )
    for ident in speaks_for:
        if not NAME_PATTERN.match(ident):
            raise StoreError(f"sensor id {ident!r} must match {NAME_PATTERN.pattern}")


def create_user(
    session: Session,
    name: str,
    role: Role,
    *,
    speaks_for: Iterable[str] = (),
    actor: str,
    now: datetime,
) -> tuple[UserRow, str]:
    """Add a user with a first token; returns the user and the token (shown once)."""
    ids = sorted(set(speaks_for))
    _check_user(name, role, ids)
    if session.scalars(select(UserRow).where(UserRow.name == name)).first() is not None:
        raise Conflict(f"user {name!r} already exists")
    user = UserRow(name=name, role=role.value, speaks_for=ids, created=now)
    session.add(user)
    session.flush()
    audit(session, actor=actor, action="create", entity="user", entity_id=name,
          before=None, after=row_dict(user), time=now)  # fmt: skip
    _, token = issue_token(session, name, actor=actor, now=now)
    return user, token


def get_user(session: Session, name: str) -> UserRow:
    """A user by name, or `NotFound`."""
    user = session.scalars(select(UserRow).where(UserRow.name == name)).first()
    if user is None:
        raise NotFound(f"no user {name!r}")
    return user


def issue_token(session: Session, name: str, *, actor: str, now: datetime) -> tuple[TokenRow, str]:
    """A new token for an existing user; returns the row and the token (shown once)."""
    user = get_user(session, name)
    token = new_token()
    row = TokenRow(user_id=user.id, token_hash=hash_token(token), created=now, revoked=None)
    session.add(row)
    session.flush()
    audit(session, actor=actor, action="issue_token", entity="token", entity_id=row.id,
          before=None, after={"user": name, "token_id": row.id}, time=now)  # fmt: skip
    return row, token


def revoke_token(session: Session, token_id: int, *, actor: str, now: datetime) -> TokenRow:
    """Revoke a token by id (idempotent: revoking a revoked token changes nothing)."""
    row = session.get(TokenRow, token_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no token {token_id}")
    if row.revoked is None:
        row.revoked = now
        session.flush()
        audit(session, actor=actor, action="revoke_token", entity="token", entity_id=token_id,
              before={"revoked": None}, after={"revoked": now.isoformat()}, time=now)  # fmt: skip
    return row


def revoke_user(session: Session, name: str, *, actor: str, now: datetime) -> int:
    """Revoke every live token of a user; returns how many were revoked."""
    user = get_user(session, name)
    live = session.scalars(
        select(TokenRow).where(TokenRow.user_id == user.id, TokenRow.revoked.is_(None))
    ).all()
    for row in live:
        revoke_token(session, row.id, actor=actor, now=now)
    return len(live)


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; None otherwise."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    found = session.execute(
        select(TokenRow, UserRow)
        .join(UserRow, UserRow.id == TokenRow.user_id)
        .where(TokenRow.token_hash == digest)
    ).first()
    if found is None:
        return None
    token_row, user = found
    # The index found the row; the constant-time compare keeps the final check free of timing.
    if not hmac.compare_digest(token_row.token_hash, digest) or token_row.revoked is not None:
        return None
    return Principal(user.id, user.name, Role(user.role), frozenset(user.speaks_for), token_row.id)


def list_users(session: Session) -> Sequence[UserRow]:
    """Every user, by name."""
    return session.scalars(select(UserRow).order_by(UserRow.name)).all()


def user_tokens(session: Session, user_id: int) -> Sequence[TokenRow]:
    """A user's tokens (hashes only), oldest first."""
    return session.scalars(
        select(TokenRow).where(TokenRow.user_id == user_id).order_by(TokenRow.id)
    ).all()

"""User and token administration by database URL: what `limes users ...` calls.

Each call opens the database, brings its schema up to date, does one thing in one transaction
and closes it again, so the CLI needs nothing else.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from limes.store.database import connect
from limes.store.errors import StoreError
from limes.store.migrate import migrate
from limes.store.users import Role, create_user, issue_token, user_tokens
from limes.store.users import list_users as _list_users
from limes.store.users import revoke_token as _revoke_token
from limes.store.users import revoke_user as _revoke_user


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A user as the CLI lists it (never a token, only token ids and whether they are live)."""

    name: str
    role: str
    speaks_for: tuple[str, ...]
    created: datetime
    live_tokens: tuple[int, ...]
    revoked_tokens: tuple[int, ...]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry in some containers
        return "cli"


def add_user(
    db_url: str | None, name: str, role: str | Role, speaks_for: Iterable[str] = ()
) -> str:
    """Create a user and return its first token (print it once; it cannot be recovered)."""
    try:
        role = Role(role)
    except ValueError:
        raise StoreError(
            f"role {role!r} is not one of {', '.join(r.value for r in Role)}"
        ) from None
    db = connect(db_url)
    try:
        migrate(db)
        with db.session() as session:
            _, token = create_user(
                session, name, role, speaks_for=speaks_for, actor=_actor(), now=datetime.now(UTC)
            )
        return token
    finally:
        db.dispose()


def new_token(db_url: str | None, name: str) -> str:
    """Issue another token for an existing user and return it."""
    db = connect(db_url)
    try:
        migrate(db)
        with db.session() as session:
            _, token = issue_token(session, name, actor=_actor(), now=datetime.now(UTC))
        return token
    finally:
        db.dispose()


def revoke_token(
    db_url: str | None, *, token_id: int | None = None, user: str | None = None
) -> int:
    """Revoke one token by id, or every token of a user; returns how many were revoked."""
    if (token_id is None) == (user is None):
        raise ValueError("give exactly one of token_id or user")
    db = connect(db_url)
    try:
        migrate(db)
        with db.session() as session:
            now = datetime.now(UTC)
            if user is not None:
                return _revoke_user(session, user, actor=_actor(), now=now)
            assert token_id is not None
            row = _revoke_token(session, token_id, actor=_actor(), now=now)
            return 1 if row.revoked == now else 0
    finally:
        db.dispose()


def list_users(db_url: str | None) -> list[UserSummary]:
    """Every user with its token ids."""
    db = connect(db_url)
    try:
        migrate(db)
        with db.reader() as session:
            out = []
            for user in _list_users(session):
                tokens = user_tokens(session, user.id)
                out.append(
                    UserSummary(
                        name=user.name,
                        role=user.role,
                        speaks_for=tuple(user.speaks_for),
                        created=user.created,
                        live_tokens=tuple(t.id for t in tokens if t.revoked is None),
                        revoked_tokens=tuple(t.id for t in tokens if t.revoked is not None),
                    )
                )
            return out
    finally:
        db.dispose()

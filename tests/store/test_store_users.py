"""Users and tokens: only hashes stored, revocation immediate, roles checked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from store_records import NOW

from limes.store import accounts
from limes.store.audit import audit_entries
from limes.store.database import Database
from limes.store.errors import Conflict, StoreError
from limes.store.tables import TokenRow
from limes.store.users import Role, authenticate, create_user, issue_token, revoke_token


def test_a_token_authenticates_its_user_and_only_its_hash_is_stored(db: Database) -> None:
    with db.session() as s:
        _, token = create_user(s, "ops.amal", Role.OPERATOR, actor="admin", now=NOW)
    with db.reader() as s:
        principal = authenticate(s, token)
        stored = s.scalars(select(TokenRow.token_hash)).all()
    assert principal is not None
    assert (principal.name, principal.role, principal.speaks_for) == (
        "ops.amal",
        Role.OPERATOR,
        frozenset(),
    )
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored and len(token) >= 43  # 32 random bytes, base64


def test_unknown_tampered_and_revoked_tokens_are_refused(db: Database) -> None:
    with db.session() as s:
        _, token = create_user(s, "viewer1", Role.VIEWER, actor="admin", now=NOW)
        row, second = issue_token(s, "viewer1", actor="admin", now=NOW)
    with db.reader() as s:
        assert authenticate(s, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert authenticate(s, "") is None and authenticate(s, "limes_") is None
    with db.session() as s:
        revoke_token(s, row.id, actor="admin", now=NOW)
    with db.reader() as s:
        assert authenticate(s, second) is None
        assert authenticate(s, token) is not None  # the other token lives on
        actions = [e.action for e in audit_entries(s, actor="admin")]
    assert actions == ["revoke_token", "issue_token", "issue_token", "create"]


@pytest.mark.parametrize(
    ("name", "role", "speaks_for", "error"),
    [
        ("tower-1", Role.SENSOR, [], "needs the sensor"),
        ("amal", Role.OPERATOR, ["tower-1"], "only sensor and partner users"),
        ("bad name", Role.VIEWER, [], "must match"),
        ("", Role.VIEWER, [], "must match"),
    ],
)
def test_bad_users_are_refused_with_the_reason(
    db: Database, name: str, role: Role, speaks_for: list[str], error: str
) -> None:
    with db.session() as s, pytest.raises(StoreError, match=error):
        create_user(s, name, role, speaks_for=speaks_for, actor="admin", now=NOW)


def test_a_user_name_is_taken_once(db: Database) -> None:
    with db.session() as s:
        create_user(s, "amal", Role.VIEWER, actor="admin", now=NOW)
    with db.session() as s, pytest.raises(Conflict, match="already exists"):
        create_user(s, "amal", Role.ADMIN, actor="admin", now=NOW)


def test_cli_functions_add_list_and_revoke_by_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    token = accounts.add_user(url, "tower-7", "sensor", speaks_for=["tw-7", "tw-8"])
    accounts.add_user(url, "cmd.saif", Role.COMMANDER)
    second = accounts.new_token(url, "cmd.saif")
    users = {u.name: u for u in accounts.list_users(url)}
    assert users["tower-7"].speaks_for == ("tw-7", "tw-8") and users["tower-7"].role == "sensor"
    assert len(users["cmd.saif"].live_tokens) == 2
    assert accounts.revoke_token(url, user="cmd.saif") == 2
    assert accounts.revoke_token(url, token_id=users["tower-7"].live_tokens[0]) == 1
    assert all(not u.live_tokens for u in accounts.list_users(url))
    assert token != second
    with pytest.raises(StoreError, match="role 'pilot' is not one of"):
        accounts.add_user(url, "x", "pilot")

"""`limes users`: tokens are printed once, listed by id only, revocable; bad roles are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from limes.cli import app
from limes.store import connect
from limes.store.users import authenticate

runner = CliRunner()


def test_add_list_and_revoke_a_user(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    added = runner.invoke(app, ["users", "add", "alice", "--role", "operator", "--db", url])
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert token.startswith("limes_")

    listed = runner.invoke(app, ["users", "list", "--db", url])
    assert "alice" in listed.output and "operator" in listed.output
    assert token not in listed.output

    revoked = runner.invoke(app, ["users", "revoke", "--user", "alice", "--db", url])
    assert revoked.exit_code == 0 and "revoked 1" in revoked.output
    db = connect(url)
    try:
        with db.reader() as session:
            assert authenticate(session, token) is None
    finally:
        db.dispose()


def test_an_unknown_role_is_a_clean_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    result = runner.invoke(app, ["users", "add", "bob", "--role", "king", "--db", url])
    assert result.exit_code == 2
    assert "role 'king'" in result.output and "Traceback" not in result.output


def test_users_add_follows_limes_database_url_and_names_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("LIMES_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    added = runner.invoke(app, ["users", "add", "carol", "--role", "viewer"])
    assert added.exit_code == 0, added.output
    assert f"created in {url}" in added.output
    assert (tmp_path / "serve.db").exists() and not (tmp_path / "limes.db").exists()
    token = added.output.strip().splitlines()[-1]
    db = connect(url)
    try:
        with db.reader() as session:
            assert authenticate(session, token) is not None
    finally:
        db.dispose()


def test_users_verbs_take_the_user_name_alike(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    assert (
        runner.invoke(app, ["users", "add", "dave", "--role", "operator", "--db", url]).exit_code
        == 0
    )
    again = runner.invoke(app, ["users", "token", "dave", "--db", url])
    assert again.exit_code == 0, again.output
    revoked = runner.invoke(app, ["users", "revoke", "dave", "--db", url])
    assert revoked.exit_code == 0 and "revoked 2" in revoked.output
    neither = runner.invoke(app, ["users", "revoke", "--db", url])
    assert neither.exit_code == 2 and "give a user NAME or --token-id" in neither.output


def test_a_partner_token_speaks_for_the_partner_given_by_partner(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    added = runner.invoke(
        app, ["users", "add", "coalition-taxii", "--role", "partner", "--partner", "coalition",
              "--db", url],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    db = connect(url)
    try:
        with db.reader() as session:
            who = authenticate(session, token)
    finally:
        db.dispose()
    assert who is not None and who.role.value == "partner"
    assert list(who.speaks_for) == ["coalition"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--role", "viewer", "--partner", "coalition"], "goes with --role partner"),
        (["--role", "partner", "--sensor", "coalition"], "speaks for a partner"),
    ],
)
def test_partner_and_sensor_ids_go_with_their_roles(
    tmp_path: Path, args: list[str], says: str
) -> None:
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    result = runner.invoke(app, ["users", "add", "x", *args, "--db", url])
    assert result.exit_code == 2
    assert says in " ".join(result.output.split()) and "Traceback" not in result.output

"""`limes users`: tokens are printed once, listed by id only, revocable; bad roles are refused."""

from __future__ import annotations

from pathlib import Path

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

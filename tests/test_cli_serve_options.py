"""`limes serve`'s options are made from `ServiceConfig`: one declaration, one command, one doc."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field
from typer.testing import CliRunner

import limes.service.run
from limes.cli import app
from limes.model_options import markdown_table, option_specs, with_options_of
from limes.service.config import ServiceConfig

runner = CliRunner()
DOC = Path(__file__).resolve().parents[1] / "docs" / "serve.md"


def _documented_table() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- options:[^\n]*-->\n(.*?)<!-- end of options", text, re.S)
    assert found, "docs/serve.md has lost its generated table's markers"
    return found.group(1)


def test_the_docs_list_exactly_the_models_fields_as_generated() -> None:
    table = _documented_table()
    assert table == markdown_table(ServiceConfig), (
        "docs/serve.md differs from ServiceConfig: regenerate the table with "
        "`python -m limes.service.config`"
    )
    documented = re.findall(r"^\| `(--[a-z-]+)`", table, re.M)
    assert documented == [s.option for s in option_specs(ServiceConfig)]
    assert len(documented) == len(ServiceConfig.model_fields)


def test_every_field_says_what_it_is_for() -> None:
    assert [n for n, f in ServiceConfig.model_fields.items() if not f.description] == []


def _given(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> ServiceConfig:
    seen: list[ServiceConfig] = []
    monkeypatch.setattr(limes.service.run, "serve", seen.append)
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 0, result.output
    return seen[0]


def test_options_not_given_keep_the_models_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIMES_DATABASE_URL", raising=False)
    assert _given(monkeypatch, []) == ServiceConfig()


def test_options_reach_the_model_parsed_by_its_own_checks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LIMES_DATABASE_URL", "sqlite:///from-env.db")
    cfg = _given(
        monkeypatch,
        [
            "--mqtt", "off", "--cot-port", "0", "--assessment", str(tmp_path / "a"),
            "--assessment", str(tmp_path / "b"), "--no-tune-gc", "--tick", "off",
            "--exercise-start", "2025-03-01T18:00Z", "--exercise-speed", "30",
        ],
    )  # fmt: skip
    assert cfg.mqtt is None and cfg.cot_port == 0 and cfg.tick_s is None
    assert cfg.database_url == "sqlite:///from-env.db"
    assert cfg.assessments == (tmp_path / "a", tmp_path / "b")
    assert cfg.tune_gc is False
    assert cfg.clock_start == datetime(2025, 3, 1, 18, tzinfo=UTC) and cfg.clock_speed == 30


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--cot-port", "70000"], "--cot-port: Input should be less than or equal to 65535"),
        (["--http", "localhost:eighty"], "--http: 'localhost:eighty' is not HOST:PORT"),
        (["--exercise-start", "2025-03-01T18:00"], "--exercise-start: "),
        (["--exercise-speed", "30"], "--exercise-speed needs --exercise-start"),
        (["--tick-lag", "-1"], "--tick-lag: Input should be greater than or equal to 0"),
        (["--log-level", "LOUD"], "--log-level: "),
    ],
)
def test_a_value_the_model_refuses_is_a_clear_message_naming_the_option(
    args: list[str], says: str
) -> None:
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output


def test_a_field_added_to_the_model_is_an_option_with_no_other_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Extended(ServiceConfig):
        snapshot_s: float = Field(60.0, ge=0, description="Seconds between state snapshots.")

    @with_options_of(Extended)
    def command(**given: Any) -> None:
        seen.update(given)

    seen: dict[str, Any] = {}
    import typer

    one = typer.Typer()
    one.command()(command)
    result = runner.invoke(one, ["--snapshot", "5"])
    assert result.exit_code == 0, result.output
    assert seen["snapshot_s"] == "5"
    assert "`--snapshot`" in markdown_table(Extended)


def test_python_m_limes_service_is_the_same_command() -> None:
    def options(argv: list[str]) -> list[str]:
        done = subprocess.run(
            [sys.executable, *argv, "--help"], capture_output=True, text=True, timeout=120,
            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return re.findall(r"(--[a-z][a-z-]+)", done.stdout)

    assert options(["-m", "limes.service"]) == options(["-m", "limes.cli", "serve"])

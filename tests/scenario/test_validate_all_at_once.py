"""`limes scenario validate` reports every problem at once: the schema's and the cross-field ones
behind them, in the order of the file, with a did-you-mean for a misspelt key."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from limes.cli import app
from limes.scenario.salvage import did_you_mean

runner = CliRunner()
DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"


def example_yaml() -> str:
    found = re.search(r"## A complete example.*?```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert found
    return found.group(1)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _validate(tmp_path: Path, text: str) -> tuple[int, list[str]]:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["scenario", "validate", str(path)])
    assert "Traceback" not in result.output
    return result.exit_code, [ln.strip() for ln in result.output.splitlines()[1:] if ln.strip()]


def test_schema_and_cross_field_problems_come_together_sorted_by_line(tmp_path: Path) -> None:
    text = example_yaml()
    text = text.replace("{name: South, from_km: 22,", "{name: South, from_km: 20,")  # overlap
    text = text.replace("far_side: Militia", "far_side: Milita")  # unknown controller
    text = text.replace("    mast_height_m: 15\n", "    mast_hieght_m: 15\n")  # misspelt key
    text = text.replace("strength: 8", "strength: -8")  # a bad value in a unit
    code, problems = _validate(tmp_path, text)
    assert code == 2
    lines = [int(m.group(1)) for p in problems if (m := re.match(r"\S+:(\d+):", p))]
    assert lines == sorted(lines) and len(lines) == len(problems)
    by_line = dict(zip(lines, problems, strict=True))
    south = by_line[_line_of(text, "{name: South")]
    assert "overlaps sector 'North'" in south or "Milita" in south
    assert any("sectors[1].far_side" in p and "Milita" in p for p in problems)
    assert any("sectors[1].from_km: overlaps sector 'North'" in p for p in problems)
    mast = by_line[_line_of(text, "mast_hieght_m")]
    assert "sensor_models[0].mast_hieght_m: Extra inputs" in mast
    assert mast.endswith("did you mean 'mast_height_m'?")
    assert any(p.startswith(f"{tmp_path / 'bad.yaml'}:") and "units[0].strength" in p
               for p in problems)  # fmt: skip


def test_a_misspelt_required_key_is_one_problem_not_two(tmp_path: Path) -> None:
    code, problems = _validate(tmp_path, example_yaml().replace("title:", "titel:", 1))
    assert code == 2
    assert problems == [
        f"{tmp_path / 'bad.yaml'}:2: titel: Extra inputs are not permitted: did you mean 'title'?"
    ]


def test_problems_that_may_only_follow_from_a_refused_item_are_held_back(tmp_path: Path) -> None:
    # The South sector's end is refused by the schema; without it the sectors stop short of the
    # line's end, which is not the user's second mistake.
    text = example_yaml().replace("to_km: 44.9, command: 2nd Brigade", "to_km: -3, command: 2nd")
    code, problems = _validate(tmp_path, text)
    assert code == 2
    assert len(problems) == 1 and "sectors[1].to_km" in problems[0]


def test_did_you_mean_knows_the_fields_of_nested_records() -> None:
    assert did_you_mean("chainage_kms", ("sensors", 0, "position")) == "chainage_km"
    assert did_you_mean("hazard_per_sec", ("sensor_models", 0, "laws", "person", "day")) == (
        "hazard_per_s"
    )
    assert did_you_mean("zzz", ("sensors", 0)) is None

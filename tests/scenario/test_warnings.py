"""`scenario validate` warnings: legal entries that almost surely do not mean what they say."""

from __future__ import annotations

from pathlib import Path

from scenario_fixtures import edit, example_yaml
from typer.testing import CliRunner

from limes.cli import app
from limes.scenario.load import load_scenario
from limes.scenario.warnings import Severity, angle_off_deg, scenario_warnings

runner = CliRunner()

# The example's line runs roughly north–south with our side east: from a tower inside the
# line, the line lies to the west (bearing near 270°).
NARROW_NO_HEADING = (
    "  - {id: gs-1, model: buried sensor, position: {chainage_km: 25}, status: planned}\n"
    "  - {id: cam-n, model: tower camera, position: {chainage_km: 15, offset_m: 1500}, "
    "fov_deg: 60}\n"
)
GS_LINE = "  - {id: gs-1, model: buried sensor, position: {chainage_km: 25}, status: planned}\n"


def _load(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return [str(f) for f in scenario_warnings(load_scenario(path))]


def _dated(text: str) -> str:
    """The documented example, whose barrier statuses carry their dates (checked here)."""
    assert "as_of: 2025-05-01" in text and "due: 2026-01-01" in text
    return text


def test_the_dated_example_gives_no_warning(tmp_path: Path) -> None:
    assert _load(tmp_path, _dated(example_yaml())) == []


def test_a_narrow_camera_without_heading_is_said_to_face_north_away_from_the_line(
    tmp_path: Path,
) -> None:
    found = _load(tmp_path, edit(_dated(example_yaml()), GS_LINE, NARROW_NO_HEADING))
    (w,) = [f for f in found if "cam-n" in f]
    assert "sensors[3].heading_deg" in w and "faces 0°" in w
    bearing = float(w.split("at bearing ")[1].split("°")[0])
    assert 240 <= bearing <= 300  # the line lies west of a tower east of it
    assert ":" in w.split(": sensors")[0]  # file:line given


def test_giving_the_heading_toward_the_line_silences_the_warning(tmp_path: Path) -> None:
    text = edit(
        _dated(example_yaml()),
        GS_LINE,
        NARROW_NO_HEADING.replace("fov_deg: 60}", "fov_deg: 60, heading_deg: 270}"),
    )
    assert _load(tmp_path, text) == []


def test_a_sensor_looking_away_out_of_reach_sees_none_of_the_strip(tmp_path: Path) -> None:
    # 12 km inside (the strip ends at 4 km), looking east, 6 km longest range: it misses.
    far = GS_LINE + (
        "  - {id: cam-far, model: tower camera, position: {chainage_km: 15, offset_m: 12000}, "
        "fov_deg: 60, heading_deg: 90}\n"
    )
    found = _load(tmp_path, edit(_dated(example_yaml()), GS_LINE, far))
    (w,) = [f for f in found if "cam-far" in f]
    assert "sees none of the analysed strip" in w and "away from the line" in w
    # Turned toward the line (west) it reaches: 10 km out, 3 km range is still short of the
    # strip's inner edge at 4 km? No: 10 − 4 = 6 km > 3 km, so the reason is distance.
    turned = _load(tmp_path, edit(_dated(example_yaml()), GS_LINE, far.replace("90}", "270}")))
    (w2,) = [f for f in turned if "cam-far" in f]
    assert "the strip is 8.0 km away and its longest range is 6.0 km" in w2


def test_a_unit_too_far_for_its_sectors_goal_is_warned_with_the_lower_bound(
    tmp_path: Path,
) -> None:
    # patrol-1: readiness 5 min + alert handling 2 min + 6 km at 60 km/h (6 min) = 13 min.
    base = _dated(example_yaml())
    goal = "far_side: West army}"
    slow = _load(tmp_path, edit(base, goal, "far_side: West army, response_goal_min: 10}"))
    (w,) = [f for f in slow if "patrol-1" in f]
    assert "10-min response goal" in w and "at best 13 min" in w
    ok = _load(tmp_path, edit(base, goal, "far_side: West army, response_goal_min: 15}"))
    assert not [f for f in ok if "patrol-1" in f]


def test_an_undated_status_is_warned_and_a_planned_one_noted(tmp_path: Path) -> None:
    text = edit(example_yaml(), "    as_of: 2025-05-01\n", "")
    text = edit(text, "    due: 2026-01-01\n", "")
    path = tmp_path / "undated.yaml"
    path.write_text(text)
    found = scenario_warnings(load_scenario(path))
    by_path = {f.path: f for f in found}
    assert by_path["barriers[1].as_of"].severity is Severity.WARNING
    assert "40 %" in by_path["barriers[1].as_of"].reason
    assert by_path["barriers[2].due"].severity is Severity.NOTE


def test_validate_prints_the_warnings_after_valid_and_still_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(edit(_dated(example_yaml()), GS_LINE, NARROW_NO_HEADING))
    result = runner.invoke(app, ["scenario", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: ")
    assert "warning:" in result.output and "cam-n" in result.output


def test_angle_off_is_the_short_way_round() -> None:
    assert angle_off_deg(350.0, 10.0) == 20.0
    assert angle_off_deg(0.0, 180.0) == 180.0
    assert angle_off_deg(90.0, 45.0) == 45.0

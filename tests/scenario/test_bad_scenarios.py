"""Bad scenarios are rejected with the field path, the reason and the line, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scenario_fixtures import edit, example_yaml, line_of, write_dem

from limes.scenario.errors import Problem, ScenarioError
from limes.scenario.load import load_scenario


@dataclass(frozen=True)
class Case:
    """One way to break the example: the edit, and the problem it must produce."""

    edit: Callable[[str, Path], str]
    path: str
    reason: str
    line_marker: str | None = None  # the problem's line is the line holding this text


def replace(old: str, new: str, marker: str | None = None) -> Callable[[str, Path], str]:
    return lambda text, _dir: edit(text, old, new)


def _dem_covering_north_half(text: str, folder: Path) -> str:
    # Covers the northern ~20 km of the 45 km line only.
    write_dem(
        folder / "north.tif",
        "EPSG:4326",
        (39.90, 35.10, 40.25, 35.40),
        0.001,
        lambda x, y: 300 + 0 * x,
    )
    return _with_dem_file(text, "north.tif")


def _with_dem_file(text: str, name: str) -> str:
    start = text.index("terrain:\n")
    end = text.index("controllers:\n")
    return text[:start] + f"terrain:\n  file: {name}\n  resolution_m: 200\n" + text[end:]


def _line_file_with_point(text: str, folder: Path) -> str:
    doc = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [40.0, 35.0]}}
    (folder / "line.geojson").write_text(json.dumps(doc))
    return edit(
        text,
        "  line: [[40.00, 35.30], [40.05, 35.10], [40.02, 34.90]]",
        "  line_file: line.geojson",
    )


TOWER_DAY = "        day: {range_m: 3000, hazard_per_s: 0.02"

CASES: dict[str, Case] = {
    "sectors overlap": Case(
        replace("{name: South, from_km: 22,", "{name: South, from_km: 20,"),
        "sectors[1].from_km",
        "overlaps sector 'North'",
        "{name: South",
    ),
    "sectors leave a gap": Case(
        replace("{name: South, from_km: 22,", "{name: South, from_km: 24,"),
        "sectors[1].from_km",
        "gap: km 22.0–24.0",
        "{name: South",
    ),
    "sectors stop short of the end": Case(
        replace("to_km: 44.9, command: 2nd Brigade", "to_km: 40, command: 2nd Brigade"),
        "sectors[1].to_km",
        "gap: the sectors end before the border does",
        "{name: South",
    ),
    "chainage beyond the line's length": Case(
        replace("    from_km: 30\n    to_km: 44\n", "    from_km: 30\n    to_km: 60\n"),
        "barriers[2].to_km",
        "chainage beyond the border's length (45.0 km)",
        "to_km: 60",
    ),
    "sensor 80 km from the line": Case(
        replace("position: {lon: 40.07, lat: 35.10}", "position: {lon: 40.95, lat: 35.10}"),
        "sensors[1].position",
        "km from the border line; the limit is 20.0 km",
        "position: {lon: 40.95",
    ),
    "negative range": Case(
        replace(f"{TOWER_DAY}", TOWER_DAY.replace("3000", "-3000")),
        "sensor_models[0].laws.person.day.range_m",
        "greater than 0",
        "range_m: -3000",
    ),
    "unknown sensor kind": Case(
        replace("kind: day_camera", "kind: periscope"),
        "sensor_models[0].kind",
        "Input should be 'day_camera'",
        "kind: periscope",
    ),
    "unknown barrier kind": Case(
        replace("  - id: trench-1\n    kind: trench", "  - id: trench-1\n    kind: moat"),
        "barriers[0].kind",
        "Input should be 'trench'",
        "kind: moat",
    ),
    "DEM does not cover the strip": Case(
        _dem_covering_north_half,
        "terrain.file",
        "the DEM does not cover the border strip: km ",
        "file: north.tif",
    ),
    "missing DEM file": Case(
        lambda text, _d: _with_dem_file(text, "nowhere.tif"),
        "terrain.file",
        "no such DEM file",
        "file: nowhere.tif",
    ),
    "self-crossing border line": Case(
        replace(
            "line: [[40.00, 35.30], [40.05, 35.10], [40.02, 34.90]]",
            "line: [[40.00, 35.30], [40.05, 35.10], [39.98, 35.15], [40.08, 35.25]]",
        ),
        "border.line",
        "the border line crosses itself",
        "  line: [[40.00",
    ),
    "unknown unit referenced by a sensor": Case(
        replace("owner_unit: patrol-1}", "owner_unit: patrol-9}"),
        "sensors[0].owner_unit",
        "unknown unit",
        "owner_unit: patrol-9",
    ),
    "unknown sensor model": Case(
        replace("{id: tw-1, model: tower camera,", "{id: tw-1, model: tower cam,"),
        "sensors[0].model",
        "unknown sensor model (known: buried sensor, tower camera)",
        "{id: tw-1",
    ),
    "unknown controller": Case(
        replace("far_side: Militia,", "far_side: Milita,"),
        "sectors[1].far_side",
        "unknown controller (known: Militia, West army)",
        "{name: South",
    ),
    "duplicate ids": Case(
        replace("{id: tw-2,", "{id: tw-1,"),
        "sensors[1]",
        "duplicate name 'tw-1' (2 times)",
        "{id: tw-1, model: tower camera, position: {lon",
    ),
    "bad YAML syntax": Case(
        replace("title: A 45 km example border", "title: [A 45 km example border"),
        "",
        "not valid YAML",
        None,
    ),
    "a key written twice": Case(
        replace(
            "    status: built\n    delay: {foot: {mean_s: 240",
            "    status: built\n    status: planned\n    delay: {foot: {mean_s: 240",
        ),
        "",
        "duplicate key 'status' (first on line 47)",
        "    status: planned",
    ),
    "under_construction without progress": Case(
        replace("    progress_pct: 40\n", ""),
        "barriers[1]",
        "an under_construction barrier needs progress_pct",
        "  - id: trench-2",
    ),
    "progress on a built barrier": Case(
        replace(
            "    status: built\n    delay: {foot: {mean_s: 240",
            "    status: built\n    progress_pct: 50\n    delay: {foot: {mean_s: 240",
        ),
        "barriers[0]",
        "progress_pct is only for under_construction barriers",
        "  - id: trench-1",
    ),
    "both lon/lat and chainage": Case(
        replace(
            "position: {chainage_km: 8, offset_m: 600}",
            "position: {chainage_km: 8, offset_m: 600, lon: 40.0, lat: 35.2}",
        ),
        "sensors[0].position",
        "give either lon/lat or chainage_km/offset_m, not both",
        "{id: tw-1",
    ),
    "unknown field (typo)": Case(
        replace("    mast_height_m: 15\n", "    mast_hieght_m: 15\n"),
        "sensor_models[0].mast_hieght_m",
        "Extra inputs are not permitted",
        "mast_hieght_m",
    ),
    "line_file without a LineString": Case(
        _line_file_with_point,
        "border.line_file",
        "holds no LineString",
        "line_file: line.geojson",
    ),
    "missing required field": Case(
        replace("  inside: left            # walking", "  # inside: left          # walking"),
        "border.inside",
        "Field required",
        "border:",
    ),
    "negative speed": Case(
        replace("speeds: {road_kmh: 60, off_road_kmh: 25}", "speeds: {road_kmh: -60}"),
        "units[0].speeds.road_kmh",
        "greater than 0",
        "speeds: {road_kmh: -60}",
    ),
    "group size upside down": Case(
        replace("group_size: [3, 10]", "group_size: [10, 3]"),
        "threats[1]",
        "group_size must be [min, max]",
        "- {name: refugees",
    ),
    "barrier outside the strip": Case(
        replace("    offset_m: 300\n    status: built", "    offset_m: 9000\n    status: built"),
        "barriers[0].offset_m",
        "barrier lies outside the analysed strip (±4000 m on that side)",
        "offset_m: 9000",
    ),
}


def _problems(text: str, folder: Path) -> list[Problem]:
    path = folder / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.problems


def test_the_example_itself_is_valid(example_file: Path) -> None:
    sc = load_scenario(example_file)
    assert sc.name == "wadi-example"
    assert sc.length_km == pytest.approx(45.0, abs=0.5)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_scenario_names_the_field_the_reason_and_the_line(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    text = case.edit(example_yaml(), tmp_path)
    problems = _problems(text, tmp_path)
    matching = [p for p in problems if p.path == case.path and case.reason in p.reason]
    assert matching, f"no problem at {case.path!r} with {case.reason!r} in {problems}"
    problem = matching[0]
    expected_line = line_of(text, case.line_marker) if case.line_marker else _yaml_error_line(text)
    assert problem.line == expected_line
    assert problem.file is not None and problem.file.endswith("bad.yaml")
    # The rendered message carries all of it: file:line: path: reason.
    rendered = str(problem)
    assert f"bad.yaml:{expected_line}: " in rendered
    assert case.reason in rendered
    if case.path:
        assert f": {case.path}: " in rendered


def _yaml_error_line(text: str) -> int:
    import yaml

    try:
        yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        assert exc.problem_mark is not None
        return exc.problem_mark.line + 1
    raise AssertionError("the text is valid YAML")


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = example_yaml()
    text = edit(text, "{id: tw-1, model: tower camera,", "{id: tw-1, model: tower cam,")
    text = edit(text, "far_side: Militia,", "far_side: Milita,")
    text = edit(text, "owner_unit: patrol-1}", "owner_unit: patrol-9}")
    paths = {p.path for p in _problems(text, tmp_path)}
    assert {"sensors[0].model", "sectors[1].far_side", "sensors[0].owner_unit"} <= paths


def test_a_value_that_is_shown_is_the_value_written(tmp_path: Path) -> None:
    text = edit(example_yaml(), "{name: South, from_km: 22,", "{name: South, from_km: 20,")
    (problem,) = [p for p in _problems(text, tmp_path) if p.path == "sectors[1].from_km"]
    assert problem.value == 20
    assert str(problem).endswith("(got 20.0)")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_a_dem_with_no_crs_is_reported(tmp_path: Path) -> None:
    import rasterio

    with rasterio.open(
        tmp_path / "nocrs.tif", "w", driver="GTiff", width=4, height=4, count=1, dtype="float32"
    ) as dst:
        dst.write(np.zeros((4, 4), np.float32), 1)
    text = _with_dem_file(example_yaml(), "nocrs.tif")
    (problem,) = _problems(text, tmp_path)
    assert problem.path == "terrain.file"
    assert "no coordinate reference system" in problem.reason

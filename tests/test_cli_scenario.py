"""The `limes scenario` command: summaries, validation messages, export, never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from limes.cli import app

runner = CliRunner()
DOC = Path(__file__).resolve().parents[1] / "docs" / "scenario-format.md"


def example_yaml() -> str:
    found = re.search(r"## A complete example.*?```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert found
    return found.group(1)


def test_show_prints_the_summary_with_length_and_closure() -> None:
    result = runner.invoke(app, ["scenario", "show", "iraq-syria"])
    assert result.exit_code == 0, result.output
    found = re.search(r"border length ([\d.]+) km", result.output)
    assert found, result.output
    length = float(found.group(1))
    assert abs(length - 600) <= 30
    assert re.search(r"vulnerable\s.*140 of 220", result.output)
    for name in ("Peshmerga", "Nineveh", "Jazeera", "Anbar", "SDF", "Syrian army", "aerostat"):
        assert name in result.output
    assert "invented" in result.output


def test_validate_a_good_file_says_valid_with_its_summary_line(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(example_yaml())
    result = runner.invoke(app, ["scenario", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: wadi-example: 45.0 km, 2 sectors")


def test_validate_lists_every_problem_with_file_line_and_field_and_exits_2(
    tmp_path: Path,
) -> None:
    text = example_yaml()
    text = text.replace("{name: South, from_km: 22,", "{name: South, from_km: 20,")
    text = text.replace("{id: tw-1, model: tower camera,", "{id: tw-1, model: tower cam,")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["scenario", "validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = text.splitlines()
    south = next(i for i, line in enumerate(lines, 1) if "{name: South" in line)
    tw1 = next(i for i, line in enumerate(lines, 1) if "{id: tw-1" in line)
    assert f"bad.yaml:{south}: sectors[1].from_km: overlaps sector 'North'" in result.output
    assert f"bad.yaml:{tw1}: sensors[0].model: unknown sensor model" in result.output
    assert "(got 'tower cam')" in result.output


def test_bad_yaml_and_missing_files_are_clean_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\ntitle: [oops\n")
    result = runner.invoke(app, ["scenario", "validate", str(path)])
    assert result.exit_code == 2 and "not valid YAML" in result.output
    result = runner.invoke(app, ["scenario", "show", str(tmp_path / "nothing.yaml")])
    assert result.exit_code == 2
    assert "no scenario file or built-in scenario of that name" in result.output
    assert "iraq-syria" in result.output


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_export_writes_the_layers(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"x.{fmt}"
    result = runner.invoke(
        app, ["scenario", "export", "iraq-syria", "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    wrote = re.search(r"wrote (\d+) features", result.output)
    assert wrote, result.output
    n = int(wrote.group(1))
    if fmt == "geojson":
        assert len(json.loads(out.read_text())["features"]) == n
    else:
        import pyogrio

        assert (
            sum(
                pyogrio.read_info(out, layer=layer)["features"]
                for layer, _ in pyogrio.list_layers(out)
            )
            == n
        )


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_export_into_a_missing_folder_is_a_clean_error(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "no" / "such" / f"x.{fmt}"
    result = runner.invoke(
        app, ["scenario", "export", "iraq-syria", "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "No such file or directory" in result.output


def test_export_onto_an_unwritable_path_is_a_clean_error(tmp_path: Path) -> None:
    out = tmp_path / "folder.gpkg"
    out.mkdir()  # a folder where the file should go: neither unlink nor SQLite can use it
    result = runner.invoke(
        app, ["scenario", "export", "iraq-syria", "--format", "gpkg", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "error:" in result.output


def test_export_refuses_an_unknown_format(tmp_path: Path) -> None:
    out = tmp_path / "x.kml"
    result = runner.invoke(
        app, ["scenario", "export", "iraq-syria", "--format", "kml", "--out", str(out)]
    )
    assert result.exit_code == 2 and not out.exists()


def test_list_version_and_help() -> None:
    listed = runner.invoke(app, ["scenario", "list"])
    assert listed.exit_code == 0 and "iraq-syria" in listed.output
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and re.match(r"limes \d+\.\d+", version.output)
    helped = runner.invoke(app, ["scenario", "export", "--help"])
    assert helped.exit_code == 0 and "--format" in helped.output and "GeoPackage" in helped.output


def test_the_installed_command_exits_2_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(example_yaml().replace("kind: day_camera", "kind: periscope"))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from limes.cli import main; main()",
            "scenario",
            "validate",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "sensor_models[0].kind: Input should be 'day_camera'" in proc.stderr

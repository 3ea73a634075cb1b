"""`limes track`: a file of detections in, a file of track states out, clean errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from limes.cli import app
from limes.ops.tracker.synthetic import SyntheticScenario, SyntheticSensor, generate

runner = CliRunner()


def _write_detections(path: Path) -> int:
    sensor = SyntheticSensor(sensor_id="s1", position_sd_m=5.0, p_detect=1.0, clutter_per_scan=0.0)
    run = generate(
        SyntheticScenario(n_walkers=2, n_vehicles=1, duration_s=30.0, sensors=(sensor,)), seed=3
    )
    lines = [
        json.dumps(
            {
                "time": d.time.isoformat(),
                "sensor_id": d.sensor_id,
                "seq": d.seq,
                "x": d.x,
                "y": d.y,
                "var_xx": d.var_xx,
                "var_xy": d.var_xy,
                "var_yy": d.var_yy,
                "target_class": d.target_class.value,
            }
        )
        for scan in run.scans()
        for d in scan
    ]
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def test_track_turns_three_clean_targets_into_three_confirmed_tracks(tmp_path: Path) -> None:
    src, dst = tmp_path / "det.jsonl", tmp_path / "tracks.jsonl"
    n = _write_detections(src)
    result = runner.invoke(app, ["track", str(src), "--out", str(dst)])
    assert result.exit_code == 0, result.output
    assert f"{n} detections" in result.output
    states = [json.loads(line) for line in dst.read_text().splitlines()]
    confirmed = {s["track_id"] for s in states if s["status"] == "confirmed"}
    assert len(confirmed) == 3


def test_track_names_the_line_and_field_of_bad_input(tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text(
        '{"time": "2024-03-01T02:00:01Z", "x": "ten", "y": 0, "sd_m": 5}\n'
        '{"time": "2024-03-01T02:00:02Z", "x": 1, "y": 0, "sd_m": 5}\n'
    )
    result = runner.invoke(app, ["track", str(src), "--out", str(tmp_path / "o.jsonl")])
    # The bad record is skipped with its place and field; the good one is tracked.
    assert result.exit_code == 0
    assert "bad.jsonl:1" in result.output and "'x'" in result.output
    assert "1 detections" in result.output
    assert "Traceback" not in result.output


def test_track_refuses_a_bad_settings_file_naming_the_key(tmp_path: Path) -> None:
    src = tmp_path / "d.jsonl"
    src.write_text('{"time": "2024-03-01T02:00:01Z", "x": 1, "y": 0, "sd_m": 5}\n')
    settings = tmp_path / "s.yaml"
    settings.write_text("default_sensor: {p_detect: 2}\n")
    result = runner.invoke(
        app, ["track", str(src), "-o", str(tmp_path / "o"), "--settings", str(settings)]
    )
    assert result.exit_code == 2
    assert "default_sensor" in result.output and "p_detect" in result.output

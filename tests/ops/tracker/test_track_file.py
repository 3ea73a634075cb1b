"""Offline tracking of a JSON-lines file: formats, frames, and errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from limes.ops.track_file import track_file
from limes.ops.tracker import TrackerConfig
from limes.ops.tracker.synthetic import SyntheticRun, SyntheticScenario, SyntheticSensor, generate

SCENARIO = SyntheticScenario(
    n_walkers=2,
    n_vehicles=2,
    duration_s=20,
    sensors=(SyntheticSensor("radar", clutter_per_scan=0.0, p_detect=1.0),),
)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _rows(kind: str) -> tuple[list[dict], SyntheticRun]:
    run = generate(SCENARIO, 3)
    rows = []
    for d in run.detections:
        row: dict = {"time": d.time.isoformat(), "sensor_id": d.sensor_id, "seq": d.seq}
        row |= {"x": d.x, "y": d.y} if kind == "xy" else {"lon": d.lon, "lat": d.lat}
        row |= {"sd_m": 5.0, "target_class": d.target_class.value, "confidence": d.confidence}
        rows.append(row)
    return rows, run


def _final_positions(out: Path) -> np.ndarray:
    last: dict[str, dict] = {}
    for line in out.read_text().splitlines():
        state = json.loads(line)
        last[state["track_id"]] = state
    alive = [s for s in last.values() if s["status"] == "confirmed"]
    return np.array(sorted((s["x"], s["y"]) for s in alive))


def test_xy_and_lonlat_inputs_give_the_same_tracks(tmp_path: Path) -> None:
    rows_xy, run = _rows("xy")
    rows_ll, _ = _rows("lonlat")
    config = TrackerConfig(reorder_window_s=1.0)
    frame = run.frame.crs.to_wkt()
    a = track_file(
        _write(tmp_path / "xy.jsonl", rows_xy), tmp_path / "a.jsonl", config, frame=frame
    )
    b = track_file(
        _write(tmp_path / "ll.jsonl", rows_ll), tmp_path / "b.jsonl", config, frame=frame
    )
    assert a.detections == b.detections == len(run.detections)
    assert a.tracks == b.tracks == 4
    np.testing.assert_allclose(
        _final_positions(tmp_path / "a.jsonl"), _final_positions(tmp_path / "b.jsonl"), atol=1e-3
    )
    # Tracks end within a few metres of the truth.
    truth = np.array(sorted(map(tuple, run.truth[-1, :, :2])))
    assert np.abs(_final_positions(tmp_path / "a.jsonl") - truth).max() < 15.0


def test_the_doors_json_reads_as_the_file_format_does(tmp_path: Path) -> None:
    """Door names (`position_sd_m`, `class`), batches of them and the simulator's record of
    a message sent give the same tracks as the file's own format."""
    rows, run = _rows("lonlat")
    frame = run.frame.crs.to_wkt()
    door = [{**{k: v for k, v in r.items() if k not in ("sd_m", "target_class")},
             "position_sd_m": r["sd_m"], "class": r["target_class"]} for r in rows]  # fmt: skip
    batches = [{"detections": door[i : i + 3]} for i in range(0, len(door), 3)]
    recorded = [{"send_s": 0.0, "actor_id": None, "message": m} for m in door]
    plain = track_file(_write(tmp_path / "p.jsonl", rows), tmp_path / "p.out", frame=frame)
    for name, lines in (("batch", batches), ("recorded", recorded)):
        got = track_file(_write(tmp_path / name, lines), tmp_path / f"{name}.out", frame=frame)
        assert got.detections == plain.detections == len(run.detections)
        assert (tmp_path / f"{name}.out").read_text() == (tmp_path / "p.out").read_text()


def test_lonlat_without_a_frame_uses_a_local_transverse_mercator(tmp_path: Path) -> None:
    rows, _ = _rows("lonlat")
    out = tmp_path / "tracks.jsonl"
    summary = track_file(_write(tmp_path / "in.jsonl", rows), out)
    assert "tmerc" in summary.frame
    states = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary.states_written == len(states)
    last = states[-1]
    assert {"lon", "lat", "covariance", "class_probabilities"} <= set(last)
    assert abs(last["lon"] - 41.0) < 0.1 and abs(last["lat"] - 34.4) < 0.1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not JSON"),
        ('{"time": "2024-03-01T02:00:00Z", "x": 1, "y": 2}', "uncertainty"),
        ('{"time": "2024-03-01T02:00:00", "x": 1, "y": 2, "sd_m": 3}', "UTC offset"),
        ('{"time": "2024-03-01T02:00:00Z", "sd_m": 3}', "position"),
        ('{"time": "2024-03-01T02:00:00Z", "x": "a", "y": 2, "sd_m": 3}', "'x'"),
        ('{"time": "2024-03-01T02:00:00Z", "x": 1, "y": 2, "sd_m": 3, "target_class": "tank"}',
         "target_class"),
    ],
)  # fmt: skip
def test_bad_lines_are_named_with_file_line_and_field(
    tmp_path: Path, line: str, message: str
) -> None:
    good = '{"time": "2024-03-01T02:00:00Z", "x": 0, "y": 0, "sd_m": 3}'
    source = tmp_path / "bad.jsonl"
    source.write_text(good + "\n" + line + "\n" + good.replace("00Z", "01Z") + "\n", "utf-8")
    summary = track_file(source, tmp_path / "out.jsonl")
    # Only the bad line is left out, named by file:line with its reason; the others are kept.
    assert [s.where for s in summary.skipped] == [f"{source}:2"]
    assert message in summary.skipped[0].reason
    assert summary.detections == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sd_m": 0}, "sd_m must be positive"),
        ({"sd_m": -3}, "sd_m must be positive"),
        ({"sd_m": float("nan")}, "finite number"),
        ({"x": 1e300}, "beyond"),
        ({"x": float("nan")}, "finite number"),
        ({"var_xx": 4, "var_yy": -1}, "positive-definite"),
        ({"seq": 1}, "duplicate"),
    ],
)  # fmt: skip
def test_each_bad_detection_is_rejected_alone_with_its_reason(
    tmp_path: Path, fields: dict[str, float], message: str
) -> None:
    base = {"time": "2024-03-01T02:00:00Z", "sensor_id": "s", "x": 0, "y": 0, "sd_m": 3}
    bad = {**base, "seq": 2, "time": "2024-03-01T02:00:01Z", **fields}
    if "var_xx" in fields:
        del bad["sd_m"]
    rows = [{**base, "seq": 1}, bad, {**base, "seq": 3, "time": "2024-03-01T02:00:02Z"}]
    source = tmp_path / "in.jsonl"
    # json.dumps writes NaN as the bare token NaN, as a careless producer would.
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    summary = track_file(source, tmp_path / "out.jsonl")
    assert [s.where for s in summary.skipped] == [f"{source}:2"]
    assert message in summary.skipped[0].reason
    assert summary.detections == 2
    assert summary.rejection_counts() == {summary.skipped[0].reason.split(":")[0]: 1}

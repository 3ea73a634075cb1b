"""`limes simulate`: the same seed sends the same bytes through the CLI; bad arguments are clean
errors (exit 2, one message naming the option, no traceback)."""

from __future__ import annotations

import importlib.util
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from limes.cli import app

runner = CliRunner()


def _small_data() -> dict[str, Any]:
    # The exercise tests' small border (tests/sim/sim_fixtures.py), loaded by path so this file
    # runs on its own as well as in the whole suite.
    path = Path(__file__).parent / "sim" / "sim_fixtures.py"
    spec = importlib.util.spec_from_file_location("cli_simulate_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data: dict[str, Any] = module.small_data()
    return data


@pytest.fixture(scope="module")
def border(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("border") / "border.yaml"
    path.write_text(yaml.safe_dump(_small_data()))
    return path


def _simulate(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["simulate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_the_same_seed_writes_the_same_detections_and_truth(border: Path, tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        code, output = _simulate(
            str(border), "--hours", "2", "--seed", seed, "--actors-per-day", "120",
            "--out", str(tmp_path / name),
        )  # fmt: skip
        assert code == 0, output
        runs[name] = {f: (tmp_path / name / f).read_bytes() for f in
                      ("detections.jsonl", "truth.jsonl", "scorecard.json")}  # fmt: skip
    assert runs["a"]["detections.jsonl"] == runs["b"]["detections.jsonl"]
    assert runs["a"]["truth.jsonl"] == runs["b"]["truth.jsonl"]
    assert runs["a"]["scorecard.json"] == runs["b"]["scorecard.json"]
    # Another seed is another exercise (so the comparison above can fail).
    assert runs["a"]["detections.jsonl"] != runs["c"]["detections.jsonl"]
    lines = runs["a"]["detections.jsonl"].splitlines()
    assert lines and all(json.loads(line)["message"]["sensor_id"] in ("T1", "T2") for line in lines)


def test_in_process_runs_are_deterministic_and_score_the_pipeline_alerts(
    border: Path, tmp_path: Path
) -> None:
    cards = []
    for name in ("a", "b"):
        code, output = _simulate(
            str(border), "--hours", "2", "--seed", "7", "--actors-per-day", "200",
            "--in-process", "--out", str(tmp_path / name),
        )  # fmt: skip
        assert code == 0, output
        assert "alerts:" in output
        cards.append(json.loads((tmp_path / name / "scorecard.json").read_text()))
    assert cards[0] == cards[1]
    # In process the pipeline's alerts are known: counted, and matched to crossing groups.
    assert cards[0]["alerts"] is not None and cards[0]["alerts"] > 0
    assert cards[0]["totals"]["alerted"] > 0
    assert cards[0]["totals"]["alerted"] <= cards[0]["totals"]["detected"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--hours", "-1"], "hours"),
        (["--hours", "1", "--seed", "-3"], "seed"),
        (["--hours", "1", "--speed", "5000", "--in-process"], "speed"),
        (["--hours", "1", "--mqtt", "127.0.0.1:1883", "--cot", "127.0.0.1:1"], "--mqtt and --cot"),
        (["--hours", "1", "--in-process", "--target", "http://127.0.0.1:1"], "--target"),
        (["--hours", "1", "--token", "x"], "--token goes with --target"),
        (["--hours", "1", "--udp"], "--udp"),
        (["--hours", "1", "--target", "http://127.0.0.1:1", "--speed", "60"], "token"),
        (["--hours", "1", "--mqtt", "127.0.0.1:1883"], "needs a speed"),
        (["--hours", "1", "--mqtt", "no-port-here:x", "--speed", "60"], "--mqtt"),
        (["--hours", "1", "--start", "yesterday"], "--start"),
        (["--hours", "1", "--start", "2025-03-01T18:00"], "timezone"),
        (["--hours", "1", "--assessment", "/nonexistent/summary.json"], "summary.json"),
        (["--hours", "1", "--dispatch", "radio"], "--dispatch is alerts, referee or api"),
        (["--hours", "1", "--dispatch", "api"], "--dispatch-token"),
        (["--hours", "1", "--patrols"], "--patrols needs --assessment"),
    ],
)
def test_bad_arguments_are_one_clean_message(
    border: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    code, output = _simulate(str(border), *args, "--out", str(tmp_path / "x"))
    assert code == 2, output
    assert says in output
    assert "Traceback" not in output


def test_an_unreachable_broker_is_a_clean_error(border: Path, tmp_path: Path) -> None:
    port = _closed_port()
    code, output = _simulate(
        str(border), "--hours", "0.5", "--speed", "600", "--mqtt", f"127.0.0.1:{port}",
        "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert code == 2, output
    assert f"127.0.0.1:{port}" in output and "Traceback" not in output


def test_an_unknown_scenario_is_a_clean_error(tmp_path: Path) -> None:
    code, output = _simulate("atlantis", "--hours", "1", "--out", str(tmp_path / "x"))
    assert code == 2
    assert "atlantis" in output and "Traceback" not in output


def test_an_assessment_of_another_scenario_is_refused(border: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"scenario": "iraq-syria", "runs": []}))
    code, output = _simulate(str(border), "--hours", "1", "--assessment", str(summary),
                             "--out", str(tmp_path / "x"))  # fmt: skip
    assert code == 2
    assert "iraq-syria" in output and "Traceback" not in output


def test_an_assessment_from_limes_assess_steers_informed_groups_and_shows_its_p(
    border: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan"
    done = runner.invoke(app, ["assess", str(border), "--mode", "all", "--light", "night",
                               "--resolution", "100", "--out", str(plan)])  # fmt: skip
    assert done.exit_code == 0, done.output
    code, output = _simulate(
        str(border), "--hours", "2", "--seed", "4", "--actors-per-day", "150",
        "--assessment", str(plan / "summary.json"), "--in-process", "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert code == 0, output
    card = json.loads((tmp_path / "x" / "scorecard.json").read_text())
    summary = json.loads((plan / "summary.json").read_text())
    p_of = {(r["mode"], r["light"], int(k["chainage_km"])): k["p_interruption"]
            for r in summary["runs"] for k in r["per_km"]}  # fmt: skip
    assert card["plan"] is True
    shown = [c for c in card["crossings"] if c["plan_p"] is not None]
    assert shown
    for c in shown:  # each crossing carries its km's P from summary.json
        assert c["plan_p"] == pytest.approx(p_of[(c["mode"], c["light"], c["plan_km"])], abs=1e-4)
        # The km it crossed, or for a group on a kept path, that path's km.
        assert c["plan_km"] == c["chainage_km"] or c["route"] == "plan"
    # Informed groups walk the plan's kept paths (geometry from worst_paths.geojson).
    truth = [json.loads(line) for line in (tmp_path / "x" / "truth.jsonl").open()]
    routes = [t["route"] for t in truth if t["kind"] == "crossing"]
    assert "plan" in routes


def test_patrols_play_the_days_schedule_and_the_scorecard_counts_their_catches(
    border: Path, tmp_path: Path
) -> None:
    # A plan whose west km 0–4 are open (P 0) and the rest held: the one weak stretch; the
    # border's scenario keeps the default patrols (catch 0.6, night and day windows).
    per_km = [{"chainage_km": float(k), "p_interruption": 0.0 if k < 4 else 0.9}
              for k in range(11)]  # fmt: skip
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(
        {"scenario": "sim-small", "runs": [{"mode": "foot", "light": "night", "per_km": per_km}]}
    ))  # fmt: skip
    code, output = _simulate(
        str(border), "--hours", "48", "--seed", "2", "--actors-per-day", "80", "--patrols",
        "--assessment", str(summary), "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert code == 0, output
    card = json.loads((tmp_path / "x" / "scorecard.json").read_text())
    patrols = card["patrols"]
    assert patrols["catch_p"] == 0.6 and patrols["stretches"] == [[0.0, 4.0]]
    assert patrols["crossings_patrolled"] > 0
    marked = [c for c in card["crossings"] if c["patrol"] is not None]
    assert len(marked) == patrols["crossings_patrolled"]
    assert all(c["chainage_km"] < 4 for c in marked)
    caught = [c for c in marked if c["patrol"] == "caught"]
    assert len(caught) == patrols["caught"] == card["totals"]["patrol_caught"]
    assert all(c["outcome"] == "interrupted" for c in caught)
    assert f"{patrols['caught']} caught" in output


def test_paced_poster_merges_batches_within_its_interval_and_passes_on_every_report() -> None:
    from limes.exercise.paced_poster import PacedPoster
    from limes.sim.senders import MemorySender

    inner = MemorySender()
    poster = PacedPoster(inner, every_s=0.2)
    poster.open()
    items = list(range(50))
    for i in items:  # 50 batches in about 0.1 s: at most two posts (one now, one held)
        poster.send([i])  # type: ignore[list-item]
    poster.close()
    assert [e for b in inner.batches for e in b] == items
    assert len(inner.batches) <= 2


def test_limes_track_reads_what_limes_simulate_writes(border: Path, tmp_path: Path) -> None:
    code, output = _simulate(
        str(border), "--hours", "2", "--seed", "5", "--actors-per-day", "120",
        "--out", str(tmp_path / "ex"),
    )  # fmt: skip
    assert code == 0, output
    sent = [json.loads(line)["message"] for line in
            (tmp_path / "ex" / "detections.jsonl").read_text().splitlines()]  # fmt: skip
    assert sent
    tracked = runner.invoke(
        app, ["track", str(tmp_path / "ex" / "detections.jsonl"), "--out", str(tmp_path / "t")]
    )
    assert tracked.exit_code == 0, tracked.output
    assert f"{len(sent)} detections" in tracked.output
    states = [json.loads(line) for line in (tmp_path / "t").read_text().splitlines()]
    # Tracks made of what the towers sent: every state's last detection is a sent report.
    keys = {(m["sensor_id"], m["seq"]) for m in sent}
    assert states and all(tuple(s["last_detection"]) in keys for s in states)
    assert any(s["status"] == "confirmed" for s in states)


def test_calibrate_sets_each_sector_of_the_plan_against_plan_following_groups(
    border: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan"
    done = runner.invoke(app, ["assess", str(border), "--mode", "foot", "--light", "night",
                               "--resolution", "100", "--out", str(plan)])  # fmt: skip
    assert done.exit_code == 0, done.output
    code, output = _simulate(str(border), "--calibrate", "30", "--assessment", str(plan),
                             "--hours", "48", "--out", str(tmp_path / "c"))  # fmt: skip
    assert code == 0, output
    assert "plan inside the exercise's 95 % interval in" in output
    got = json.loads((tmp_path / "c" / "calibration.json").read_text())
    summary = json.loads((plan / "summary.json").read_text())
    assert got["resolution_m"] == 100.0
    assert [(r["mode"], r["light"]) for r in got["runs"]] == [("foot", "night")]
    sectors = got["runs"][0]["sectors"]
    assert [(s["sector"], s["n"]) for s in sectors] == [("west", 30), ("east", 30)]
    for s in sectors:  # 30 groups spread evenly over 5 and 6 km: the mean of the km's P
        mine = [k["p_interruption"] for k in summary["runs"][0]["per_km"]
                if k["sector"] == s["sector"]]  # fmt: skip
        assert s["plan_p"] == pytest.approx(sum(mine) / len(mine), abs=1e-4)
        assert s["low"] <= s["observed"] <= s["high"]
        assert s["inside"] == (s["low"] <= s["plan_p"] <= s["high"])


def test_calibrate_refuses_an_assessment_the_scenario_no_longer_gives(
    border: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan"
    done = runner.invoke(app, ["assess", str(border), "--mode", "foot", "--light", "night",
                               "--resolution", "200", "--out", str(plan)])  # fmt: skip
    assert done.exit_code == 0, done.output
    doc = json.loads((plan / "summary.json").read_text())
    km = doc["runs"][0]["per_km"][4]
    km["p_interruption"] = 0.5 if km["p_interruption"] != 0.5 else 0.25
    (plan / "summary.json").write_text(json.dumps(doc))
    code, output = _simulate(str(border), "--calibrate", "10", "--assessment", str(plan),
                             "--out", str(tmp_path / "c"))  # fmt: skip
    assert code == 2, output
    assert "km 4" in output and "assess it again" in output and "Traceback" not in output


@pytest.mark.parametrize("extra", [["--in-process"], ["--patrols"], ["--dispatch", "alerts"],
                                   ["--actors-per-day", "5"]])  # fmt: skip
def test_calibrate_runs_no_live_exercise(border: Path, tmp_path: Path, extra: list[str]) -> None:
    code, output = _simulate(str(border), "--calibrate", "10", *extra,
                             "--out", str(tmp_path / "c"))  # fmt: skip
    assert code == 2, output
    assert "--calibrate runs no live exercise" in output and extra[0] in output

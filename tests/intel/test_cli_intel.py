"""`limes intel ingest PATH --out DIR`: the reports.jsonl contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from limes.cli import app

CORPUS = Path(__file__).parent / "corpus"
CONTRACT = {
    "id",
    "source",
    "published",
    "text_span",
    "event_type",
    "actors",
    "places",
    "quantities",
    "reliability",
    "credibility",
    "removed_lines",
}


def test_ingest_writes_one_contract_report_a_line(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("d01-wire-qaim.txt", "d05-kfn-closure.html", "d09-coalition-summary.eml"):
        shutil.copy(CORPUS / "dev" / name, src / name)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["intel", "ingest", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = (out / "reports.jsonl").read_text().splitlines()
    assert lines
    docs = {d["id"]: d for d in map(json.loads, (out / "documents.jsonl").read_text().splitlines())}
    for line in lines:
        r = json.loads(line)
        assert set(r) >= CONTRACT
        assert r["reliability"] in "ABCDEF" and 1 <= r["credibility"] <= 6
        start, end = r["text_span"]
        assert docs[r["document"]]["body"][start:end] == r["text"]
        assert r["removed_lines"] == len(docs[r["document"]]["removed"])
        for p in r["places"]:
            assert {"name", "lon", "lat", "sector", "chainage_km"} <= set(p)
            s0, s1 = p["span"]
            assert docs[r["document"]]["body"][s0:s1] == p["text"]


def test_a_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["intel", "ingest", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_an_unreadable_file_is_set_aside_and_the_rest_read(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(CORPUS / "dev" / "d01-wire-qaim.txt", src / "good.txt")
    (src / "empty.html").write_text("")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["intel", "ingest", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "empty.html: the HTML file is empty" in result.output
    rejected = [json.loads(x) for x in (out / "rejected.jsonl").read_text().splitlines()]
    assert [Path(r["path"]).name for r in rejected] == ["empty.html"]
    assert {
        json.loads(x)["document"] for x in (out / "reports.jsonl").read_text().splitlines()
    } == {"good"}

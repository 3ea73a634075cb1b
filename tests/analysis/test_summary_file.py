"""summary.json: one format (a JSON Schema in docs/schemas), one writer tested against it, one
reader (`limes.analysis.load_assessment`) that every consumer goes through."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from assess_fixtures import make_assessment, make_scenario

from limes.analysis import load_assessment
from limes.analysis.outputs import write_outputs
from limes.analysis.result import Assessment
from limes.analysis.summary_file import AssessmentFileError, json_schema
from limes.exercise.plan_file import plan_from_summary
from limes.ops.plan_lookup import PlanLookup
from limes.scenario.model import Scenario
from limes.web.assessments import AssessmentError, AssessmentStore

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "assessment-summary.schema.json"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario()


@pytest.fixture(scope="module")
def assessment(scenario: Scenario) -> Assessment:
    return make_assessment(scenario)


@pytest.fixture(scope="module")
def folder(
    assessment: Assessment, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("assessment")
    write_outputs(assessment, scenario, out)
    return out


def test_the_documented_schema_is_the_readers_own() -> None:
    documented = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert documented == json_schema(), (
        "docs/schemas/assessment-summary.schema.json differs from the reader's models: "
        "regenerate it with `python -m limes.analysis.summary_file`"
    )


def test_what_the_writer_writes_is_valid_against_the_schema(folder: Path) -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))
    doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []


@pytest.mark.parametrize(
    ("break_it", "field"),
    [
        (lambda d: d.pop("runs"), "runs"),
        (lambda d: d["runs"][0]["per_km"][0].update(p_interruption=1.5), "p_interruption"),
        (lambda d: d["runs"][0]["per_km"][0].pop("chainage_km"), "chainage_km"),
        (lambda d: d["runs"][0].update(per_km=[]), "per_km"),
    ],
)
def test_the_schema_refuses_what_the_reader_refuses(
    folder: Path, tmp_path: Path, break_it: Any, field: str
) -> None:
    doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    break_it(doc)
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert not validator.is_valid(doc)
    (tmp_path / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(AssessmentFileError, match=field) as caught:
        load_assessment(tmp_path)
    assert "summary.json" in str(caught.value)


def test_the_reader_gives_back_every_km_the_writer_wrote(
    folder: Path, assessment: Assessment
) -> None:
    summary = load_assessment(folder / "summary.json")
    assert [(r.mode, r.light) for r in summary.runs] == [
        (r.mode.value, r.light.value) for r in assessment.runs
    ]
    for read, run in zip(summary.runs, assessment.runs, strict=True):
        assert len(read.per_km) == len(run.per_km)
        for k, km in zip(read.per_km, run.per_km, strict=True):
            assert k.chainage_km == km.chainage_km
            if math.isfinite(km.p_interruption):
                assert k.p_interruption == pytest.approx(km.p_interruption)
            else:
                assert k.p_interruption is None


def test_every_consumer_reads_through_the_one_reader(
    folder: Path, scenario: Scenario, tmp_path: Path
) -> None:
    # The same good file serves the live plan, the exercise's plan and the map.
    assert PlanLookup.load(folder).p_by_mode
    assert plan_from_summary(folder, scenario).runs
    store = AssessmentStore(scenario, {"a": folder})
    assert store.listing()[0]["runs"]
    # The same bad file is refused by each, with the reader's words.
    (tmp_path / "summary.json").write_text(json.dumps({"scenario": scenario.name, "runs": []}))
    with pytest.raises(AssessmentFileError, match="runs"):
        PlanLookup.load(tmp_path)
    with pytest.raises(AssessmentFileError, match="runs"):
        plan_from_summary(tmp_path, scenario)
    with pytest.raises(AssessmentError, match="runs"):
        AssessmentStore(scenario, {"b": tmp_path}).listing()

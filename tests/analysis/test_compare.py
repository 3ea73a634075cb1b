"""Comparing two assessments: the change shows exactly where the defences changed."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from assess_fixtures import make_assessment, make_scenario, with_km_changed
from hypothesis import given, settings
from hypothesis import strategies as st

from limes.analysis.compare import compare, write_comparison
from limes.analysis.result import Assessment
from limes.scenario.model import Scenario


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario()


@pytest.fixture(scope="module")
def base(scenario: Scenario) -> Assessment:
    return make_assessment(scenario)


def test_one_improved_km_is_exactly_the_difference(base: Assessment) -> None:
    # km 5 of foot/night goes from 0.12 to 0.70: the only change anywhere.
    other = with_km_changed(base, 0, 5, 0.70)
    comp = compare(base, other)
    foot, vehicle = comp.runs
    assert [(c.chainage_km, c.p_base, c.p_other) for c in foot.changed] == [(5.0, 0.12, 0.70)]
    assert foot.most_improved is not None and foot.most_improved.chainage_km == 5.0
    assert foot.most_improved.delta == pytest.approx(0.58)
    assert foot.most_improved.sector == base.runs[0].per_km[5].sector
    assert foot.worsened == []
    assert vehicle.changed == [] and vehicle.most_improved is None
    deltas = np.array([c.delta for c in foot.per_km])
    assert np.count_nonzero(deltas) == 1
    # The sector holding km 5 gains 0.58 / (its km); the others nothing.
    for s in foot.sectors:
        if s.sector == foot.most_improved.sector:
            assert s.mean_delta == pytest.approx(0.58 / s.km)
            assert (s.km_improved, s.km_below_base - s.km_below_other) == (1, 1)
            assert s.best == foot.most_improved
        else:
            assert s.mean_delta == 0 and s.km_improved == 0 and s.best is None
    assert comp.notes == []


def test_a_worse_km_is_reported_as_worse(base: Assessment) -> None:
    other = with_km_changed(base, 1, 2, 0.10)
    vehicle = compare(base, other).runs[1]
    assert [c.chainage_km for c in vehicle.worsened] == [2.0]
    assert vehicle.improved == []


def test_comparing_an_assessment_with_itself_changes_nothing(base: Assessment) -> None:
    comp = compare(base, base)
    for rc in comp.runs:
        assert rc.changed == [] and rc.mean_base == rc.mean_other
        assert len(rc.per_km) == len(base.runs[0].per_km)


def test_runs_are_matched_by_mode_and_light(base: Assessment) -> None:
    # The other assessment holds only foot/night, listed in a different position.
    other = replace(base, runs=[base.runs[0]])
    comp = compare(base, other)
    assert [(r.mode.value, r.light.value) for r in comp.runs] == [("foot", "night")]
    assert comp.unmatched_runs == ["vehicle-day (base only)"]
    assert any("only one assessment" in n for n in comp.notes)


def test_lines_of_different_length_are_matched_by_chainage(scenario: Scenario) -> None:
    base = make_assessment(scenario)
    longer_sc = make_scenario(
        [(41.20, 35.00), (41.215, 35.06), (41.21, 35.12), (41.20, 35.16)], name="longer"
    )
    longer = make_assessment(longer_sc)
    comp = compare(base, longer)
    foot = comp.runs[0]
    n_base, n_long = len(base.runs[0].per_km), len(longer.runs[0].per_km)
    assert n_long > n_base
    assert len(foot.per_km) == n_base
    assert foot.only_other_km == [float(k) for k in range(n_base, n_long)]
    assert foot.only_base_km == []
    assert any("matched by chainage" in n and "longer" in n for n in comp.notes)
    # Sectors are cut differently on the longer line: the comparison says whose it uses.
    assert any("sectors differ" in n for n in comp.notes)


def test_different_resolutions_are_flagged(base: Assessment) -> None:
    comp = compare(base, replace(base, resolution_m=100.0))
    assert any("different resolutions" in n for n in comp.notes)


def test_comparison_json_holds_both_p_and_the_change(base: Assessment, tmp_path: Path) -> None:
    other = with_km_changed(base, 0, 9, 0.55)
    path = write_comparison(compare(base, other), tmp_path / "comparison.json")
    doc = json.loads(path.read_text(), parse_constant=lambda t: pytest.fail(f"JSON holds {t}"))
    assert (doc["base"], doc["other"]) == ("testline", "testline")
    foot = doc["runs"][0]
    assert (foot["mode"], foot["light"]) == ("foot", "night")
    assert foot["km_improved"] == 1 and foot["km_worse"] == 0
    assert foot["most_improved"]["chainage_km"] == 9.0
    assert foot["most_improved"]["delta"] == pytest.approx(0.50)
    assert foot["km_below_base"] - foot["km_below_other"] == 1
    rows = {r["chainage_km"]: r for r in foot["per_km"]}
    assert rows[9.0]["p_base"] == 0.05 and rows[9.0]["p_other"] == 0.55
    assert all(r["delta"] == 0 for k, r in rows.items() if k != 9.0)
    assert {s["sector"] for s in foot["sectors"]} == {"S1", "S2", "S3"}
    assert doc["runs"][1]["most_improved"] is None


@functools.cache
def shared_assessment() -> Assessment:
    """One assessment for every hypothesis example (fixtures are per test, not per example)."""
    return make_assessment(make_scenario())


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.integers(0, 13), st.floats(0, 1), max_size=6))
def test_the_changed_km_are_the_edited_km(edits: dict[int, float]) -> None:
    base = shared_assessment()
    other = base
    for km, p in edits.items():
        other = with_km_changed(other, 0, km, p)
    foot = compare(base, other).runs[0]
    original = {k: base.runs[0].per_km[k].p_interruption for k in edits}
    expected = sorted(float(k) for k, p in edits.items() if p != original[k])
    assert [c.chainage_km for c in foot.changed] == expected
    total = sum(c.delta for c in foot.per_km)
    assert total == pytest.approx(sum(p - original[k] for k, p in edits.items()))

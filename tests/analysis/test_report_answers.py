"""The report answers: weak stretches ranked by cost, why, where; the critical point as defined;
what a comparison's inputs changed and why a change bought nothing."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from assess_fixtures import make_assessment, make_scenario, scenario_data
from test_report import Page

from limes.analysis.change_effects import changes_between
from limes.analysis.compare import compare, write_comparison
from limes.analysis.easi import Easi
from limes.analysis.outputs import path_record, summary, weakest_km, worst_paths_geojson
from limes.analysis.places import mgrs_ref
from limes.analysis.report import render_report
from limes.analysis.result import Assessment, KmResult, Weakness
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario


def _with_p(a: Assessment, p: list[float], margins: list[float] | None = None) -> Assessment:
    """The fixture's foot · night run with every km's P (and optionally time margin) replaced."""
    run = a.runs[0]
    per_km = []
    for k, km in enumerate(run.per_km):
        pk = p[k] if k < len(p) else 0.9
        reason = Weakness.NOT_SEEN if pk < 0.1 else (Weakness.HELD if pk >= 0.8 else km.reason)
        resp = 900.0 if margins is None else km.crossing_time_s - margins[k]  # type: ignore[operator]
        per_km.append(replace(km, p_interruption=pk, reason=reason, response_time_s=resp))
    return replace(a, runs=[replace(run, per_km=per_km), *a.runs[1:]])


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario()


def test_ties_at_p_zero_never_decide_the_headline(scenario: Scenario, tmp_path: Path) -> None:
    # km 0–1 at P = 0 (2 km), km 5–8 at P = 0 (4 km): the longer gap costs more and leads,
    # though km 0 comes first along the line.
    n = math.ceil(scenario.length_km)
    p = [0.0, 0.0, 0.9, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0] + [0.9] * (n - 9)
    a = _with_p(make_assessment(scenario), p)
    s = summary(a, scenario)
    first, second = s["runs"][0]["weak_stretches"][:2]
    assert (first["from_km"], first["to_km"], first["cost_km"]) == (5.0, 9.0, 4.0)
    assert (second["from_km"], second["to_km"], second["cost_km"]) == (0.0, 2.0, 2.0)
    html = render_report(a, scenario, tmp_path / "r.html").read_text()
    assert "weakest stretch: km 5–9" in " ".join(html.split())


def test_equal_p_km_are_ordered_by_the_adversarys_time_margin(scenario: Scenario) -> None:
    n = math.ceil(scenario.length_km)
    p = [0.0] * n
    margins = [600.0] * n
    margins[7] = -1200.0  # through 20 min before any unit could arrive: the weakest
    margins[3] = -300.0
    a = _with_p(make_assessment(scenario), p, margins)
    order = [k.chainage_km for k in weakest_km(a.runs[0], 3)]
    assert order == [7.0, 3.0, 0.0]


def test_the_stretch_table_is_summary_jsons_stretches(scenario: Scenario, tmp_path: Path) -> None:
    a = make_assessment(scenario)
    s = summary(a, scenario)
    page = Page(render_report(a, scenario, tmp_path / "r.html").read_text())
    for run, table in zip(s["runs"], page.tables["stretches"], strict=True):
        assert len(table) == len(run["weak_stretches"])
        for row, st in zip(table, run["weak_stretches"], strict=True):
            assert row[0] == str(st["rank"])
            assert row[1] == f"{st['from_km']:,.0f}–{st['to_km']:,.0f}"
            assert row[3] == f"{st['cost_km']:,.1f}"
            assert row[4] == f"{st['min_p']:.2f}" and row[5] == f"{st['mean_p']:.2f}"
            assert st["middle_mgrs"] in row[8]
            assert st["why"] == row[9]
        costs = [st["cost_km"] for st in run["weak_stretches"]]
        assert costs == sorted(costs, reverse=True)
        for st in run["weak_stretches"]:
            # cost = length × (1 − mean P), the mean over the stretch's own km
            km = [k for k in run["per_km"] if st["from_km"] <= k["chainage_km"] < st["to_km"]]
            mean = np.mean([k["p_interruption"] for k in km])
            assert st["cost_km"] == pytest.approx((st["to_km"] - st["from_km"]) * (1 - mean))
            assert sum(st["reasons"].values()) == len(km)


def test_why_names_the_reasons_and_the_barrier_standing_there(scenario: Scenario) -> None:
    s = summary(make_assessment(scenario), scenario)
    foot = s["runs"][0]["weak_stretches"]
    # km 4–7 lies in berm-1 (under construction 40 %: from 40 % to 52 % of the line stands).
    (st,) = [x for x in foot if x["from_km"] == 4.0]
    assert "seen too late on 2 km" in st["why"] and "response too slow" in st["why"]
    assert "berm-1 (under construction 40 %)" in st["why"]


def test_grid_references_are_the_stretch_middle_in_mgrs(scenario: Scenario) -> None:
    s = summary(make_assessment(scenario), scenario)
    st = s["runs"][0]["weak_stretches"][0]
    lon, lat = st["middle_lonlat"]
    x, y = scenario.border.point_at(0.5 * (st["from_km"] + st["to_km"]) * 1000.0)
    lon2, lat2 = scenario.frame.to_lonlat(x, y)
    assert (lon, lat) == pytest.approx((float(lon2), float(lat2)))
    assert st["middle_mgrs"] == mgrs_ref(lon, lat)
    assert st["middle_mgrs"].startswith("37S")  # 41.2° E, 35° N: UTM zone 37, band S


# --- the critical detection point ---------------------------------------------------------------


def test_the_critical_point_is_the_last_step_still_more_likely_timely_than_not() -> None:
    p_timely = np.array([0.95, 0.8, 0.62, 0.49, 0.7, 0.3, 0.1])
    e = Easi(0.4, p_timely, np.zeros(7), np.zeros(7), np.zeros(7), np.zeros(7))
    # Garcia: after step 4 (0.7) no detection is more likely timely than not.
    assert e.critical_index == 4
    never = Easi(0.0, p_timely * 0.5, np.zeros(7), np.zeros(7), np.zeros(7), np.zeros(7))
    assert never.critical_index == -1


def test_no_timely_response_gives_no_critical_point_anywhere(
    scenario: Scenario, tmp_path: Path
) -> None:
    a = make_assessment(scenario)
    run = a.runs[0]
    hopeless = replace(
        run.worst_paths[0], p_timely=np.full(8, 0.2), critical_index=-1, p_interruption=0.0
    )
    a = replace(a, runs=[replace(run, worst_paths=[hopeless, *run.worst_paths[1:]]), a.runs[1]])
    rec = path_record(hopeless)
    assert rec["timely_response"] is False
    assert rec["critical_index"] == -1
    assert rec["critical_lonlat"] is None and rec["critical_time_s"] is None
    feats = worst_paths_geojson(a)["features"]
    mine = [f for f in feats if f["properties"]["rank"] == 1 and f["properties"]["mode"] == "foot"]
    assert [f["properties"]["kind"] for f in mine] == ["path"]
    assert mine[0]["properties"]["timely_response"] is False
    html = render_report(a, scenario, tmp_path / "r.html").read_text()
    assert "no timely response possible" in html
    timely = path_record(run.worst_paths[1])
    assert timely["timely_response"] is True
    assert timely["critical_lonlat"] == pytest.approx(
        list(run.worst_paths[1].lonlat[run.worst_paths[1].critical_index])
    )


# --- what a comparison's inputs changed ---------------------------------------------------------


def _other(extra_sensor: dict[str, object]) -> Scenario:
    base = make_scenario()
    data = scenario_data(
        [tuple(p) for p in base.spec.border.line or []],
        [s.to_km for s in base.spec.sectors],
    )
    data["sensors"].append(extra_sensor)
    data["name"] = "whatif"
    sc = scenario_from_data(data)
    sc._terrain = base.terrain()  # type: ignore[assignment]
    return sc


def test_a_camera_facing_away_is_named_as_why_it_bought_nothing(
    scenario: Scenario, tmp_path: Path
) -> None:
    # The line runs north; our side is east. A 60° camera inside facing east looks away.
    cam = {
        "id": "T3",
        "model": "tower-cam",
        "position": {"chainage_km": 6.0, "offset_m": 500},
        "heading_deg": 90,
        "fov_deg": 60,
    }
    other_sc = _other(cam)
    a = make_assessment(scenario)
    b = replace(a, scenario="whatif")  # the analysis saw no gain
    comp = compare(a, b)
    changes = changes_between(comp, scenario, other_sc, b)
    assert [c.describe() for c in changes.inputs] == ["sensor T3 added"]
    (effect,) = changes.effects
    assert effect.km_improved == 0
    assert effect.why_nothing is not None
    assert "faces 90°" in effect.why_nothing and "away from the line" in effect.why_nothing
    out = write_comparison(comp, tmp_path / "comparison.json", changes)
    data = json.loads(out.read_text())
    assert data["input_changes"][0]["text"] == "sensor T3 added"
    assert "away from the line" in data["effects"][0]["why_nothing"]
    page = Page(render_report(a, scenario, tmp_path / "r.html", comp, changes=changes).read_text())
    (eff,) = page.tables["effects"]
    assert eff[0][0] == "sensor T3 added" and "away from the line" in eff[0][5]


def test_a_change_that_bought_something_has_no_excuse(scenario: Scenario) -> None:
    cam = {"id": "T3", "model": "tower-cam", "position": {"chainage_km": 6.0, "offset_m": 500}}
    other_sc = _other(cam)
    a = make_assessment(scenario)
    run = a.runs[0]
    better = [replace(k, p_interruption=0.9) if k.chainage_km == 5.0 else k for k in run.per_km]
    b = replace(a, scenario="whatif", runs=[replace(run, per_km=better), a.runs[1]])
    (effect,) = changes_between(compare(a, b), scenario, other_sc, b).effects
    assert effect.km_improved == 1 and effect.why_nothing is None
    assert effect.best_delta == pytest.approx(0.9 - 0.12)


def test_changed_fields_are_listed_old_to_new(scenario: Scenario) -> None:
    data = scenario_data(
        [tuple(p) for p in scenario.spec.border.line or []],
        [s.to_km for s in scenario.spec.sectors],
    )
    data["sensors"][0]["position"] = {"chainage_km": 4.0, "offset_m": 500}
    data["barriers"] = data["barriers"][:2]
    other_sc = scenario_from_data(data)
    from limes.scenario.diff import scenario_diff

    text = [c.describe() for c in scenario_diff(scenario, other_sc)]
    assert "barrier fence-1 removed" in text
    assert "sensor T1 changed: position.chainage_km 3 → 4" in text


def test_paths_that_matter_put_costly_stretches_first_then_live_paths() -> None:
    from limes.analysis.assess import paths_that_matter

    class C:
        def __init__(self, k: float, p: float, easi: float) -> None:
            self.km = KmResult(k, p, "S", Weakness.NOT_SEEN, 0.0, 0.0, easi, 100.0, 50.0)
            self.check = type("E", (), {"p_interruption": easi})()

    cands = [C(k, 0.0, 0.0) for k in range(0, 2)]  # a 2 km gap
    cands += [C(k, 0.9, 0.9) for k in range(2, 5)]
    cands += [C(k, 0.0, 0.0) for k in range(5, 10)]  # a 5 km gap: the costliest
    cands += [C(10, 0.3, 0.31), C(11, 0.6, 0.6), C(12, 0.05, 0.004)]
    chosen = paths_that_matter(cands, 4, 13.0)  # type: ignore[arg-type]
    ks = [c.km.chainage_km for c in chosen]
    # two stretch representatives (5 km gap first), then the lowest P still ≥ 0.01
    assert ks[:2] == [5.0, 0.0]
    assert ks[2:] == [10, 11]

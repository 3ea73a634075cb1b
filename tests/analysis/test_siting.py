"""Budgeted siting: the search against plain greedy and enumeration, and `limes plan`'s files."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from assess_fixtures import LINE, scenario_data
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from limes.analysis.assess import AssessConfig, assess
from limes.analysis.plan import (
    Catalogue,
    objective_value,
    per_km,
    plan,
    run_weights,
)
from limes.analysis.plan_command import write_plan
from limes.analysis.siting import exhaustive, lazy_greedy, multi_start, swap_improve
from limes.cli import app
from limes.scenario.load import load_scenario, scenario_from_data
from limes.scenario.model import Scenario

# --- the search on a weighted-coverage objective (submodular, with an exact answer) ----------


@dataclass(frozen=True)
class Cover:
    key: int
    cost: float
    km: frozenset[int]


class CoverOracle:
    def __init__(self, weights: list[float]) -> None:
        self.w = weights

    def start(self) -> frozenset[int]:
        return frozenset()

    def add(self, state: frozenset[int], cand: Cover) -> frozenset[int]:
        return state | cand.km

    def value(self, state: frozenset[int]) -> float:
        return sum(self.w[k] for k in state)


def plain_greedy(oracle: CoverOracle, cands: list[Cover], budget: float) -> list[int]:
    """The textbook greedy, re-evaluating every candidate every round (the reference)."""
    state, spent, out = oracle.start(), 0.0, []
    left = list(cands)
    while True:
        best = None
        for c in left:
            if spent + c.cost > budget + 1e-9:
                continue
            g = oracle.value(oracle.add(state, c)) - oracle.value(state)
            if g > 1e-12 and (best is None or g / c.cost > best[0]):
                best = (g / c.cost, c)
        if best is None:
            return out
        c = best[1]
        state, spent = oracle.add(state, c), spent + c.cost
        out.append(c.key)
        left.remove(c)


instances = st.integers(min_value=0, max_value=10_000).map(lambda seed: np.random.default_rng(seed))


def _instance(
    rng: np.random.Generator, n: int = 8, km: int = 20
) -> tuple[CoverOracle, list[Cover]]:
    weights = list(rng.random(km) + 0.01)
    cands = []
    for i in range(n):
        a = int(rng.integers(0, km - 1))
        b = int(rng.integers(a + 1, min(km, a + 7) + 1))
        cands.append(Cover(i, float(rng.uniform(1.0, 3.0)), frozenset(range(a, b))))
    return CoverOracle(weights), cands


@settings(max_examples=40, deadline=None)
@given(instances)
def test_lazy_greedy_buys_what_plain_greedy_buys(rng: np.random.Generator) -> None:
    oracle, cands = _instance(rng)
    budget = 5.0
    pkg = lazy_greedy(oracle, cands, budget)
    assert [b.cand.key for b in pkg.items] == plain_greedy(oracle, cands, budget)
    assert pkg.cost <= budget + 1e-9
    assert pkg.after == pytest.approx(oracle.value(pkg.state))


@settings(max_examples=40, deadline=None)
@given(instances)
def test_swaps_never_lose_and_stay_within_budget_and_enumeration_bounds_both(
    rng: np.random.Generator,
) -> None:
    oracle, cands = _instance(rng)
    budget = 5.0
    greedy = lazy_greedy(oracle, cands, budget)
    swapped = swap_improve(oracle, cands, greedy, budget)
    assert swapped.after >= greedy.after - 1e-12
    assert swapped.cost <= budget + 1e-9
    best, _ = exhaustive(oracle, cands, budget)
    # enumeration by brute force, written independently
    brute = max(
        (
            oracle.value(frozenset().union(*(c.km for c in s)))
            for k in range(len(cands) + 1)
            for s in itertools.combinations(cands, k)
            if sum(c.cost for c in s) <= budget + 1e-9
        ),
        default=0.0,
    )
    assert best == pytest.approx(brute)
    assert swapped.after <= best + 1e-9
    # greedy with the best single item is within (1 − 1/e)/2 of the optimum (budgeted cover)
    single = max((oracle.value(c.km) for c in cands if c.cost <= budget), default=0.0)
    assert max(swapped.after, single) >= 0.5 * (1 - 1 / math.e) * best - 1e-9


@settings(max_examples=30, deadline=None)
@given(instances)
def test_restarts_never_lose_to_plain_greedy_and_stay_within_budget(
    rng: np.random.Generator,
) -> None:
    oracle, cands = _instance(rng)
    greedy = lazy_greedy(oracle, cands, 5.0)
    multi = multi_start(oracle, cands, 5.0, starts=3)
    assert multi.after >= greedy.after - 1e-12
    assert multi.cost <= 5.0 + 1e-9
    assert multi.after == pytest.approx(oracle.value(multi.state))


# --- limes plan on a short line ------------------------------------------------------------------

CATALOGUE = {
    "currency": "USD",
    "items": [
        {"kind": "sensor", "model": "tower-cam", "cost": 100.0},
        {
            "kind": "barrier",
            "model": "trench",
            "barrier_kind": "trench",
            "cost_per_km": 20.0,
            "section_km": 3.0,
            "delay": {"foot": {"mean_s": 600.0, "sd_s": 120.0}},
        },
    ],
    "candidates": {"sensor_spacing_km": 4.0, "sensor_offsets_m": [500.0, 1500.0]},
    "objective": {"kind": "expected"},
}


@pytest.fixture(scope="module")
def short_line() -> Scenario:
    """The fixture line with its towers taken away: nothing is seen, so there is much to buy."""
    draft = scenario_from_data(scenario_data(LINE, [1000.0]), check=False)
    length = math.floor(draft.length_km * 10) / 10
    data = scenario_data(LINE, [length])
    data["sensors"] = []
    return scenario_from_data(data)


def test_plan_writes_the_contract_and_its_scenario_reassesses_to_objective_after(
    short_line: Scenario, tmp_path: Path
) -> None:
    cat = Catalogue.model_validate(CATALOGUE)
    p = plan(short_line, cat, budget=200.0, resolution_m=250.0)
    written = write_plan(p, tmp_path / "plan")
    data = json.loads(written["plan.json"].read_text())
    assert {"items", "objective_before", "objective_after"} <= data.keys()
    assert data["items"], "a budget that buys something buys something"
    for it in data["items"]:
        assert {"kind", "model", "site", "cost", "gain"} <= it.keys()
        assert {"lon", "lat"} == it["site"].keys()
    assert sum(it["cost"] for it in data["items"]) <= 200.0
    assert data["objective_after"] >= data["objective_before"]
    # The scenario file loads on its own and a fresh assessment of it gives objective_after.
    planned = load_scenario(written["scenario.yaml"])
    n_added = len(planned.spec.sensors) + len(planned.spec.barriers)
    assert n_added == len(short_line.spec.sensors) + len(short_line.spec.barriers) + len(
        data["items"]
    )
    again = assess(planned, cat.modes, cat.lights, 250.0, config=AssessConfig(worst_paths=0))
    w = run_weights(planned, cat.modes, cat.lights)
    assert objective_value(per_km(again), w, cat.objective) == pytest.approx(
        data["objective_after"], rel=1e-9
    )
    assert "The plan: what to buy" in written["report.html"].read_text()


def test_the_objective_counts_what_it_says() -> None:
    from limes.analysis.plan import Objective
    from limes.scenario.schema import Light, Mode

    runs = {(Mode.FOOT, Light.NIGHT): np.array([0.0, 0.2, 0.6, 0.9, 1.0] * 2)}
    w = {(Mode.FOOT, Light.NIGHT): 1.0}
    assert objective_value(runs, w, Objective(kind="expected")) == pytest.approx(5.4)
    assert objective_value(runs, w, Objective(kind="above", threshold=0.5)) == 6
    assert objective_value(runs, w, Objective(kind="min")) == 0.0  # lowest tenth: 1 km at 0


def test_limes_plan_on_the_command_line(short_line: Scenario, tmp_path: Path) -> None:
    sc_path = tmp_path / "s.yaml"
    sc_path.write_text(yaml.safe_dump(short_line.spec.model_dump(mode="json")))
    cat_path = tmp_path / "c.yaml"
    cat_path.write_text(yaml.safe_dump(CATALOGUE))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "plan",
            str(sc_path),
            "--catalogue",
            str(cat_path),
            "--budget",
            "120",
            "--out",
            str(out),
            "--resolution",
            "250",
        ],
    )
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {"plan.json", "report.html", "scenario.yaml"}
    bad = CliRunner().invoke(
        app, ["plan", str(sc_path), "--catalogue", str(cat_path), "--budget", "-1"]
    )
    assert bad.exit_code == 2 and "budget" in bad.output


def test_taking_an_item_out_restores_the_km_it_reached(short_line: Scenario) -> None:
    from limes.analysis.plan import WindowOracle, candidate_options, with_terrain_for

    cat = Catalogue.model_validate(CATALOGUE)
    opts = candidate_options(short_line, cat, 250.0, 3.0)
    sc = with_terrain_for(short_line, opts)
    cfg = AssessConfig(worst_paths=0)
    base = per_km(assess(sc, cat.modes, cat.lights, 250.0, config=cfg))
    oracle = WindowOracle(sc, cat, 250.0, base, run_weights(sc, cat.modes, cat.lights), cfg)
    one = oracle.add(oracle.start(), opts[0])
    two = oracle.add(one, opts[1])
    back = oracle.without(two, opts[1])
    assert back.chosen == (opts[0],)
    for key in base:
        np.testing.assert_allclose(back.runs[key], one.runs[key], atol=1e-12)
    # and one window's what-if equals a whole assessment of the same scenario
    whole = per_km(assess(apply_all(sc, [opts[0]]), cat.modes, cat.lights, 250.0, config=cfg))
    for key in base:
        np.testing.assert_allclose(one.runs[key], whole[key], atol=1e-9)


def apply_all(sc: Scenario, options: list) -> Scenario:  # type: ignore[type-arg]
    from limes.analysis.plan import apply

    return apply(sc, options)


def test_a_chain_of_cameras_is_one_purchase_of_them_all(short_line: Scenario) -> None:
    from limes.analysis.plan import apply, candidate_options

    data = dict(CATALOGUE)
    data["items"] = [
        {"kind": "sensor", "model": "tower-cam", "cost": 100.0, "chain": 3, "chain_spacing_km": 2.0}
    ]
    cat = Catalogue.model_validate(data)
    (first, *_) = candidate_options(short_line, cat, 250.0, 3.0)
    assert first.cost == 300.0 and len(first.chain) == 2
    ch = [
        short_line.locate(*short_line.position_xy(s.position))[0] / 1000.0
        for s in (first.sensor, *first.chain)
    ]
    assert np.diff(ch) == pytest.approx([2.0, 2.0], abs=1e-6)
    assert len(apply(short_line, [first]).spec.sensors) == len(short_line.spec.sensors) + 3

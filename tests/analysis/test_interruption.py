"""Interruption against analytic answers, exact EASI by enumeration, and Monte Carlo."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from analysis_support import FLAT, barrier, scenario, tower, unit
from scipy.stats import norm

from limes.analysis.assess import AssessConfig, AssessError, assess
from limes.analysis.easi import PathSteps, easi
from limes.analysis.monte_carlo import simulate
from limes.analysis.result import Weakness
from limes.scenario.schema import Light, Mode

WIDTH_M = 2000.0  # strip: 1000 m outside + 1000 m inside
SPEED_MPS = 4.0 / 3.6  # movement.foot_flat_kmh in the test scenario


def blanket(hazard: float) -> dict[str, object]:
    """A ground sensor whose constant law covers the whole strip with one hazard."""
    return {
        "name": "blanket",
        "kind": "ground_sensor",
        "laws": {
            "person": {"night": {"range_m": 30000.0, "hazard_per_s": hazard, "falloff": "constant"}}
        },
    }


def instant_helicopter(readiness_s: float = 0.0, sd_s: float = 0.0) -> dict[str, object]:
    return unit(
        "heli",
        5.0,
        500.0,
        kind="helicopter",
        readiness={"mean_s": readiness_s, "sd_s": sd_s},
        speeds={"air_kmh": 1e7},
    )


def uniform_strip(hazard: float, **unit_kw: float):
    return scenario(
        sensor_models=[blanket(hazard)],
        sensors=[tower("g", 5.0, 0.0, model="blanket")],
        units=[instant_helicopter(**unit_kw)],
        response={"alert_handling": {"mean_s": 0.0, "sd_s": 0.0}},
    )


def run(sc, resolution: float = 50.0, **kw: object):
    return assess(sc, resolution_m=resolution, terrain=FLAT, **kw)


def test_a_uniform_hazard_strip_gives_one_minus_exp_of_hazard_times_crossing_time() -> None:
    lam, cell = 0.001, 50.0
    a = run(uniform_strip(lam), cell)
    # Start and goal are the cells on the strip's edges, so the crossing measured between their
    # centres is one cell short of the strip, and the goal cell's own half step (no time left
    # there) counts nothing: the answer lies between these analytic bounds.
    lo = 1 - math.exp(-lam * (WIDTH_M - 2 * cell) / SPEED_MPS)
    hi = 1 - math.exp(-lam * WIDTH_M / SPEED_MPS)
    per_km = a.runs[0].per_km
    assert len(per_km) == 12
    for k in per_km:
        assert lo <= k.p_interruption <= hi
        assert k.p_easi is not None and lo - 0.01 <= k.p_easi <= hi


def test_a_response_slower_than_any_crossing_interrupts_nothing() -> None:
    a = run(uniform_strip(0.01, readiness_s=1e6, sd_s=10.0), 100.0)
    assert all(k.p_interruption < 1e-12 for k in a.runs[0].per_km)
    assert all(k.p_easi is not None and k.p_easi < 1e-12 for k in a.runs[0].per_km)
    assert {k.reason for k in a.runs[0].per_km} == {Weakness.TOO_FAST_TO_STOP}


def test_an_instant_response_with_certain_detection_holds_every_km() -> None:
    a = run(uniform_strip(1.0), 100.0)
    assert all(k.p_interruption > 1 - 1e-9 for k in a.runs[0].per_km)
    assert {k.reason for k in a.runs[0].per_km} == {Weakness.HELD}


def test_an_unwatched_line_is_not_seen() -> None:
    a = run(scenario(units=[unit("u", 5.0, 2000.0)]), 100.0)
    assert all(k.p_interruption == 0.0 for k in a.runs[0].per_km)
    assert {k.reason for k in a.runs[0].per_km} == {Weakness.NOT_SEEN}


def enumerate_easi(steps: PathSteps, mu: np.ndarray, sd: np.ndarray) -> float:
    """P(first detection timely) by summing over every detection pattern (independent oracle)."""
    n = len(steps.p_detect)
    total = 0.0
    for pattern in itertools.product([0, 1], repeat=n):
        prob = math.prod(p if d else 1 - p for p, d in zip(steps.p_detect, pattern, strict=True))
        if not any(pattern):
            continue
        i = pattern.index(1)
        left = steps.time_s[i] / 2 + steps.time_s[i + 1 :].sum()
        var = steps.delay_sd_s[i] ** 2 / 4 + (steps.delay_sd_s[i + 1 :] ** 2).sum()
        best = max(
            norm.cdf((left - m) / math.sqrt(s**2 + var)) for m, s in zip(mu[:, i], sd, strict=True)
        )
        total += prob * best
    return total


def test_easi_equals_the_sum_over_all_detection_patterns() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(1, 8))
        g = int(rng.integers(1, 3))
        steps = PathSteps(
            rng.uniform(10, 300, n),
            rng.uniform(0, 60, n) * (rng.random(n) < 0.5),
            rng.uniform(0, 0.6, n),
            rng.uniform(100, 1500, (g, n)),
            rng.uniform(1, 200, g),
        )
        ref = enumerate_easi(steps, steps.response_mean_s, steps.response_sd_s)
        assert easi(steps).p_interruption == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_monte_carlo_agrees_with_easi_on_the_reported_paths() -> None:
    sc = scenario(
        sensors=[tower("t1", 3.0, 300.0), tower("t2", 8.0, 300.0)],
        units=[
            unit("u1", 5.0, 1500.0),
            unit("u2", 9.0, 800.0, readiness={"mean_s": 60, "sd_s": 20}),
        ],
        barriers=[barrier("f", 0.0, 11.0, 200.0)],
    )
    a = run(
        sc,
        100.0,
        lights=(Light.NIGHT, Light.DAY),
        config=AssessConfig(worst_paths=12, mc_samples=200_000),
    )
    checked = 0
    for r in a.runs:
        for p in r.worst_paths:
            assert p.mc_interval is not None
            lo, hi = p.mc_interval
            assert lo <= p.p_interruption <= hi, (r.light, p.start_chainage_km)
            checked += p.p_interruption > 0.05
    assert checked >= 4  # the check must include paths that are actually defended


def test_monte_carlo_of_a_million_crossings_matches_easi_with_barrier_delays() -> None:
    steps = PathSteps(
        np.array([60.0, 400.0, 60.0, 300.0, 90.0]),
        np.array([0.0, 120.0, 0.0, 90.0, 0.0]),
        np.array([0.2, 0.3, 0.1, 0.5, 0.2]),
        np.array([[500.0, 500.0, 450.0, 400.0, 380.0]]),
        np.array([100.0]),
    )
    mc = simulate(steps, 1_000_000, seed=11)
    assert mc.low <= easi(steps).p_interruption <= mc.high
    assert mc.high - mc.low < 0.003


def test_vehicles_are_stopped_by_a_blocking_barrier_without_a_breach() -> None:
    wall = barrier("w", 0.0, 11.1, 0.0, blocks_vehicles=True)
    a = run(scenario(barriers=[wall], units=[unit("u", 5.0, 1000.0)]), 100.0, modes=(Mode.VEHICLE,))
    # No way across: every start is held.
    assert all(k.p_interruption == 1.0 for k in a.runs[0].per_km)


def test_rasters_are_nan_outside_the_strip_and_probabilities_in_range() -> None:
    diagonal = {"line": [[42.0, 35.0], [42.08, 35.08]], "inside": "left"}
    sc = scenario(border=diagonal, sensors=[tower("t1", 3.0, 300.0)], units=[unit("u", 5.0, 800.0)])
    a = run(sc, 100.0)
    rasters = a.runs[0].rasters
    assert set(rasters) == {"hazard", "response_time_s", "time_to_goal_s", "p_interruption"}
    p = rasters["p_interruption"].data
    assert np.nanmin(p) >= 0 and np.nanmax(p) <= 1
    grid = rasters["p_interruption"].grid
    x, y = grid.cell_centres()
    ch, off = sc.locate(x, y)
    far = np.abs(off) > 1000 + 150
    near = (np.abs(off) < 1000 - 150) & (ch > 150) & (ch < sc.border.length_m - 150)
    assert far.any() and np.isnan(p[far]).all()
    assert np.isfinite(p[near]).all()
    assert rasters["p_interruption"].grid.transform.b == 0  # north-up


def test_bad_resolution_is_a_clear_error() -> None:
    with pytest.raises(AssessError, match="resolution_m must be a positive"):
        run(scenario(), -5.0)


def test_progress_reports_every_stage() -> None:
    seen: list[str] = []
    run(
        scenario(sensors=[tower("t1", 3.0, 300.0)]),
        200.0,
        progress=lambda stage, done, total: seen.append(stage),
    )
    assert {"tiles", "response", "line of sight", "crossings", "paths"} <= set(seen)

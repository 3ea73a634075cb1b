"""Calibration: simulated crossings are interrupted as often as the plan says, km by km.

On the small border the assessment keeps every km's best path. Three hundred groups cross
along each, through the exercise's own steps (walk with barrier waits, sensor draws, reports,
dispatch, interception), all meeting the response the plan assumes. Their observed rate of
interruption must agree with EASI along the path with the hazard at the path's points (the
simulator's exact view) within a binomial interval, 99.9 % for each of the eleven km
(Bonferroni for 1 % over the family). Against the assessment's own figures it must agree
wherever the assessment's raster of cells reads the same hazard as the points; where it does
not (a path grazing a sensor's range limit: a cell whose centre lies just beyond range counts
nothing), the difference is that of the two EASI figures, in the simulator's direction.
"""

from __future__ import annotations

import pytest

from limes.analysis.assess import AssessConfig, assess
from limes.analysis.monte_carlo import wilson
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode
from limes.sim.calibration import KmCheck, calibrate
from limes.sim.config import SimConfig

N_PER_KM = 300
Z_999 = 3.2905267314919255


@pytest.fixture(scope="module")
def checks(instant: Scenario) -> list[KmCheck]:
    plan = assess(
        instant, [Mode.FOOT], [Light.NIGHT], resolution_m=50.0,
        config=AssessConfig(worst_paths=100, mc_samples=1000),
    )  # fmt: skip
    profile = instant.spec.threats[0]
    assert profile.speed_kmh >= instant.spec.movement.foot_flat_kmh  # walks as the plan's adversary
    return calibrate(instant, plan, Mode.FOOT, Light.NIGHT, profile, N_PER_KM, seed=1,
                     config=SimConfig(unit_reach_km=15.0))  # fmt: skip


def test_every_km_is_checked_and_the_km_differ(checks: list[KmCheck], instant: Scenario) -> None:
    assert len(checks) == int(instant.length_km) + 1
    observed = [c.observed for c in checks]
    # Unseen km and several middling ones: a flat answer would not test anything.
    assert min(observed) < 0.05
    assert sum(0.1 < p < 0.9 for p in observed) >= 4


def test_observed_rate_agrees_with_easi_at_the_path_points(checks: list[KmCheck]) -> None:
    for c in checks:
        lo, hi = wilson(round(c.observed * c.n), c.n, z=Z_999)
        assert lo <= c.easi_at_points <= hi, c


def test_observed_rate_agrees_with_the_plan_or_the_difference_is_the_range_edge(
    checks: list[KmCheck],
) -> None:
    explained = 0
    for c in checks:
        assert c.plan_p_easi is not None
        lo, hi = wilson(round(c.observed * c.n), c.n, z=Z_999)
        if lo <= c.plan_p_easi <= hi:
            continue
        # Outside: only where the raster under-reads the hazard at a range limit, so the
        # simulator (exact points) sees more, and its EASI explains the rate.
        assert c.easi_at_points > c.plan_p_easi, c
        assert lo <= c.easi_at_points <= hi, c
        explained += 1
    assert explained <= 3

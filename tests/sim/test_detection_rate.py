"""One source of truth: a simulated sensor detects a cell's crossers as the analysis says it will.

Many groups walk straight through one cell of the analysis grid. The analysis's chance that a
sensor detects a group in that cell is 1 − exp(−hazard · time in cell), with the hazard from
`sensing.coverage.hazard_field` (its line of sight and law on the grid) and the time from the
movement model; the simulator's share of groups it detected there must fall within the
binomial interval of that probability.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from limes.analysis.monte_carlo import wilson
from limes.geo.grid import Grid
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, TargetClassName
from limes.sensing.coverage import hazard_field
from limes.sensing.detection_law import p_detect
from limes.sensing.movement import foot_speed_isotropic_kmh, pace_s_per_m
from limes.sim.actors import Actor, Ground, walk
from limes.sim.config import SimConfig
from limes.sim.emission import detect, sample_actors, sim_sensors
from limes.sim.routes import Route

CELL_M = 50.0
N = 4000


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


@pytest.mark.parametrize(("chainage_km", "offset_m"), [(3.3, -1200.0), (6.0, 100.0)])
def test_cell_detection_rate_matches_the_analysis(
    instant: Scenario, chainage_km: float, offset_m: float
) -> None:
    sc = instant
    # One cell of a north-up analysis grid at the chosen place, and its hazard there.
    cx, cy = sc.border.point_at(chainage_km * 1000.0, offset_m)
    x0 = math.floor(float(cx) / CELL_M) * CELL_M
    y0 = math.floor(float(cy) / CELL_M) * CELL_M
    grid = Grid.north_up(x0 - 2 * CELL_M, y0 - 2 * CELL_M, x0 + 3 * CELL_M, y0 + 3 * CELL_M,
                         CELL_M)  # fmt: skip
    hz = hazard_field(sc, sc.terrain(), grid, TargetClassName.PERSON, Light.NIGHT)
    h_cell = float(hz[2, 2])
    assert h_cell > 0
    mv = sc.spec.movement
    t_cell = CELL_M * float(pace_s_per_m(foot_speed_isotropic_kmh(0.0, mv.foot_flat_kmh)))
    expected = float(p_detect(h_cell, t_cell))

    # Groups walk north to south through the cell's centre line, edge to edge, at night.
    mid_x = x0 + CELL_M / 2
    route = Route(np.array([[mid_x, y0 + CELL_M], [mid_x, y0]]), "straight")
    profile = sc.spec.threats[0]
    cfg = SimConfig(step_s=2.0)
    ground = Ground.of(sc, sc.terrain())
    rng = np.random.default_rng(11)
    times, xy, _ = walk(sc, ground, route, profile, rng, cfg.route_step_m)
    assert times[-1] == pytest.approx(t_cell, rel=1e-9)  # flat ground, same pace as the plan
    # Start times spread over a night hour with random phase against the step grid.
    night0 = 3 * 3600.0
    starts = night0 + rng.uniform(0.0, 3600.0, N)
    actors = [
        Actor(f"g{i}", i, profile, True, 1, route, times + t0, xy) for i, t0 in enumerate(starts)
    ]
    samples = sample_actors(actors, cfg.step_s, night0 + 7200.0)
    sensors = sim_sensors(sc)
    hits = detect(sc, sc.terrain(), sensors, samples, cfg, np.random.default_rng(5))
    detected = np.unique(samples.actor[hits.sample]).size

    lo, hi = wilson(round(expected * N), N, z=_z(0.999))
    assert lo <= detected / N <= hi, (detected / N, expected)

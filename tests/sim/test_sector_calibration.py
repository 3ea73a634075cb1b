"""Plan against exercise per sector, for groups that follow the plan's own paths.

On the small border (two sectors, west km 0–4 and east km 5–10) the assessment keeps every
km's best path; groups of the plan's adversary walk them at night, spread evenly over each
sector's km, through the exercise's steps with every unit at home. The plan's sector P is the
mean of its km's P (the groups divide evenly, so it is exactly the mean over the sector's km,
taken here from the assessment); the observed share must hold it within its 95 % interval.

With the quick-reaction force of the exercise's border a detection is timely or not with near
certainty, and the plan's field P is EASI. With the slow one of the calibration border
(`instant`, no report latency) timeliness is a matter of chance: the field, which counts every
timely detection, then says more than EASI, which counts the first, as the exercise's dispatcher
does (docs/assessment.md, "Approximations"); the observed share holds EASI, and the field lies
above it. With the towers taken from the east, its plan says 0 and no group may be stopped.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sim_fixtures import SMALL, small_scenario

from limes.analysis.monte_carlo import wilson
from limes.analysis.result import Assessment
from limes.errors import SimError
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode
from limes.sim.config import SimConfig
from limes.sim.daylight import is_day
from limes.sim.sector_calibration import (
    SectorCheck,
    assess_every_km,
    calibrate_sectors,
    plan_adversary,
    starts_in_light,
)

GROUPS = 330  # a multiple of both sectors' km counts (5 and 6)
Z_999 = 3.2905267314919255
CFG = SimConfig(unit_reach_km=15.0)


@pytest.fixture(scope="module")
def plan(small: Scenario) -> Assessment:
    return assess_every_km(small, [Mode.FOOT], [Light.NIGHT], 50.0)


@pytest.fixture(scope="module")
def checks(small: Scenario, plan: Assessment) -> list[SectorCheck]:
    return calibrate_sectors(small, plan, Mode.FOOT, Light.NIGHT, GROUPS, seed=3, config=CFG,
                             window_h=96.0)  # fmt: skip


@pytest.fixture(scope="module")
def slow_checks(instant: Scenario) -> list[SectorCheck]:
    plan = assess_every_km(instant, [Mode.FOOT], [Light.NIGHT], 50.0)
    return calibrate_sectors(instant, plan, Mode.FOOT, Light.NIGHT, GROUPS, seed=3, config=CFG,
                             window_h=96.0)  # fmt: skip


def test_every_km_has_its_path_and_each_sector_its_groups(
    plan: Assessment, checks: list[SectorCheck]
) -> None:
    run = plan.run(Mode.FOOT, Light.NIGHT)
    assert {int(p.start_chainage_km) for p in run.worst_paths} == {
        int(k.chainage_km) for k in run.per_km
    }
    assert [(c.sector, c.km, c.n) for c in checks] == [("west", 5, GROUPS), ("east", 6, GROUPS)]


def test_sector_plan_p_is_the_mean_of_its_km(plan: Assessment, checks: list[SectorCheck]) -> None:
    run = plan.run(Mode.FOOT, Light.NIGHT)
    for c in checks:
        mine = [k for k in run.per_km if k.sector == c.sector]
        assert c.plan_p == pytest.approx(np.mean([k.p_interruption for k in mine]), abs=1e-12)
        assert c.plan_p_easi == pytest.approx(np.mean([k.p_easi for k in mine]), abs=1e-12)


def test_the_sectors_are_neither_unseen_nor_held(
    checks: list[SectorCheck], slow_checks: list[SectorCheck]
) -> None:
    # A flat answer (0 or 1) would hold any simulator; these are in between.
    for c in [*checks, *slow_checks]:
        assert 0.1 < c.plan_p < 0.9, c
        assert 0.1 < c.observed < 0.9, c


def test_observed_rate_per_sector_holds_the_plan(checks: list[SectorCheck]) -> None:
    for c in checks:
        assert c.inside, c
        # And the simulator's own view of the sensors, at 99.9 %.
        lo, hi = wilson(c.interrupted, c.n, z=Z_999)
        assert lo <= c.easi_at_points <= hi, c


def test_where_timeliness_is_chance_the_rate_holds_easi_and_the_field_lies_above(
    slow_checks: list[SectorCheck],
) -> None:
    above = 0
    for c in slow_checks:
        assert c.plan_p_easi is not None
        lo, hi = wilson(c.interrupted, c.n, z=Z_999)
        assert lo <= c.plan_p_easi <= hi, c
        assert lo <= c.easi_at_points <= hi, c
        assert c.plan_p >= c.plan_p_easi, c
        above += c.plan_p > c.high
    # The field's every-timely-detection count shows: at least one sector is above the interval.
    assert above >= 1


def test_a_sector_without_sensors_says_zero_and_no_group_is_stopped(small: Scenario) -> None:
    west_only = small.spec.model_copy(
        update={"sensors": [s for s in small.spec.sensors if s.id == "T1"]}
    )
    sc = replace(small, spec=west_only)
    plan = assess_every_km(sc, [Mode.FOOT], [Light.NIGHT], 100.0)
    east = next(c for c in calibrate_sectors(sc, plan, Mode.FOOT, Light.NIGHT, 60, seed=1,
                                             config=CFG, window_h=48.0)
                if c.sector == "east")  # fmt: skip
    assert east.plan_p == 0.0
    # The tower at km 3 sees 3 km: km 5 and 6 are seen from afar, but too late to stop anyone.
    assert east.interrupted == 0
    assert east.inside


def test_starts_put_the_whole_crossing_in_the_light() -> None:
    cfg = SimConfig()
    rng = np.random.default_rng(5)
    dur = rng.uniform(1800.0, 4 * 3600.0, 500)
    lon = np.full(500, 41.05)
    for light in (Light.NIGHT, Light.DAY):
        t = starts_in_light(rng, dur, lon, light, 72 * 3600.0, cfg)
        assert (t >= 0).all() and (t + dur <= 72 * 3600.0).all()
        for f in (0.0, 0.25, 0.5, 0.75, 1.0):
            day = np.array([is_day(cfg.start, t[i] + f * dur[i], 41.05, cfg.day_start_h,
                                   cfg.day_end_h) for i in range(500)])  # fmt: skip
            assert (day == (light is Light.DAY)).all()
        # Spread over the window: every one of its three nights (or days) is used.
        assert len(np.unique(np.floor((t + 41.05 * 240 + 6 * 3600) / 86_400))) >= 3


def test_a_window_without_that_light_is_refused() -> None:
    cfg = SimConfig()  # starts 18:00 UTC: 20:44 solar at 41° E, night for the next 9 h
    with pytest.raises(SimError, match="day"):
        starts_in_light(np.random.default_rng(0), np.full(3, 600.0), np.full(3, 41.0),
                        Light.DAY, 4 * 3600.0, cfg)  # fmt: skip


def test_the_plans_adversary_walks_at_the_movement_models_pace(
    small: Scenario, plan: Assessment
) -> None:
    p = plan_adversary(small, Mode.FOOT, Light.NIGHT)
    assert p.mode is Mode.FOOT
    assert p.speed_kmh == small.spec.movement.foot_flat_kmh
    with pytest.raises(SimError, match="vehicle"):
        calibrate_sectors(small, plan, Mode.FOOT, Light.NIGHT, 5,
                          profile=plan_adversary(small, Mode.VEHICLE, Light.NIGHT))  # fmt: skip


def test_walled_km_and_groups_a_wall_stops_are_left_out_of_both_sides(small: Scenario) -> None:
    wall = {"id": "wall", "kind": "wall", "from_km": 0, "to_km": 3, "offset_m": 300,
            "blocks_vehicles": True, "delay": {"foot": {"mean_s": 60.0, "sd_s": 10.0}}}  # fmt: skip
    walled = small_scenario(barriers=[*SMALL["barriers"], wall])
    plan = assess_every_km(walled, [Mode.VEHICLE], [Light.NIGHT], 100.0)
    run = plan.run(Mode.VEHICLE, Light.NIGHT)
    # No way through km 0–1: held at P = 1 with no path to walk, so on neither side.
    assert [k.p_interruption for k in run.per_km[:2]] == [1.0, 1.0]
    west = calibrate_sectors(walled, plan, Mode.VEHICLE, Light.NIGHT, 40, seed=2, config=CFG,
                             window_h=48.0)[0]  # fmt: skip
    assert (west.sector, west.km, west.n, west.blocked) == ("west", 3, 40, 0)
    assert west.plan_p == pytest.approx(
        np.mean(
            [k.p_interruption for k in run.per_km[2:5] for _ in range(13)]
            + [run.per_km[2].p_interruption]
        ),
        abs=1e-12,
    )
    # The plan of the border before the wall, walked on the border with it: the groups that
    # meet the wall stop there and, as in the scorecard, count on neither side.
    before = assess_every_km(small, [Mode.VEHICLE], [Light.NIGHT], 100.0)
    west = calibrate_sectors(walled, before, Mode.VEHICLE, Light.NIGHT, 40, seed=2, config=CFG,
                             window_h=48.0)[0]  # fmt: skip
    assert (west.sector, west.km) == ("west", 5)
    assert west.blocked >= 16 and west.n >= 8 and west.n + west.blocked == 40

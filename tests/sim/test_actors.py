"""Groups: routes edge to edge at the shared speeds, barrier waits, choices by profile, clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sim_fixtures import small_data, small_scenario

from limes.analysis.result import Assessment, KmResult, Run, Weakness
from limes.clock import ClockError, SimClock
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode
from limes.sensing.movement import foot_speed_isotropic_kmh, pace_s_per_m
from limes.sim.actors import Ground, plan_actors, walk
from limes.sim.config import SimConfig
from limes.sim.daylight import is_day
from limes.sim.routes import straight_route


def _plan(sc: Scenario, n: int, seed: int, cfg: SimConfig | None = None, **kw: object) -> list:
    cfg = cfg or SimConfig()
    ground = Ground.of(sc, sc.terrain())
    return plan_actors(sc, ground, 48.0, cfg, np.random.default_rng(seed), count=n, **kw)  # type: ignore[arg-type]


def test_crossings_run_from_the_outer_to_the_inner_edge(small: Scenario) -> None:
    out_m, in_m = small.spec.strip.outside_m, small.spec.strip.inside_m
    for a in _plan(small, 60, 1):
        _, off = small.locate(a.xy[:, 0], a.xy[:, 1])
        if a.crossing:
            assert off[0] == pytest.approx(-out_m, abs=1.0)
            assert off[-1] == pytest.approx(in_m, abs=1.0)
            assert a.cross_s is not None and a.start_s <= a.cross_s <= a.goal_s
        else:
            assert (off < 0).all()  # herders never cross


def test_walking_time_is_the_shared_pace_plus_the_barrier_wait(small: Scenario) -> None:
    ground = Ground.of(small, small.terrain())
    profile = small.spec.threats[0]
    rng = np.random.default_rng(3)
    route = straight_route(small, 5000.0, rng, SimConfig(wander_sd_m=0.0))
    pace = float(pace_s_per_m(foot_speed_isotropic_kmh(0.0, small.spec.movement.foot_flat_kmh)))
    depth = small.spec.strip.outside_m + small.spec.strip.inside_m
    waits = []
    for _ in range(2000):
        times, _, blocked = walk(small, ground, route, profile, rng, 25.0)
        assert not blocked
        waits.append(times[-1] - depth * pace)
    trench = small.spec.barriers[0].delay[Mode.FOOT]
    w = np.asarray(waits)
    assert w.mean() == pytest.approx(trench.mean_s, abs=4 * trench.sd_s / np.sqrt(len(w)))
    assert w.std() == pytest.approx(trench.sd_s, rel=0.1)


class _fixed_wait:
    """A generator stand-in whose normal draws are the mean: the trench takes exactly 240 s."""

    def normal(self, mean: object, sd: object, size: object = None) -> object:
        return mean


def test_a_slower_profile_walks_slower_never_faster(small: Scenario) -> None:
    ground = Ground.of(small, small.terrain())
    route = straight_route(small, 5000.0, np.random.default_rng(0), SimConfig(wander_sd_m=0.0))
    family = small.spec.threats[2]  # 2.5 km/h against the scenario's 5
    fast = small.spec.threats[0].model_copy(update={"speed_kmh": 9.0})
    wait: Any = _fixed_wait()
    t_family = walk(small, ground, route, family, wait, 25.0)[0]
    t_fast = walk(small, ground, route, fast, wait, 25.0)[0]
    t_cell = walk(small, ground, route, small.spec.threats[0], wait, 25.0)[0]
    assert t_fast[-1] == pytest.approx(t_cell[-1])
    # Flat ground: everything but the trench's wait scales with the speed ratio, 5 / 2.5.
    trench = 240.0
    assert t_family[-1] - trench == pytest.approx(2.0 * (t_cell[-1] - trench), rel=1e-9)


def test_vehicles_stay_off_km_where_the_barrier_cannot_be_breached() -> None:
    data = small_data()
    data["barriers"] = [
        {"id": "wall", "kind": "wall", "from_km": 0, "to_km": 6, "offset_m": 200,
         "delay": {"foot": {"mean_s": 600.0}}, "blocks_vehicles": True},
    ]  # fmt: skip
    data["threats"] = [data["threats"][1]]  # smugglers only
    sc = small_scenario(**{k: data[k] for k in ("barriers", "threats")})
    actors = _plan(sc, 80, 2)
    assert actors and all(a.crossing_chainage_m is not None for a in actors)
    assert min(a.crossing_chainage_m for a in actors) >= 6000.0 - 500.0  # wander allowed
    assert not any(a.blocked for a in actors if a.crossing_chainage_m > 6500.0)


def test_informed_groups_choose_the_plans_weak_km(small: Scenario) -> None:
    n_km = int(small.length_km) + 1
    per_km = [
        KmResult(float(k), 0.05 if k == 4 else 0.95, "west", Weakness.NOT_SEEN, 0.0, 0.0)
        for k in range(n_km)
    ]
    plan = Assessment(small.name, 50.0, [Run(Mode.FOOT, Light.NIGHT, per_km, [])])
    cells = [a for a in _plan(small, 200, 4, assessment=plan) if a.profile.name == "cell"]
    km = np.array([a.route.xy[0] for a in cells])
    s, _ = small.locate(km[:, 0], km[:, 1])
    near_weak = np.mean(np.abs(s / 1000.0 - 4.5) < 1.5)
    # (0.95/0.05)^2 = 361 times the weight of any other km: nearly all go there.
    assert near_weak > 0.9


def test_light_preference_sets_the_crossing_light(small: Scenario) -> None:
    cfg = SimConfig()
    for a in _plan(small, 120, 6, cfg):
        if not a.crossing or a.profile.light_preference.value == "any":
            continue
        lon, _ = small.frame.to_lonlat(*a.position(np.array([a.cross_s])))
        day = bool(is_day(cfg.start, a.cross_s, float(lon[0]), cfg.day_start_h, cfg.day_end_h))
        # Crossing time is the moment chosen; a group already under way at 0 may be shifted.
        if a.start_s > 0:
            assert day == (a.profile.light_preference.value == "day"), a.profile.name


def test_clock_bounds_and_day() -> None:
    start = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    with pytest.raises(ClockError, match="600"):
        SimClock(start, 1000.0)
    with pytest.raises(ClockError, match="timezone"):
        SimClock(datetime(2025, 3, 1), 60.0)
    # Noon UTC at lon 0 is day; at lon 180 it is midnight.
    assert bool(is_day(start, 12 * 3600.0, 0.0, 6.0, 18.0))
    assert not bool(is_day(start, 12 * 3600.0, 180.0, 6.0, 18.0))

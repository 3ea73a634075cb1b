"""Many simulated crossings of one route at once: the simulator's check of the plan, km by km.

`cross_many` sends `n` groups of one profile along one route at random moments and runs them
through the very steps an exercise uses (walk with barrier waits, sensor draws, reports with
latency, dispatch and interception), all groups at once. With `units_exclusive=False` every
group meets the response the plan assumes (units always at home), so the observed rate of
interruption estimates the same quantity as the plan's EASI along that route.
`calibrate` does so for every km whose best path the assessment kept, and gives beside the
plan's EASI the same EASI with each step's hazard taken at the path's points (`easi_at_points`),
as the simulator sees them: the analysis reads sight and range from its raster of cells, so
near a sensor's range limit a cell whose centre lies just out of range counts nothing while a
point of the path inside it is in range. Where the two EASI figures differ, that is why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from limes.analysis.easi import normal_below, remaining_time
from limes.analysis.monte_carlo import wilson
from limes.analysis.result import Assessment, CrossingPath
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode, ThreatProfile
from limes.sensing.coverage import SensorPlace, in_view, sensor_places
from limes.sensing.detection_law import hazard_at, p_detect, target_class
from limes.sensing.line_of_sight import Observer, Sightline, visible_points
from limes.sim.actors import Actor, Ground, Leg, crossing_time, leg_of, timed
from limes.sim.config import SimConfig
from limes.sim.emission import deliver, detect, hit_reports, sample_actors, sim_sensors
from limes.sim.response import UnitTravel, dispatch
from limes.sim.routes import Route


@dataclass(frozen=True)
class Crossings:
    """Outcomes of many crossings of one route (`blocked`: stopped by a barrier it cannot
    cross; never interrupted, and left out of the scorecard's rate)."""

    detected: NDArray[np.bool_]
    interrupted: NDArray[np.bool_]
    blocked: NDArray[np.bool_] | None = None

    @property
    def n(self) -> int:
        return len(self.detected)

    def rate(self) -> tuple[float, float, float]:
        """Observed P(interruption) and its 95 % Wilson interval."""
        k = int(self.interrupted.sum())
        lo, hi = wilson(k, self.n)
        return k / max(self.n, 1), lo, hi


def cross_many(
    scenario: Scenario,
    route: Route,
    profile: ThreatProfile,
    n: int,
    seed: int = 0,
    config: SimConfig | None = None,
    ground: Ground | None = None,
    spread_s: float = 86_400.0,
) -> Crossings:
    """`n` groups cross along `route`, starting at uniform moments over `spread_s`."""
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    ground = ground or Ground.of(scenario, scenario.terrain())
    cfg = config or SimConfig()
    starts = np.sort(rngs[0].uniform(0.0, spread_s, n))
    leg = leg_of(scenario, ground, route, profile, cfg.route_step_m)
    return cross_legs(scenario, [leg], np.zeros(n, dtype=np.intp), starts, profile, rngs, cfg)


def cross_legs(
    scenario: Scenario,
    legs: Sequence[Leg],
    which: NDArray[np.intp],
    starts_s: NDArray[np.float64],
    profile: ThreatProfile,
    rngs: Sequence[np.random.Generator],
    config: SimConfig,
) -> Crossings:
    """Group i walks `legs[which[i]]` from `starts_s[i]`; all groups go through the exercise's
    steps in one pass, each meeting every unit at home (`units_exclusive` off, no outages).

    `rngs`: five streams (barrier waits, sensor draws, reports, latency, response).
    """
    cfg = replace(config, units_exclusive=False, outages=(), outages_per_sensor_day=0.0)
    dem = scenario.terrain()
    n = len(which)
    actors: list[Actor] = []
    for i in range(n):
        # Each group draws its own barrier waits.
        t0 = float(starts_s[i])
        times, xy, blocked = timed(legs[int(which[i])], rngs[0])
        t_cross, s_cross = crossing_time(times, xy, scenario)
        route = Route(legs[int(which[i])].xy, "plan")
        actors.append(
            Actor(f"c{i}", i, profile, True, profile.group_size[0], route, times + t0, xy,
                  blocked=blocked, cross_s=t_cross + t0, crossing_chainage_m=s_cross,
                  goal_s=None if blocked else float(times[-1] + t0))
        )  # fmt: skip
    horizon = max((a.end_s for a in actors), default=0.0) + 86_400.0
    sensors = sim_sensors(scenario)
    samples = sample_actors(actors, cfg.step_s, horizon)
    hits = detect(scenario, dem, sensors, samples, cfg, rngs[1])
    reports = deliver(hit_reports(hits, samples, actors, cfg, rngs[2]), sensors, [], rngs[3])
    dispatch(scenario, UnitTravel(scenario, cfg), actors, reports, cfg, rngs[4])
    detected = np.zeros(n, dtype=bool)
    detected[np.unique(reports.actor)] = True
    interrupted = np.array([a.stop_s is not None for a in actors], dtype=bool)
    barred = np.array([a.blocked for a in actors], dtype=bool)
    return Crossings(detected, interrupted, barred)


@dataclass(frozen=True)
class KmCheck:
    """One km: the plan's figures beside the simulated rate."""

    chainage_km: float
    plan_p: float
    plan_p_easi: float | None
    easi_at_points: float
    observed: float
    low: float
    high: float
    n: int


def calibrate(
    scenario: Scenario,
    assessment: Assessment,
    mode: Mode,
    light: Light,
    profile: ThreatProfile,
    n_per_km: int,
    seed: int = 0,
    config: SimConfig | None = None,
) -> list[KmCheck]:
    """Simulated P(interruption) along each km's kept best path beside the plan's."""
    run = assessment.run(mode, light)
    dem = scenario.terrain()
    ground = Ground.of(scenario, dem)
    per_km = {int(k.chainage_km): k for k in run.per_km}
    out: list[KmCheck] = []
    paths = sorted(run.worst_paths, key=lambda p: p.start_chainage_km)
    for j, path in enumerate(paths):
        km = per_km[int(path.start_chainage_km)]
        route = Route(np.asarray(path.xy, dtype=float), "plan")
        res = cross_many(scenario, route, profile, n_per_km, seed + j, config, ground)
        p, lo, hi = res.rate()
        exact = easi_at_points(scenario, path, mode, light)
        out.append(KmCheck(km.chainage_km, km.p_interruption, km.p_easi, exact, p, lo, hi, res.n))
    return out


def path_hazard(
    scenario: Scenario,
    xy: NDArray[np.float64],
    mode: Mode,
    light: Light,
    places: Sequence[SensorPlace] | None = None,
) -> NDArray[np.float64]:
    """Total detection hazard (per s) at points, each sensor's law at the exact range and sight.

    `places`: the scenario's `sensor_places`, when the caller has them already.
    """
    dem = scenario.terrain()
    cls = target_class(mode)
    height = scenario.spec.response.target_heights_m[cls]
    cc = 1.0 - scenario.spec.response.refraction_k
    x, y = xy[:, 0], xy[:, 1]
    total = np.zeros(len(xy))
    for place in sensor_places(scenario) if places is None else places:
        law = place.laws.get((cls, light))
        if law is None:
            continue
        r = np.hypot(x - place.x, y - place.y)
        if not (r <= law.range_m).any():
            continue  # out of range of every point: nothing to add
        if place.needs_sight:
            obs = Observer(place.x, place.y, place.mast_height_m, law.range_m,
                           fov_deg=place.fov_deg, heading_deg=place.heading_deg)  # fmt: skip
            seen = visible_points(dem.elevation, dem.grid.transform, obs, xy,
                                  Sightline(height, cc))  # fmt: skip
        else:
            seen = in_view(place, x, y) & (r <= law.range_m)
        total += np.where(seen, hazard_at(law, r), 0.0)
    return total


def easi_at_points(
    scenario: Scenario,
    path: CrossingPath,
    mode: Mode,
    light: Light,
    places: Sequence[SensorPlace] | None = None,
) -> float:
    """The plan's EASI along a kept path with the step hazards taken at the path's points."""
    pd = p_detect(path_hazard(scenario, path.xy, mode, light, places), path.step_time_s)
    mean_rem, var_rem = remaining_time(path.step_time_s, path.delay_sd_s)
    sd = np.sqrt(np.asarray(path.response_sd_s) ** 2 + var_rem)
    timely = normal_below(mean_rem - np.asarray(path.response_mean_s), sd)
    before = np.concatenate([[1.0], np.cumprod(1.0 - pd)[:-1]])
    return float(np.clip(np.sum(pd * timely * before), 0.0, 1.0))

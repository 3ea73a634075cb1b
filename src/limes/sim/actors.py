"""The simulated groups: who comes, when, along which route, and where they are at any time.

Each threat profile of the scenario becomes groups that arrive during the exercise (Poisson,
`SimConfig.actors_per_day`, profile drawn by `share`). A group's speed over the ground is the
shared movement model (`sensing.movement.adversary_speed_kmh`, the function the analysis
uses) capped by its profile: a profile slower than the scenario's `movement` walks at
`profile.speed_kmh / movement speed` of it, never faster, so the plan's adversary is the
fastest one. Crossing a standing barrier holds a group for a delay drawn from the barrier's
mean and sd for its mode (`sensing.barrier.crossing`, normal, never below zero); a vehicle at a
barrier it cannot breach is stopped there. Light preference picks the crossing time: the
moment the group crosses the line falls in its preferred light whenever the run allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from limes.analysis.response import road_mask
from limes.analysis.result import Assessment
from limes.geo.terrain import Dem
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, LightPreference, Mode, Stance, ThreatProfile
from limes.sensing.barrier import crossing, standing_interval_km
from limes.sensing.movement import (
    adversary_speed_kmh,
    pace_s_per_m,
    slope_magnitude,
)
from limes.sim.config import SimConfig
from limes.sim.daylight import is_day
from limes.sim.routes import (
    Route,
    choose_chainage_m,
    densify,
    km_weights,
    loiter_route,
    plan_path,
    plan_run,
    road_crossings,
    road_route,
    straight_route,
)

FloatArray = NDArray[np.float64]


@dataclass
class Actor:
    """One group: its profile, route and timed positions (frame metres, simulated seconds).

    `times_s` never decreases; a barrier crossing is a repeated vertex (the group waits).
    `cross_s` is when it crosses the line, `goal_s` when it reaches the inner edge (None when
    it never does: stopped by a barrier, or a nuisance group). `stop_s` is set when a unit
    intercepts it: from then on it is no longer moving or seen.
    """

    id: str
    index: int
    profile: ThreatProfile
    crossing: bool
    group_size: int
    route: Route
    times_s: FloatArray
    xy: FloatArray
    blocked: bool = False
    cross_s: float | None = None
    crossing_chainage_m: float | None = None
    goal_s: float | None = None
    stop_s: float | None = field(default=None)

    @property
    def mode(self) -> Mode:
        return self.profile.mode

    @property
    def stance(self) -> Stance:
        return self.profile.stance

    @property
    def start_s(self) -> float:
        return float(self.times_s[0])

    @property
    def end_s(self) -> float:
        """When it stops moving: caught, arrived, stopped or done loitering."""
        last = float(self.times_s[-1])
        return min(last, self.stop_s) if self.stop_s is not None else last

    def position(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Frame x/y at simulated seconds (held at the ends)."""
        t = np.asarray(t_s, dtype=float)
        return np.interp(t, self.times_s, self.xy[:, 0]), np.interp(t, self.times_s, self.xy[:, 1])


@dataclass(frozen=True)
class Ground:
    """What movement needs of the terrain: slope and road cells on the terrain's grid."""

    dem: Dem
    slope: FloatArray
    road: NDArray[np.bool_]

    @classmethod
    def of(cls, scenario: Scenario, dem: Dem) -> Ground:
        slope = slope_magnitude(dem.elevation, dem.grid.cell_m)
        return cls(dem, np.nan_to_num(slope, nan=0.0), road_mask(scenario, dem.grid))

    def at(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Slope and road flag at frame points (nearest cell; flat and off road off the grid)."""
        r, c = self.dem.grid.rowcol(x, y)
        ri, ci = np.floor(r).astype(np.intp), np.floor(c).astype(np.intp)
        h, w = self.slope.shape
        on = (ri >= 0) & (ri < h) & (ci >= 0) & (ci < w)
        slope = np.zeros(np.shape(x))
        road = np.zeros(np.shape(x), dtype=bool)
        slope[on] = self.slope[ri[on], ci[on]]
        road[on] = self.road[ri[on], ci[on]]
        return slope, road


def segment_seconds(
    scenario: Scenario, ground: Ground, xy: FloatArray, profile: ThreatProfile
) -> FloatArray:
    """Seconds to walk or drive each segment of a polyline, by the shared movement model."""
    mv = scenario.spec.movement
    seg = np.diff(xy, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    mid = xy[:-1] + seg / 2.0
    slope, road = ground.at(mid[:, 0], mid[:, 1])
    mode = profile.mode
    on_road = road if mode is Mode.VEHICLE else np.zeros_like(road)
    speed = adversary_speed_kmh(mode.value, slope, on_road, mv)
    if mode is Mode.VEHICLE:
        # Too steep to climb: the group still gets through, at the crawl the model allows at
        # its slope limit (a detour the straight route does not draw).
        crawl = mv.vehicle_off_road_kmh * mv.vehicle_speed_at_max_slope
        speed = np.where(speed > 0, speed, crawl)
        cap = np.where(on_road, profile.speed_kmh / mv.vehicle_road_kmh,
                       profile.speed_kmh / mv.vehicle_off_road_kmh)  # fmt: skip
    else:
        cap = np.full(len(speed), profile.speed_kmh / mv.foot_flat_kmh)
    speed = speed * np.minimum(1.0, cap)
    return np.asarray(length * pace_s_per_m(speed), dtype=float)


@dataclass(frozen=True)
class Leg:
    """A route made ready to walk: vertices, seconds per segment, barriers met on the way.

    `waits` holds (vertex, mean_s, sd_s) for every passable barrier the route crosses (the wait
    is taken on reaching the vertex just past it); `stop_at` the first vertex past a barrier
    the mode cannot cross (None: none).
    """

    xy: FloatArray
    seconds: FloatArray
    waits: tuple[tuple[int, float, float], ...]
    stop_at: int | None


def leg_of(
    scenario: Scenario, ground: Ground, route: Route, profile: ThreatProfile, step_m: float
) -> Leg:
    """The fixed part of walking a route: geometry, speeds and the barriers crossed."""
    xy = densify(route.xy, step_m)
    seconds = segment_seconds(scenario, ground, xy, profile)
    s, off = scenario.locate(xy[:, 0], xy[:, 1])
    waits: list[tuple[int, float, float]] = []
    stop_at: int | None = None
    for b in scenario.spec.barriers:
        span = standing_interval_km(b)
        if span is None:
            continue
        rel = off - b.offset_m
        cut = np.flatnonzero((rel[:-1] < 0) & (rel[1:] >= 0) | (rel[:-1] >= 0) & (rel[1:] < 0))
        if cut.size == 0:
            continue
        # Chainage where the segment meets the barrier's line.
        frac = rel[cut] / np.where(rel[cut] != rel[cut + 1], rel[cut] - rel[cut + 1], 1.0)
        at = (s[cut] + frac * (s[cut + 1] - s[cut])) / 1000.0
        hit = cut[(at >= span[0]) & (at <= span[1])]
        if hit.size == 0:
            continue
        cr = crossing(b, profile.mode)
        if not cr.passable:
            first = int(hit[0]) + 1
            stop_at = first if stop_at is None else min(stop_at, first)
            continue
        waits.extend((int(v) + 1, cr.mean_s, cr.sd_s) for v in hit)
    return Leg(xy, seconds, tuple(sorted(waits)), stop_at)


def timed(leg: Leg, rng: np.random.Generator) -> tuple[FloatArray, FloatArray, bool]:
    """Times (from 0) and positions along a leg with freshly drawn barrier waits."""
    xy = leg.xy
    wait = np.zeros(len(xy))
    if leg.waits:
        at, mean, sd = (np.asarray(c) for c in zip(*leg.waits, strict=True))
        np.add.at(wait, at.astype(np.intp), np.maximum(0.0, rng.normal(mean, sd)))
    arrive = np.concatenate([[0.0], np.cumsum(leg.seconds)])
    # Each waiting vertex appears twice: arriving at it and leaving it.
    before = np.concatenate([[0.0], np.cumsum(wait)[:-1]])
    t_in = arrive + before
    t_out = t_in + wait
    times = np.column_stack([t_in, t_out]).ravel()
    pts = np.repeat(xy, 2, axis=0)
    keep = np.ones(len(times), dtype=bool)
    keep[1::2] = wait > 0
    times, pts = times[keep], pts[keep]
    if leg.stop_at is None:
        return times, pts, False
    # Stopped on arriving at the barrier: keep the path up to that vertex (first copy).
    n_before = int(np.sum(keep[: 2 * leg.stop_at])) + 1
    return times[:n_before], pts[:n_before], True


def walk(
    scenario: Scenario,
    ground: Ground,
    route: Route,
    profile: ThreatProfile,
    rng: np.random.Generator,
    step_m: float,
) -> tuple[FloatArray, FloatArray, bool]:
    """Times (from 0) and positions along a route with barrier waits; and whether it was stopped."""
    return timed(leg_of(scenario, ground, route, profile, step_m), rng)


def crossing_time(times: FloatArray, xy: FloatArray, scenario: Scenario) -> tuple[float, float]:
    """When (s) and at which chainage (m) a timed route first crosses the line (offset 0)."""
    s, off = scenario.locate(xy[:, 0], xy[:, 1])
    inside = np.flatnonzero(off >= 0)
    if inside.size == 0:
        return math.nan, math.nan
    j = int(inside[0])
    if j == 0:
        return float(times[0]), float(s[0])
    f = off[j - 1] / (off[j - 1] - off[j]) if off[j - 1] != off[j] else 1.0
    return (
        float(times[j - 1] + f * (times[j] - times[j - 1])),
        float(s[j - 1] + f * (s[j] - s[j - 1])),
    )


def preferred_time(
    rng: np.random.Generator,
    horizon_s: float,
    pref: LightPreference,
    lon: float,
    cfg: SimConfig,
) -> float:
    """A moment in [0, horizon) in the preferred light, when there is one within the tries."""
    t = float(rng.uniform(0.0, horizon_s))
    if pref is LightPreference.ANY:
        return t
    want_day = pref is LightPreference.DAY
    for _ in range(cfg.light_tries):
        if bool(is_day(cfg.start, t, lon, cfg.day_start_h, cfg.day_end_h)) == want_day:
            return t
        t = float(rng.uniform(0.0, horizon_s))
    return t


def plan_actors(
    scenario: Scenario,
    ground: Ground,
    hours: float,
    cfg: SimConfig,
    rng: np.random.Generator,
    assessment: Assessment | None = None,
    count: int | None = None,
) -> list[Actor]:
    """The groups of one exercise, in order of their start (ids by that order)."""
    threats = [t for t in scenario.spec.threats if t.share > 0]
    if not threats:
        return []
    horizon = hours * 3600.0
    n = int(rng.poisson(cfg.actors_per_day * hours / 24.0)) if count is None else count
    share = np.array([t.share for t in threats], dtype=float)
    picks = rng.choice(len(threats), size=n, p=share / share.sum())
    roads = road_crossings(scenario)
    made: list[Actor] = []
    for k in range(n):
        profile = threats[int(picks[k])]
        made.append(_one_actor(scenario, ground, profile, roads, horizon, cfg, rng, assessment))
    made.sort(key=lambda a: (a.start_s, a.times_s[-1]))
    for i, a in enumerate(made):
        a.index = i
        a.id = f"actor-{i + 1:04d}"
    return made


def _one_actor(
    scenario: Scenario,
    ground: Ground,
    profile: ThreatProfile,
    roads: list[FloatArray],
    horizon: float,
    cfg: SimConfig,
    rng: np.random.Generator,
    assessment: Assessment | None,
) -> Actor:
    lo, hi = profile.group_size
    size = int(rng.integers(lo, hi + 1))
    if profile.stance is Stance.NUISANCE:
        s0 = float(rng.uniform(0.0, scenario.border.length_m))
        hours = rng.uniform(*cfg.nuisance_hours)
        route = loiter_route(scenario, s0, profile.speed_kmh * 1000.0 * hours, rng, cfg)
        times, xy, _ = walk(scenario, ground, route, profile, rng, cfg.route_step_m)
        lon, _ = scenario.frame.to_lonlat(xy[0, 0], xy[0, 1])
        t0 = preferred_time(rng, horizon, profile.light_preference, float(lon), cfg)
        return Actor("", 0, profile, False, size, route, times + t0, xy)
    light = Light.DAY if profile.light_preference is LightPreference.DAY else Light.NIGHT
    run = plan_run(assessment, profile.mode, light)
    if profile.mode is Mode.VEHICLE and roads and rng.random() < cfg.vehicle_road_share:
        route = road_route(scenario, roads[int(rng.integers(len(roads)))], cfg)
    else:
        s = choose_chainage_m(scenario, km_weights(scenario, profile, run, cfg), rng)
        path = plan_path(run, s) if profile.knowledge.value != "none" else None
        if path is not None:
            route = Route(np.asarray(path.xy, dtype=float), "plan", int(path.start_chainage_km))
        else:
            route = straight_route(scenario, s, rng, cfg)
    times, xy, blocked = walk(scenario, ground, route, profile, rng, cfg.route_step_m)
    t_cross, s_cross = crossing_time(times, xy, scenario)
    lon, _ = scenario.frame.to_lonlat(xy[-1, 0], xy[-1, 1])
    when = preferred_time(rng, horizon, profile.light_preference, float(lon), cfg)
    lead = t_cross if math.isfinite(t_cross) else 0.0
    t0 = max(0.0, when - lead)
    return Actor(
        "",
        0,
        profile,
        True,
        size,
        route,
        times + t0,
        xy,
        blocked=blocked,
        cross_s=t_cross + t0 if math.isfinite(t_cross) else None,
        crossing_chainage_m=s_cross if math.isfinite(s_cross) else None,
        goal_s=None if blocked else float(times[-1] + t0),
    )

"""Where simulated groups go: which km they cross at and the line they follow across the strip.

A crossing route runs from the strip's outer edge to its inner edge (the goal). Where to cross
depends on the threat profile:

- knowledge `none`: any km alike; `partial` / `full`: km weighted by (1 − P)^k from the plan's
  per-km P(interruption) for that mode, k from `SimConfig.knowledge_sharpness` (uniform when no
  assessment is given);
- vehicles: km where a standing barrier blocks vehicles weigh `vehicle_barrier_weight` (nothing
  where it cannot be breached), and a share `vehicle_road_share` of parties drive a road that
  crosses the line;
- humanitarian groups: km near inside towns and crossings (Gaussian, `refugee_spread_km`).

The line followed is the plan's best path for that km when the assessment holds one and the
group knows the ground, else a straight line across with a smooth lateral wander. Nuisance
(herders, animals) never cross: they loiter in a band outside the line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from limes.analysis.result import Assessment, CrossingPath, Run
from limes.scenario.model import Scenario
from limes.scenario.schema import Knowledge, Light, Mode, Stance, ThreatProfile
from limes.sensing.barrier import crossing, standing_interval_km
from limes.sim.config import SimConfig

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Route:
    """A polyline in frame metres, walked from its first vertex; `source` says how it was made.

    `plan_km`: for a plan route, the km whose best path it is (the path may cross the line in a
    neighbouring km, up to the lateral freedom away: the plan's P that belongs to it is this
    km's).
    """

    xy: FloatArray
    source: str  # "straight", "plan", "road", "loiter"
    plan_km: int | None = None


def plan_run(assessment: Assessment | None, mode: Mode, light: Light) -> Run | None:
    """The assessment's run for a mode and light, else any run of that mode, else None."""
    if assessment is None:
        return None
    try:
        return assessment.run(mode, light)
    except KeyError:
        same = [r for r in assessment.runs if r.mode is mode]
        return same[0] if same else None


def km_weights(
    scenario: Scenario,
    profile: ThreatProfile,
    run: Run | None,
    cfg: SimConfig,
) -> FloatArray:
    """Relative weight of each whole km of the line as this profile's crossing place."""
    n = max(1, math.ceil(scenario.length_km - 1e-9))
    w = np.ones(n)
    k = cfg.knowledge_sharpness.get(profile.knowledge, 0.0)
    if run is not None and k > 0 and profile.knowledge is not Knowledge.NONE:
        p = np.full(n, np.nan)
        for km in run.per_km:
            i = int(km.chainage_km)
            if 0 <= i < n:
                p[i] = km.p_interruption
        known = np.isfinite(p)
        if known.any():
            # Km the plan has no figure for get the mean weight: the group has no reason to pick
            # or avoid them.
            wk = (1.0 - np.clip(p[known], 0.0, 1.0)) ** k
            w[known] = wk
            w[~known] = float(wk.mean())
    centres = np.arange(n, dtype=np.float64) + 0.5
    if profile.mode is Mode.VEHICLE:
        w *= vehicle_factor(scenario, centres, cfg)
    if profile.stance is Stance.HUMANITARIAN:
        w *= refugee_factor(scenario, centres, cfg)
    if not (w > 0).any():
        w = np.ones(n)  # nowhere better: any km
    return w


def vehicle_factor(scenario: Scenario, centres_km: FloatArray, cfg: SimConfig) -> FloatArray:
    """How much a vehicle party likes each km: less where a standing barrier blocks vehicles."""
    f = np.ones(len(centres_km))
    for b in scenario.spec.barriers:
        span = standing_interval_km(b)
        if span is None:
            continue
        on = (centres_km >= span[0]) & (centres_km < span[1])
        cr = crossing(b, Mode.VEHICLE)
        if not cr.passable:
            f[on] = 0.0
        elif b.blocks_vehicles:
            f[on] *= cfg.vehicle_barrier_weight
    return f


def refugee_factor(scenario: Scenario, centres_km: FloatArray, cfg: SimConfig) -> FloatArray:
    """Families head for towns and crossings on our side: a Gaussian bump around each."""
    towns = [p for p in scenario.spec.places if p.side == "inside"]
    if not towns:
        return np.ones(len(centres_km))
    x, y = scenario.frame.to_xy(
        np.array([p.lon for p in towns], dtype=float), np.array([p.lat for p in towns], dtype=float)
    )
    s, _ = scenario.locate(x, y)
    sd = cfg.refugee_spread_km
    bumps = np.exp(-0.5 * ((centres_km[:, None] - s[None, :] / 1000.0) / sd) ** 2)
    # A small floor keeps every km possible: families also come where no town is near.
    return np.asarray(bumps.sum(axis=1) + 0.05, dtype=float)


def choose_chainage_m(scenario: Scenario, weights: FloatArray, rng: np.random.Generator) -> float:
    """A chainage (m) drawn by km weight, uniform within the km, inside the line."""
    p = weights / weights.sum()
    km = int(rng.choice(len(p), p=p))
    s = (km + rng.random()) * 1000.0
    return float(min(s, scenario.border.length_m - 1.0))


def plan_path(run: Run | None, chainage_m: float) -> CrossingPath | None:
    """The plan's best path starting in the km of a chainage, when the assessment kept it."""
    if run is None:
        return None
    km = math.floor(chainage_m / 1000.0)
    for p in run.worst_paths:
        if int(p.start_chainage_km) == km and len(p.xy) >= 2:
            return p
    return None


def straight_route(
    scenario: Scenario, chainage_m: float, rng: np.random.Generator, cfg: SimConfig
) -> Route:
    """Outer edge to inner edge at a chainage, wandering sideways (smooth, `wander_sd_m`)."""
    out_m, in_m = scenario.spec.strip.outside_m, scenario.spec.strip.inside_m
    depth = out_m + in_m
    n = max(2, math.ceil(depth / cfg.route_step_m) + 1)
    d = np.linspace(-out_m, in_m, n)
    knots = max(2, math.ceil(depth / cfg.wander_scale_m) + 1)
    kd = np.linspace(-out_m, in_m, knots)
    lateral = np.interp(d, kd, rng.normal(0.0, cfg.wander_sd_m, knots))
    s = np.clip(chainage_m + lateral, 0.0, scenario.border.length_m)
    x, y = scenario.border.point_at(s, d)
    return Route(np.column_stack([x, y]), "straight")


def road_crossings(scenario: Scenario) -> list[FloatArray]:
    """Each road that crosses the line, clipped to the strip, from outside to inside (frame xy)."""
    strip = scenario.strip_polygon()
    out: list[FloatArray] = []
    for road in scenario.spec.roads:
        lon, lat = np.asarray(road.path, dtype=float).T
        x, y = scenario.frame.to_xy(lon, lat)
        line = shapely.LineString(np.column_stack([x, y]))
        if not line.intersects(scenario.border.line):
            continue
        clipped = line.intersection(strip)
        parts = getattr(clipped, "geoms", [clipped])
        for part in parts:
            if part.geom_type != "LineString" or part.length <= 0:
                continue
            if not part.intersects(scenario.border.line):
                continue
            xy = np.asarray(part.coords, dtype=float)
            _, off = scenario.locate(xy[:, 0], xy[:, 1])
            if off[0] > off[-1]:
                xy = xy[::-1]
            out.append(xy)
    return out


def road_route(scenario: Scenario, road_xy: FloatArray, cfg: SimConfig) -> Route:
    """A road across the line, extended straight to the strip's edges where it stops short."""
    out_m, in_m = scenario.spec.strip.outside_m, scenario.spec.strip.inside_m
    s, off = scenario.locate(road_xy[:, 0], road_xy[:, 1])
    head = []
    if off[0] > -out_m + cfg.route_step_m:
        hx, hy = scenario.border.point_at(s[0], -out_m)
        head = [[float(hx), float(hy)]]
    tail = []
    if off[-1] < in_m - cfg.route_step_m:
        tx, ty = scenario.border.point_at(s[-1], in_m)
        tail = [[float(tx), float(ty)]]
    xy = np.concatenate([np.asarray(head).reshape(-1, 2), road_xy, np.asarray(tail).reshape(-1, 2)])
    return Route(densify(xy, cfg.route_step_m), "road")


def loiter_route(
    scenario: Scenario,
    chainage_m: float,
    distance_m: float,
    rng: np.random.Generator,
    cfg: SimConfig,
) -> Route:
    """A grazing walk of `distance_m` in the band `nuisance_band_m` outside the line."""
    near, far = cfg.nuisance_band_m
    out_m = scenario.spec.strip.outside_m
    far = min(far, out_m)
    near = min(near, far)
    s = [chainage_m]
    d = [-rng.uniform(near, far)]
    walked = 0.0
    length = scenario.border.length_m
    while walked < distance_m:
        s.append(float(np.clip(s[-1] + rng.normal(0.0, cfg.wander_scale_m), 0.0, length)))
        d.append(-rng.uniform(near, far))
        walked += math.hypot(s[-1] - s[-2], d[-1] - d[-2])
    x, y = scenario.border.point_at(np.asarray(s), np.asarray(d))
    return Route(densify(np.column_stack([x, y]), cfg.route_step_m), "loiter")


def densify(xy: FloatArray, step_m: float) -> FloatArray:
    """The polyline with extra vertices so no segment is longer than `step_m`."""
    pts = np.asarray(xy, dtype=float)
    if len(pts) < 2:
        return pts
    seg = np.diff(pts, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    keep = lengths > 0
    p0, dv = pts[:-1][keep], seg[keep]
    n = np.maximum(1, np.ceil(lengths[keep] / step_m)).astype(np.intp)
    which = np.repeat(np.arange(len(n)), n)
    # 1 … n over n within each segment, for all segments at once.
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + 1
    t = (k / np.repeat(n, n))[:, None]
    return np.concatenate([pts[:1], p0[which] + t * dv[which]])

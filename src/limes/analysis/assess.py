"""`assess`: where a border's line is weakest, per adversary mode and light, and why.

The pipeline, tile by tile along the line (see docs/assessment.md for every formula):
line of sight → detection hazard → response time → adversary time to goal → timely-detection
cost → best crossing from every start → per-km P(interruption), reasons, and the worst paths
checked by exact EASI and by Monte Carlo.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from limes.analysis.crossings import KmCrossing, km_crossings
from limes.analysis.easi import Easi, PathSteps, easi
from limes.analysis.interruption import Motion, adversary_motion, cost_halves, path_steps
from limes.analysis.monte_carlo import simulate
from limes.analysis.outputs import km_rank_key, rank_stretches, stretches_of
from limes.analysis.response import (
    GroundTravel,
    ResponseField,
    UnitGroup,
    ground_travel,
    response_grid,
    response_on,
    road_mask,
    unit_groups,
)
from limes.analysis.result import Assessment, CrossingPath, KmResult, Raster, Run, Weakness
from limes.analysis.tiles import Tile, make_tile, plan_spans, window_spans
from limes.errors import AnalysisError
from limes.geo.grid import Grid
from limes.geo.terrain import Dem
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode, TargetClassName
from limes.sensing.barrier import barrier_field
from limes.sensing.coverage import Sight, sensor_hazard, sensor_places, visibility
from limes.sensing.detection_law import target_class

FloatArray = NDArray[np.float64]
Progress = Callable[[str, int, int], None]


class AssessError(AnalysisError):
    """An assessment that cannot run as asked (bad resolution, nothing to assess)."""


@dataclass(frozen=True)
class AssessConfig:
    """Knobs of the analysis that are not facts about the border (documented defaults).

    A crossing of a km may stray `lateral_m` of chainage beyond the km's ends (default: the
    scenario's `strip.lateral_m` where the scenario format carries it, else `LATERAL_M`).
    Tiles report `tile_core_km` of chainage each and extend `tile_margin_km` beyond (default:
    the lateral freedom plus 2 km) so the adversary's time to goal near a core's end is not
    cut. Output
    rasters use `output_cell_m` (default max(resolution, 200 m)), the units' travel
    `response_cell_m` (default max(resolution, 500 m): 500 m at 30 km/h is a minute, well
    inside the readiness spreads). A km is *held* when its P(interruption)
    reaches `held_at`; otherwise *not seen* when its path's P(detect) is under `seen_at`, *too
    fast to stop* when no point of the path gives a detection a `timely_at` chance of being in
    time, else *seen too late*. The `worst_paths` weakest km get Monte Carlo checks of
    `mc_samples` crossings each.
    """

    lateral_m: float | None = None
    tile_core_km: int = 30
    tile_margin_km: float | None = None
    output_cell_m: float | None = None
    response_cell_m: float | None = None
    worst_paths: int = 10
    mc_samples: int = 200_000
    seed: int = 0
    held_at: float = 0.8
    seen_at: float = 0.5
    timely_at: float = 0.5


# How far (m of chainage) a crossing of one km may stray beyond its ends, unless the scenario
# says: enough to walk round a tower's blind spot or a barrier's end nearby, not enough to turn
# every km's figure into the weakest km's of its neighbourhood. See docs/assessment.md.
LATERAL_M = 1000.0


def lateral_freedom(scenario: Scenario, config: AssessConfig | None = None) -> float:
    """Metres of chainage a crossing of one km may stray beyond it (config, scenario, default)."""
    # The scenario format may carry `strip.lateral_m` (a fact about the threat on this border);
    # the analysis' own knob, when given, overrides it for a what-if.
    from_scenario = getattr(scenario.spec.strip, "lateral_m", None)
    if config is not None and config.lateral_m is not None:
        value = float(config.lateral_m)
    elif from_scenario is not None:
        value = float(from_scenario)
    else:
        value = LATERAL_M
    if not (value >= 0 and math.isfinite(value)):
        raise AssessError(f"lateral_m must be a non-negative number of metres, got {value}")
    return value


def tile_margin_m(scenario: Scenario, config: AssessConfig | None = None) -> float:
    """How far each tile extends beyond its core: at least the lateral freedom."""
    lateral = lateral_freedom(scenario, config)
    if config is not None and config.tile_margin_km is not None:
        return max(config.tile_margin_km * 1000.0, lateral)
    # 2 km of slack so the fastest way to the goal from a window's end is not cut by the tile's.
    return lateral + 2000.0


@dataclass
class _Stopwatch:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


@dataclass
class _Candidate:
    """A km's best path, kept until the worst are chosen for the Monte Carlo check."""

    km: KmResult
    mode: Mode
    light: Light
    xy: FloatArray
    at_centre: FloatArray
    steps: PathSteps
    check: Easi


@dataclass
class _Layers:
    """Running sums of one raster's values on the output grid (mean of the cells in each)."""

    grid: Grid
    sums: dict[str, FloatArray] = field(default_factory=dict)
    count: FloatArray | None = None

    def add(self, name: str, flat: NDArray[np.intp], values: FloatArray) -> None:
        n = self.grid.width * self.grid.height
        acc = self.sums.setdefault(name, np.zeros(n))
        acc += np.bincount(flat, weights=values, minlength=n)

    def count_cells(self, flat: NDArray[np.intp]) -> None:
        n = self.grid.width * self.grid.height
        if self.count is None:
            self.count = np.zeros(n)
        self.count += np.bincount(flat, minlength=n)

    def raster(self, name: str, key: str, units: str) -> Raster:
        assert self.count is not None
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.count > 0, self.sums[key] / self.count, np.nan)
        return Raster(name, units, self.grid, mean.reshape(self.grid.shape).astype(np.float32))


def assess(
    scenario: Scenario,
    modes: Sequence[Mode] = (Mode.FOOT,),
    lights: Sequence[Light] = (Light.NIGHT,),
    resolution_m: float = 50.0,
    progress: Progress | None = None,
    *,
    output_cell_m: float | None = None,
    config: AssessConfig | None = None,
    terrain: Dem | None = None,
    sight: Sight | None = None,
    window_km: tuple[float, float] | None = None,
    travel: tuple[list[UnitGroup], GroundTravel] | None = None,
) -> Assessment:
    """Assess a border: per-km P(interruption) and its reason, worst paths, raster layers.

    `progress(stage, done, total)` is called as the work advances. `terrain` overrides the
    scenario's (tests), `sight` the line-of-sight kernel. `window_km` limits the per-km results
    to the whole km of a chainage interval (a what-if that can only act there; the tiles still
    extend their margins beyond it); `travel` reuses the units' ground travel of an earlier
    assessment whose units were the same (`ground_response`).
    """
    cfg = config or AssessConfig()
    if not (resolution_m > 0 and math.isfinite(resolution_m)):
        raise AssessError(f"resolution_m must be a positive number of metres, got {resolution_m}")
    if not modes or not lights:
        raise AssessError("give at least one adversary mode and one light")
    modes = list(dict.fromkeys(Mode(m) for m in modes))
    lights = list(dict.fromkeys(Light(li) for li in lights))
    report = progress or (lambda stage, done, total: None)
    clock = _Stopwatch()
    spec = scenario.spec
    out_m, in_m = spec.strip.outside_m, spec.strip.inside_m
    out_cell = output_cell_m or cfg.output_cell_m or max(resolution_m, 200.0)

    with clock.stage("terrain"):
        ground = terrain if terrain is not None else scenario.terrain()

    lateral = lateral_freedom(scenario, cfg)
    with clock.stage("tiles"):
        core = max(1, int(cfg.tile_core_km)) * 1000.0
        margin = tile_margin_m(scenario, cfg)
        if window_km is None:
            spans = plan_spans(scenario.border.length_m, core, margin)
        else:
            spans = window_spans(
                scenario.border.length_m, core, margin, window_km[0] * 1e3, window_km[1] * 1e3
            )
        tiles: list[Tile] = []
        elevations: list[NDArray[np.float32]] = []
        for i, (c, s) in enumerate(spans):
            t = make_tile(i, scenario.border, c, s, out_m, in_m, resolution_m)
            tiles.append(t)
            elevations.append(ground.resample(t.grid).elevation)
            report("tiles", i + 1, len(spans))
        cells = int(sum(int(t.in_strip.sum()) for t in tiles))

    with clock.stage("response"):
        alert = spec.response.alert_handling
        groups, units_travel = travel or ground_response(scenario, resolution_m, cfg)
        responses: list[ResponseField] = []
        for i, t in enumerate(tiles):
            x, y = t.grid.cell_centres()
            responses.append(response_on(scenario, groups, units_travel, x, y, alert.mean_s))
            report("response", i + 1, len(tiles))

    with clock.stage("line of sight"):
        classes = list(dict.fromkeys(target_class(m) for m in modes))
        hazards = _hazards(scenario, ground, tiles, classes, lights, resolution_m, sight, report)

    layers = _Layers(_output_grid(scenario, out_cell))
    runs: list[Run] = []
    candidates: list[_Candidate] = []
    per_run_km: dict[tuple[Mode, Light], list[KmResult]] = {
        (m, li): [] for m in modes for li in lights
    }
    total = len(tiles) * len(modes)
    done = 0
    with clock.stage("crossings"):
        for t_i, tile in enumerate(tiles):
            core_cells = (
                tile.in_strip
                & (tile.chainage_m >= tile.core_m[0])
                & (
                    tile.chainage_m < tile.core_m[1]
                    if tile.core_m[1] < scenario.border.length_m - 1e-6
                    else True
                )
            )
            flat_out = _output_index(layers.grid, tile, core_cells)
            layers.count_cells(flat_out)
            resp = responses[t_i]
            layers.add("response_time_s", flat_out, resp.fastest()[core_cells])
            for mode in modes:
                cls = target_class(mode)
                bars = barrier_field(tile.grid, scenario.border, spec.barriers, mode)
                roads = (
                    road_mask(scenario, tile.grid)
                    if mode is Mode.VEHICLE
                    else np.zeros(tile.grid.shape, dtype=bool)
                )
                motion = adversary_motion(
                    tile, elevations[t_i], bars, roads, mode, spec.movement, out_m, in_m
                )
                layers.add(f"ttg/{mode.value}", flat_out, motion.time_to_goal_s[core_cells])
                for light in lights:
                    hz = hazards[t_i, cls, light]
                    found = km_crossings(
                        tile,
                        motion.start,
                        motion.goal,
                        cost_halves(motion, hz, resp),
                        lateral,
                        scenario.border.length_m,
                    )
                    key = f"{mode.value}/{light.value}"
                    layers.add(f"hazard/{key}", flat_out, hz[core_cells])
                    layers.add(f"p/{key}", flat_out, -np.expm1(-found.cost[core_cells]))
                    for cand in _per_km(
                        scenario, tile, motion, hz, resp, found.per_km, core_cells, cfg
                    ):
                        cand.mode, cand.light = mode, light
                        per_run_km[mode, light].append(cand.km)
                        candidates.append(cand)
                done += 1
                report("crossings", done, total)

    with clock.stage("paths"):
        for mode in modes:
            for light in lights:
                key = f"{mode.value}/{light.value}"
                mine = [c for c in candidates if c.mode is mode and c.light is light]
                chosen = paths_that_matter(mine, cfg.worst_paths, scenario.length_km)
                worst = [_crossing_path(scenario, c, cfg, k) for k, c in enumerate(chosen)]
                rasters = {
                    "hazard": layers.raster("hazard", f"hazard/{key}", "per s"),
                    "response_time_s": layers.raster("response_time_s", "response_time_s", "s"),
                    "time_to_goal_s": layers.raster("time_to_goal_s", f"ttg/{mode.value}", "s"),
                    "p_interruption": layers.raster("p_interruption", f"p/{key}", "probability"),
                }
                km = sorted(per_run_km[mode, light], key=lambda k: k.chainage_km)
                runs.append(Run(mode, light, km, worst, rasters))
                report("paths", len(runs), len(modes) * len(lights))

    timings = dict(clock.seconds)
    timings["total"] = sum(clock.seconds.values())
    return Assessment(scenario.name, resolution_m, runs, timings, out_cell, cells)


def ground_response(
    scenario: Scenario, resolution_m: float, config: AssessConfig | None = None
) -> tuple[list[UnitGroup], GroundTravel]:
    """The units' groups and their ground travel, as `assess` computes them (reusable)."""
    cfg = config or AssessConfig()
    groups = unit_groups(scenario.spec.units, scenario.spec.response.alert_handling.sd_s)
    rgrid = response_grid(scenario, cfg.response_cell_m or max(resolution_m, 500.0))
    return groups, ground_travel(scenario, groups, rgrid, road_mask(scenario, rgrid))


def _hazards(
    scenario: Scenario,
    ground: Dem,
    tiles: Sequence[Tile],
    classes: Sequence[TargetClassName],
    lights: Sequence[Light],
    cell_m: float,
    sight: Sight | None,
    report: Progress,
) -> dict[tuple[int, TargetClassName, Light], FloatArray]:
    """Detection hazard per tile, class and light: one line of sight per sensor and class."""
    out = {
        (t.index, c, li): np.zeros(t.grid.shape) for t in tiles for c in classes for li in lights
    }
    strip_xy = []
    for t in tiles:
        x, y = t.grid.cell_centres()
        idx = np.flatnonzero(t.in_strip)
        strip_xy.append((idx, x.ravel()[idx], y.ravel()[idx], t.grid.bounds()))
    places = sensor_places(scenario)
    heights = scenario.spec.response.target_heights_m
    for n, place in enumerate(places):
        for cls in classes:
            reach = place.reach_m(cls, lights)
            if reach <= 0:
                continue
            if cls not in heights:
                raise AssessError(f"response.target_heights_m gives no height for {cls.value!r}")
            near = [
                (t, sx)
                for t, sx in zip(tiles, strip_xy, strict=True)
                if _disc_meets(place.x, place.y, reach, sx[3])
            ]
            if not near:
                continue
            vis = visibility(
                ground,
                place,
                heights[cls],
                reach,
                cell_m,
                scenario.spec.response.refraction_k,
                sight,
            )
            for t, (idx, xs, ys, _) in near:
                box = (np.abs(xs - place.x) <= reach) & (np.abs(ys - place.y) <= reach)
                if not box.any():
                    continue
                for li in lights:
                    law = place.laws.get((cls, li))
                    if law is None:
                        continue
                    h = sensor_hazard(place, law, vis, xs[box], ys[box])
                    out[t.index, cls, li].ravel()[idx[box]] += h
        report("line of sight", n + 1, len(places))
    return out


def _disc_meets(x: float, y: float, r: float, bounds: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = bounds
    return x0 - r <= x <= x1 + r and y0 - r <= y <= y1 + r


def _output_grid(scenario: Scenario, cell_m: float) -> Grid:
    """A north-up grid over the strip whose cell edges fall on multiples of the cell size."""
    x0, y0, x1, y1 = scenario.strip_polygon().bounds
    x0, y0 = math.floor(x0 / cell_m) * cell_m, math.floor(y0 / cell_m) * cell_m
    x1, y1 = math.ceil(x1 / cell_m) * cell_m, math.ceil(y1 / cell_m) * cell_m
    return Grid.north_up(x0, y0, x1, y1, cell_m)


def _output_index(grid: Grid, tile: Tile, cells: NDArray[np.bool_]) -> NDArray[np.intp]:
    x, y = tile.grid.cell_centres()
    r, c = grid.rowcol(x[cells], y[cells])
    ri = np.clip(np.floor(r).astype(np.intp), 0, grid.height - 1)
    ci = np.clip(np.floor(c).astype(np.intp), 0, grid.width - 1)
    return ri * grid.width + ci


def _per_km(
    scenario: Scenario,
    tile: Tile,
    motion: Motion,
    hazard: FloatArray,
    resp: ResponseField,
    found: Sequence[KmCrossing],
    core_cells: NDArray[np.bool_],
    cfg: AssessConfig,
) -> Iterable[_Candidate]:
    """Each km's weakest crossing as a result: its path, its EASI check and its reason."""
    km_of = np.floor(tile.chainage_m / 1000.0).astype(np.int64)
    strip = np.flatnonzero(core_cells.ravel())
    seen = np.bincount(km_of.ravel()[strip], weights=(hazard.ravel()[strip] > 0), minlength=1)
    all_ = np.bincount(km_of.ravel()[strip], minlength=1)
    x, y = tile.grid.cell_centres()
    w = tile.grid.width
    for kc in found:
        k, path = kc.km, kc.path
        steps, at_centre = path_steps(path, w, motion, hazard, resp.means, resp.sds)
        check = easi(steps)
        p_field = float(-np.expm1(-kc.cost))
        p_det = float(1.0 - np.prod(1.0 - steps.p_detect))
        reason = _reason(p_field, p_det, check, cfg)
        first_det = steps.p_detect * np.concatenate([[1.0], np.cumprod(1.0 - steps.p_detect)[:-1]])
        at = int(np.argmax(first_det)) if p_det > 0 else int(np.argmin(check.response_mean_s))
        ch_km = min(k + 0.5, scenario.length_km)
        kmr = KmResult(
            chainage_km=float(k),
            p_interruption=p_field,
            sector=scenario.sector_at(ch_km).name,
            reason=reason,
            p_detection=p_det,
            coverage=float(seen[k] / all_[k]) if k < len(all_) and all_[k] else 0.0,
            p_easi=check.p_interruption,
            crossing_time_s=float(at_centre[-1]),
            response_time_s=float(check.response_mean_s[at]) if len(path) else None,
        )
        xy = np.column_stack([x.ravel()[path], y.ravel()[path]])
        yield _Candidate(kmr, Mode.FOOT, Light.NIGHT, xy, at_centre, steps, check)


# A path whose exact P is below this checks nothing by Monte Carlo: both sides are ~0.
NONTRIVIAL_P = 0.01


def paths_that_matter(cands: Sequence[_Candidate], n: int, length_km: float) -> list[_Candidate]:
    """The km paths to report and check: the weakest of each costliest stretch, then the
    weakest km where interruption is possible at all.

    Half of the `n` (at least one) go to the weak stretches, costliest first (their weakest
    km: lowest P, then the smallest time margin); the rest to the km with the lowest exact P
    of at least `NONTRIVIAL_P`, where the Monte Carlo check can disagree; any left over to the
    weakest remaining km. Ties at P = 0 never pick by chainage.
    """
    if n <= 0 or not cands:
        return []
    by_km = {c.km.chainage_km: c for c in cands}
    ranked = rank_stretches(stretches_of([c.km for c in cands], length_km))
    chosen: dict[float, _Candidate] = {}
    for st in ranked[: max(1, n // 2)]:
        k = st.weakest().chainage_km
        chosen[k] = by_km[k]
    rest = sorted(
        (c for c in cands if c.km.chainage_km not in chosen),
        key=lambda c: km_rank_key(c.km),
    )
    live = [c for c in rest if c.check.p_interruption >= NONTRIVIAL_P]
    live.sort(key=lambda c: (c.check.p_interruption, c.km.chainage_km))
    for c in [*live, *rest]:
        if len(chosen) >= n:
            break
        chosen.setdefault(c.km.chainage_km, c)
    return list(chosen.values())


def _reason(p: float, p_detect: float, check: Easi, cfg: AssessConfig) -> Weakness:
    if p >= cfg.held_at:
        return Weakness.HELD
    if p_detect < cfg.seen_at:
        return Weakness.NOT_SEEN
    if check.p_timely.size == 0 or float(check.p_timely.max()) < cfg.timely_at:
        return Weakness.TOO_FAST_TO_STOP
    return Weakness.SEEN_TOO_LATE


def _crossing_path(scenario: Scenario, c: _Candidate, cfg: AssessConfig, k: int) -> CrossingPath:
    mc = simulate(
        c.steps, cfg.mc_samples, cfg.seed + k, c.check.response_mean_s, c.check.response_sd_s
    )
    lon, lat = scenario.frame.to_lonlat(c.xy[:, 0], c.xy[:, 1])
    return CrossingPath(
        start_chainage_km=c.km.chainage_km,
        xy=c.xy,
        lonlat=np.column_stack([lon, lat]),
        time_s=c.at_centre,
        p_detect=c.steps.p_detect,
        p_timely=c.check.p_timely,
        p_interruption=c.check.p_interruption,
        critical_index=c.check.critical_index,
        p_monte_carlo=mc.p_interruption,
        mc_interval=(mc.low, mc.high),
        step_time_s=c.steps.time_s,
        delay_sd_s=c.steps.delay_sd_s,
        response_mean_s=c.check.response_mean_s,
        response_sd_s=c.check.response_sd_s,
        p_detection=c.km.p_detection,
    )

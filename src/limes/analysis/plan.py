"""`limes plan`: what to buy with a budget, where, and in which order.

A *catalogue* (YAML) lists what can be bought and at what cost: sensor models (towers,
cameras, ground-sensor strings), barriers by the km (trench, berm, fence, …) and response
bases with their unit. Candidate sites come from the terrain and the line, or are given:

- sensors: every `sensor_spacing_km` along the line, at each of `sensor_offsets_m` inside, the
  site whose line of sight covers most of the strip within its range (high ground near the
  line, judged by its viewshed over the strip), facing the line when its view is narrow;
- barriers: a section of `section_km` starting at every km of the line;
- bases: where roads meet (road junctions within `base_within_km` of the line);
- or, for any item, `sites:` given as lon/lat or chainage/offset.

The objective is computed from per-km P(interruption) of the planning runs (modes × lights,
each weighted by the scenario's threat profiles, see `run_weights`):

- `min`: the minimum per-km P, optimised through its smooth stand-in, the mean of the lowest
  tenth of the km (a single minimum does not move until the last gap closes, so a greedy step
  could not see progress); the true minimum is reported beside it;
- `above`: km with P at or above `threshold`;
- `expected`: threat-weighted expected interruptions, Σ_runs w · Σ_km P (one attempt per km).

Each candidate's effect is computed only on the km it can reach (`reach_km`): the assessment
is run over that chainage window alone, with the units' ground travel reused when the units
did not change. The package is then verified by a full assessment, which gives
`objective_after`; the report compares the scenario with the package against the scenario
without it (`limes assess --compare`'s report).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from limes.analysis.assess import AssessConfig, AssessError, assess, ground_response
from limes.analysis.response import GroundTravel, UnitGroup
from limes.analysis.result import Assessment
from limes.analysis.siting import Package, lazy_greedy, multi_start, swap_improve
from limes.scenario.errors import Problem, ScenarioError
from limes.scenario.model import Scenario
from limes.scenario.schema import (
    Barrier,
    BarrierKind,
    Light,
    LightPreference,
    Mode,
    Position,
    Sensor,
    SensorModel,
    Spread,
    Unit,
    UnitKind,
)
from limes.scenario.schema import Speeds as UnitSpeeds
from limes.scenario.warnings import bearing_to_line_deg, longest_range_m
from limes.sensing.coverage import sensor_places, visibility
from limes.sensing.line_of_sight import LineOfSightError

Progress = Callable[[str, int, int], None]


# With few candidates (a sector's given sites) greedy is restarted from the best few single
# items; on a whole border the restarts would multiply the run time for little.
MULTI_START_BELOW = 40
MULTI_STARTS = 5


class PlanError(AssessError):
    """A plan that cannot run as asked (bad catalogue, budget, objective)."""


# --- the catalogue ------------------------------------------------------------------------------


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(_M):
    """A given site: lon/lat or chainage/offset (as a scenario Position)."""

    lon: float | None = None
    lat: float | None = None
    chainage_km: float | None = None
    offset_m: float | None = None


class SensorItem(_M):
    kind: Literal["sensor"]
    model: str = Field(description="a sensor model of the scenario, or the name of `sensor_model`")
    cost: float = Field(gt=0)
    sensor_model: SensorModel | None = Field(default=None, description="defined here if new")
    mast_height_m: float | None = None
    fov_deg: float | None = None
    chain: int = Field(
        default=1, ge=1, description="bought as a chain of this many, `chain_spacing_km` apart"
    )
    chain_spacing_km: float = Field(default=4.0, gt=0)
    sites: list[Site] = Field(default_factory=list)


class BarrierItem(_M):
    kind: Literal["barrier"]
    model: str
    cost_per_km: float = Field(gt=0)
    section_km: float = Field(default=5.0, gt=0)
    barrier_kind: BarrierKind
    offset_m: float = 300.0
    delay: dict[Mode, Spread]
    blocks_vehicles: bool = False
    breach: Spread | None = None
    sites: list[Site] = Field(default_factory=list, description="section starts (chainage_km)")


class BaseItem(_M):
    kind: Literal["base"]
    model: str
    cost: float = Field(gt=0)
    unit_kind: UnitKind = UnitKind.QRF
    readiness: Spread
    speeds: UnitSpeeds
    strength: int = 30
    sites: list[Site] = Field(default_factory=list)


class Candidates(_M):
    """How candidate sites are generated from the terrain and the line."""

    sensor_spacing_km: float = Field(default=4.0, gt=0)
    sensor_offsets_m: list[float] = Field(default_factory=lambda: [500.0, 1500.0, 3000.0])
    base_within_km: float = Field(default=30.0, gt=0)
    barrier_step_km: float = Field(
        default=1.0, gt=0, description="a barrier section may start every this many km"
    )


class Objective(_M):
    kind: Literal["min", "above", "expected"] = "expected"
    threshold: float = Field(default=0.5, ge=0, le=1)


class Catalogue(_M):
    """What can be bought, how candidates are found, and what counts as better."""

    currency: str = "USD"
    items: list[SensorItem | BarrierItem | BaseItem] = Field(min_length=1)
    candidates: Candidates = Candidates()
    objective: Objective = Objective()
    modes: list[Mode] = Field(default_factory=lambda: [Mode.FOOT])
    lights: list[Light] = Field(default_factory=lambda: [Light.NIGHT])


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and validate a catalogue YAML; errors name the field path."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"--catalogue: cannot read {p}: {exc}") from None
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(x) for x in e["loc"]), e["msg"], e.get("input"), None, str(p))
            for e in exc.errors(include_url=False)
        ]
        raise ScenarioError(problems) from None


# --- candidates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One thing at one site: what it adds to the scenario, its cost and the km it can reach."""

    key: str
    kind: str
    model: str
    cost: float
    lon: float
    lat: float
    reach_km: tuple[float, float]
    sensor: Sensor | None = None
    chain: tuple[Sensor, ...] = ()  # the rest of a chain of sensors, after `sensor`
    sensor_model: SensorModel | None = None
    barrier: Barrier | None = None
    unit: Unit | None = None


def _position(sc: Scenario, site: Site) -> Position:
    if site.lon is not None and site.lat is not None:
        return Position(lon=site.lon, lat=site.lat)
    if site.chainage_km is None:
        raise PlanError("a site needs lon/lat or chainage_km")
    return Position(chainage_km=site.chainage_km, offset_m=site.offset_m or 0.0)


def candidate_options(
    sc: Scenario, cat: Catalogue, resolution_m: float, lateral_km: float
) -> list[Option]:
    """Every (item, site) the search may buy."""
    out: list[Option] = []
    for n, item in enumerate(cat.items):
        if isinstance(item, SensorItem):
            out += _sensor_options(sc, cat, item, n, resolution_m, lateral_km)
        elif isinstance(item, BarrierItem):
            out += _barrier_options(sc, item, n, lateral_km, cat.candidates.barrier_step_km)
        else:
            out += _base_options(sc, cat, item, n)
    return out


def _model_of(sc: Scenario, item: SensorItem) -> SensorModel:
    if item.sensor_model is not None:
        return item.sensor_model
    if item.model not in sc.sensor_models:
        known = ", ".join(sorted(sc.sensor_models))
        raise PlanError(f"catalogue sensor model {item.model!r} is not in the scenario ({known})")
    return sc.sensor_models[item.model]


def _sensor_options(
    sc: Scenario, cat: Catalogue, item: SensorItem, n: int, res: float, lateral_km: float
) -> list[Option]:
    model = _model_of(sc, item)
    probe = sc
    if item.sensor_model is not None and item.sensor_model.name not in sc.sensor_models:
        probe = with_additions(sc, [], [], [], [item.sensor_model])
    fov = item.fov_deg or model.fov_deg
    given = [_position(sc, s) for s in item.sites]
    if given:
        groups = [[p] for p in given]
    else:
        step = cat.candidates.sensor_spacing_km
        groups = [
            [Position(chainage_km=float(c), offset_m=o) for o in cat.candidates.sensor_offsets_m]
            for c in np.arange(step / 2, sc.length_km, step)
        ]
    out = []
    for g, options in enumerate(groups):
        best: tuple[float, Sensor] | None = None
        for i, pos in enumerate(options):
            s = Sensor(
                id=f"plan-{n}-{g}-{i}",
                model=model.name,
                position=pos,
                mast_height_m=item.mast_height_m,
                fov_deg=item.fov_deg,
            )
            if fov < 360:
                s = s.model_copy(update={"heading_deg": bearing_to_line_deg(probe, s)})
            score = _strip_seen(probe, s, res) if len(options) > 1 else 0.0
            if best is None or score > best[0]:
                best = (score, s)
        assert best is not None
        s = best[1].model_copy(update={"id": f"plan-{item.model}-{g}".replace(" ", "-")})
        x, y = probe.position_xy(s.position)
        ch, _ = sc.locate(x, y)
        r = longest_range_m(probe, s) / 1000.0 + lateral_km
        lon, lat = sc.frame.to_lonlat(x, y)
        # A chain: the same offset repeated along the line from the chosen site.
        links = []
        off = float(sc.locate(x, y)[1])
        for j in range(1, item.chain):
            c = float(ch) / 1e3 + j * item.chain_spacing_km
            if c > sc.length_km:
                break
            link = s.model_copy(
                update={"id": f"{s.id}-{j}", "position": Position(chainage_km=c, offset_m=off)}
            )
            if fov < 360:
                link = link.model_copy(update={"heading_deg": bearing_to_line_deg(probe, link)})
            links.append(link)
        end = float(ch) / 1e3 + len(links) * item.chain_spacing_km
        out.append(
            Option(
                s.id,
                "sensor",
                item.model,
                item.cost * (1 + len(links)),
                float(lon),
                float(lat),
                (max(0.0, float(ch) / 1e3 - r), min(sc.length_km, end + r)),
                sensor=s,
                chain=tuple(links),
                sensor_model=item.sensor_model,
            )
        )
    return out


def _strip_seen(sc: Scenario, s: Sensor, res: float) -> float:
    """Area (km²) of the approach (the strip outside the line, and the line) a sensor at a
    site has line of sight to within its range: the "high ground" score that picks among the
    offsets at one chainage."""
    probe = with_additions(sc, [s], [], [], [])
    place = next(p for p in sensor_places(probe) if p.id == s.id)
    reach = longest_range_m(probe, s)
    if reach <= 0:
        return 0.0
    cell = max(res, 100.0)
    try:
        vis = visibility(probe.terrain(), place, 1.7, reach, cell, probe.spec.response.refraction_k)
    except LineOfSightError:
        return 0.0  # the terrain model ends within its reach: no basis to prefer the site
    xs, ys = vis.grid.cell_centres()
    seen = vis.visible & shapely.contains_xy(probe.strip_polygon(), xs, ys)
    seen &= np.hypot(xs - place.x, ys - place.y) <= reach
    # The approach counts: the outer half of the strip and the line itself, where a detection
    # still leaves the adversary the inner half to cross while a unit comes.
    _, off = probe.locate(xs[seen], ys[seen])
    return float((off <= cell).sum()) * cell * cell / 1e6


def _barrier_options(
    sc: Scenario, item: BarrierItem, n: int, lateral_km: float, step_km: float = 1.0
) -> list[Option]:
    last = max(0.0, sc.length_km - item.section_km)
    starts = (
        [float(s.chainage_km or 0.0) for s in item.sites]
        if item.sites
        else [float(k) for k in np.arange(0.0, last + 1e-9, step_km)]
    )
    out = []
    for a in starts:
        b = min(a + item.section_km, sc.length_km)
        if b <= a:
            continue
        bar = Barrier(
            id=f"plan-{item.model}-{a:g}".replace(" ", "-"),
            kind=item.barrier_kind,
            from_km=a,
            to_km=b,
            offset_m=item.offset_m,
            delay=item.delay,
            blocks_vehicles=item.blocks_vehicles,
            breach=item.breach,
        )
        lon, lat = sc.frame.to_lonlat(*sc.border.point_at(0.5 * (a + b) * 1e3, item.offset_m))
        out.append(
            Option(
                bar.id,
                "barrier",
                item.model,
                item.cost_per_km * (b - a),
                float(lon),
                float(lat),
                (max(0.0, a - lateral_km), min(sc.length_km, b + lateral_km)),
                barrier=bar,
            )
        )
    return out


def road_junctions(sc: Scenario, within_km: float) -> list[tuple[float, float]]:
    """Frame x/y where two of the scenario's roads meet, within `within_km` of the line."""
    lines = [
        shapely.LineString(np.column_stack(sc.frame.to_xy(*np.asarray(r.path, float).T)))
        for r in sc.spec.roads
    ]
    pts: list[tuple[float, float]] = []
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            hit = lines[i].intersection(lines[j])
            for g in getattr(hit, "geoms", [hit]):
                if g.is_empty or g.geom_type != "Point":
                    continue
                if sc.border.line.distance(g) <= within_km * 1000.0:
                    pts.append((g.x, g.y))
    return pts


def _base_options(sc: Scenario, cat: Catalogue, item: BaseItem, n: int) -> list[Option]:
    if item.sites:
        xy = [sc.position_xy(_position(sc, s)) for s in item.sites]
    else:
        xy = road_junctions(sc, cat.candidates.base_within_km)
    out = []
    # A base acts on the km its unit can reach within the hour (at its best speed).
    best_kmh = max(
        v for v in (item.speeds.road_kmh, item.speeds.off_road_kmh, item.speeds.air_kmh) if v
    )
    reach = max(10.0, best_kmh * max(0.25, 1.0 - item.readiness.mean_s / 3600.0))
    for i, (x, y) in enumerate(xy):
        lon, lat = sc.frame.to_lonlat(x, y)
        u = Unit(
            id=f"plan-{item.model}-{i}".replace(" ", "-"),
            kind=item.unit_kind,
            base=Position(lon=float(lon), lat=float(lat)),
            readiness=item.readiness,
            speeds=item.speeds,
            strength=item.strength,
        )
        ch, _ = sc.locate(x, y)
        out.append(
            Option(
                u.id,
                "base",
                item.model,
                item.cost,
                float(lon),
                float(lat),
                (max(0.0, float(ch) / 1e3 - reach), min(sc.length_km, float(ch) / 1e3 + reach)),
                unit=u,
            )
        )
    return out


# --- the scenario with additions ----------------------------------------------------------------


def with_additions(
    sc: Scenario,
    sensors: Sequence[Sensor],
    barriers: Sequence[Barrier],
    units: Sequence[Unit],
    models: Sequence[SensorModel],
) -> Scenario:
    """The scenario with things added, same frame, line and terrain (nothing rebuilt)."""
    spec = sc.spec.model_copy(
        update={
            "sensors": [*sc.spec.sensors, *sensors],
            "barriers": [*sc.spec.barriers, *barriers],
            "units": [*sc.spec.units, *units],
            "sensor_models": [
                *sc.spec.sensor_models,
                *(m for m in models if m.name not in sc.sensor_models),
            ],
        }
    )
    out = Scenario(
        spec=spec, frame=sc.frame, border=sc.border, base_dir=sc.base_dir, source=sc.source
    )
    out._terrain = sc.terrain()
    return out


def with_terrain_for(sc: Scenario, options: Sequence[Option]) -> Scenario:
    """The scenario with its terrain built over every candidate's reach as well.

    The terrain covers what the scenario's own sensors see; a candidate farther out would run
    its line of sight off it. The grid stays on whole cells of the same size, so the cells the
    scenario already had keep their elevation and the base assessment does not change.
    """
    every = apply(sc, options)
    wide = Scenario(
        spec=every.spec, frame=sc.frame, border=sc.border, base_dir=sc.base_dir, source=sc.source
    )
    out = Scenario(
        spec=sc.spec, frame=sc.frame, border=sc.border, base_dir=sc.base_dir, source=sc.source
    )
    out._terrain = wide.terrain()
    return out


def apply(sc: Scenario, options: Sequence[Option]) -> Scenario:
    """The scenario with a package of options added."""
    models = {o.sensor_model.name: o.sensor_model for o in options if o.sensor_model}
    return with_additions(
        sc,
        [x for o in options for x in ((o.sensor, *o.chain) if o.sensor else ())],
        [o.barrier for o in options if o.barrier],
        [o.unit for o in options if o.unit],
        list(models.values()),
    )


# --- the objective ------------------------------------------------------------------------------

Runs = dict[tuple[Mode, Light], np.ndarray]


def run_weights(
    sc: Scenario, modes: Sequence[Mode], lights: Sequence[Light]
) -> dict[tuple[Mode, Light], float]:
    """Weight of each run: the threat profiles' shares by mode and light preference (an
    `any` profile counts half by day, half by night), normalised over the runs planned; equal
    weights when the scenario names no threats of these modes."""
    w = {(m, li): 0.0 for m in modes for li in lights}
    for t in sc.spec.threats:
        pref = {LightPreference.DAY: [Light.DAY], LightPreference.NIGHT: [Light.NIGHT]}.get(
            t.light_preference, [Light.DAY, Light.NIGHT]
        )
        for li in pref:
            if (t.mode, li) in w:
                w[t.mode, li] += t.share / len(pref)
    total = sum(w.values())
    if total <= 0:
        return {k: 1.0 / len(w) for k in w}
    return {k: v / total for k, v in w.items()}


def objective_value(runs: Runs, weights: dict[tuple[Mode, Light], float], obj: Objective) -> float:
    """The objective of per-km P arrays (see the module docstring)."""
    total = 0.0
    for key, p in runs.items():
        if obj.kind == "min":
            k = max(1, math.ceil(0.1 * p.size))
            v = float(np.sort(p)[:k].mean())
        elif obj.kind == "above":
            v = float((p >= obj.threshold).sum())
        else:
            v = float(p.sum())
        total += weights[key] * v
    return total


def true_min(runs: Runs) -> float:
    return min(float(p.min()) for p in runs.values())


def per_km(a: Assessment) -> Runs:
    """Per-km P arrays of an assessment, indexed by whole km."""
    out: Runs = {}
    for r in a.runs:
        n = max(int(k.chainage_km) for k in r.per_km) + 1
        arr = np.zeros(n)
        for k in r.per_km:
            arr[int(k.chainage_km)] = k.p_interruption
        out[r.mode, r.light] = arr
    return out


@dataclass
class _State:
    chosen: tuple[Option, ...]
    runs: Runs


@dataclass
class WindowOracle:
    """The objective of a package, each candidate assessed only on the km it can reach."""

    scenario: Scenario
    cat: Catalogue
    resolution_m: float
    base_runs: Runs
    weights: dict[tuple[Mode, Light], float]
    config: AssessConfig
    travel: dict[tuple[str, ...], tuple[list[UnitGroup], GroundTravel]] = field(
        default_factory=dict
    )
    evaluations: int = 0

    def start(self) -> _State:
        return _State((), {k: v.copy() for k, v in self.base_runs.items()})

    def value(self, state: _State) -> float:
        return objective_value(state.runs, self.weights, self.cat.objective)

    def add(self, state: _State, cand: Option) -> _State:
        return self._window(state, (*state.chosen, cand), cand)

    def without(self, state: _State, cand: Option) -> _State:
        """The state with one bought item taken out: its window assessed without it."""
        return self._window(state, tuple(o for o in state.chosen if o != cand), cand)

    def _window(self, state: _State, chosen: tuple[Option, ...], cand: Option) -> _State:
        sc = apply(self.scenario, chosen)
        units = tuple(o.key for o in chosen if o.unit)
        if units not in self.travel:
            self.travel[units] = ground_response(sc, self.resolution_m, self.config)
        a = assess(
            sc,
            self.cat.modes,
            self.cat.lights,
            self.resolution_m,
            config=self.config,
            window_km=cand.reach_km,
            travel=self.travel[units],
        )
        self.evaluations += 1
        runs = {k: v.copy() for k, v in state.runs.items()}
        for r in a.runs:
            arr = runs[r.mode, r.light]
            for k in r.per_km:
                i = int(k.chainage_km)
                if i < arr.size:
                    arr[i] = k.p_interruption
        return _State(chosen, runs)


# --- the whole ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """A bought package and its verification."""

    scenario: Scenario
    planned: Scenario
    package: Package[Option, _State]
    before: Assessment
    after: Assessment
    objective_before: float
    objective_after: float
    min_before: float
    min_after: float
    options: int
    budget: float
    catalogue: Catalogue
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """plan.json."""
        return {
            "scenario": self.scenario.name,
            "budget": self.budget,
            "currency": self.catalogue.currency,
            "objective": self.catalogue.objective.model_dump(),
            "modes": [m.value for m in self.catalogue.modes],
            "lights": [li.value for li in self.catalogue.lights],
            "resolution_m": self.before.resolution_m,
            "candidates": self.options,
            "evaluations": self.package.evaluations,
            "spent": self.package.cost,
            "items": [
                {
                    "kind": b.cand.kind,
                    "model": b.cand.model,
                    "id": b.cand.key,
                    "site": {"lon": b.cand.lon, "lat": b.cand.lat},
                    "count": 1 + len(b.cand.chain),
                    "reach_km": list(b.cand.reach_km),
                    "cost": b.cost,
                    "gain": b.gain,
                    "gain_per_cost": b.gain_per_cost,
                }
                for b in self.package.items
            ],
            "objective_search": self.package.after,
            "objective_before": self.objective_before,
            "objective_after": self.objective_after,
            "min_p_before": self.min_before,
            "min_p_after": self.min_after,
            "notes": self.notes + self.package.notes,
        }


def search(
    oracle: WindowOracle,
    options: Sequence[Option],
    budget: float,
    swaps: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Package[Option, _State]:
    """The search `limes plan` runs: greedy (restarted from the best single items when the
    candidates are few), then swaps within 12 km."""
    if len(options) <= MULTI_START_BELOW:
        package = multi_start(oracle, options, budget, MULTI_STARTS, progress)
    else:
        package = lazy_greedy(oracle, options, budget, progress)
    if swaps and package.items:
        near = 12.0  # a swap moves an item along the line, not across the border

        def neighbours(o: Option) -> list[Option]:
            mid = 0.5 * (o.reach_km[0] + o.reach_km[1])
            return [
                c
                for c in options
                if c.kind == o.kind and abs(0.5 * (c.reach_km[0] + c.reach_km[1]) - mid) <= near
            ]

        package = swap_improve(oracle, options, package, budget, neighbours=neighbours, passes=2)
    return package


def plan(
    scenario: Scenario,
    catalogue: Catalogue,
    budget: float,
    resolution_m: float = 200.0,
    progress: Progress | None = None,
    *,
    swaps: bool = True,
    config: AssessConfig | None = None,
) -> Plan:
    """Choose what to buy within `budget`, verify it by a full assessment, return the plan."""
    if not (budget > 0 and math.isfinite(budget)):
        raise PlanError(f"--budget must be a positive number, got {budget}")
    report = progress or (lambda stage, done, total: None)
    cfg = config or AssessConfig(worst_paths=0)
    lateral_km = (scenario.spec.strip.lateral_m + 2000.0) / 1000.0
    options = candidate_options(scenario, catalogue, resolution_m, lateral_km)
    if not options:
        raise PlanError("the catalogue gives no candidate site (no roads for bases?)")
    report("candidates", 1, 1)
    scenario = with_terrain_for(scenario, options)
    before = assess(scenario, catalogue.modes, catalogue.lights, resolution_m, config=cfg)
    report("base assessment", 1, 1)
    weights = run_weights(scenario, catalogue.modes, catalogue.lights)
    oracle = WindowOracle(scenario, catalogue, resolution_m, per_km(before), weights, cfg)
    oracle.travel[()] = ground_response(scenario, resolution_m, cfg)
    package = search(oracle, options, budget, swaps, lambda d, t: report("search", d, t))
    report("search", 1, 1)
    planned = apply(scenario, [b.cand for b in package.items])
    planned.spec = planned.spec.model_copy(
        update={"name": f"{scenario.name}-plan", "title": f"{scenario.spec.title} + plan"}
    )
    after = assess(planned, catalogue.modes, catalogue.lights, resolution_m, config=cfg)
    report("verification", 1, 1)
    rb, ra = per_km(before), per_km(after)
    notes = [
        f"searched at {resolution_m:g} m over {len(options)} candidates with "
        f"{oracle.evaluations} windowed assessments"
    ]
    return Plan(
        scenario,
        planned,
        package,
        before,
        after,
        objective_value(rb, weights, catalogue.objective),
        objective_value(ra, weights, catalogue.objective),
        true_min(rb),
        true_min(ra),
        len(options),
        budget,
        catalogue,
        notes,
    )


def scenario_yaml(p: Plan) -> dict[str, Any]:
    """The planned scenario as a YAML-ready dict (the base file's fields plus the package)."""
    data = p.planned.spec.model_dump(mode="json", exclude_defaults=True)
    terrain = data.get("terrain", {})
    if terrain.get("file") and p.scenario.base_dir is not None:
        terrain["file"] = str((p.scenario.base_dir / terrain["file"]).resolve())
    border = data.get("border", {})
    if border.get("line_file") and p.scenario.base_dir is not None:
        border["line_file"] = str((p.scenario.base_dir / border["line_file"]).resolve())
    return data

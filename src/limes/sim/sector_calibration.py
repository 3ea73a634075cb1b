"""The plan against the exercise per sector, for groups that follow the plan's own paths.

The scorecard sets the plan's mean P(interruption) per sector beside the share of groups the
exercise saw interrupted; with the exercise's own groups the two need not agree (they choose
their km, walk slower, meet busy units). Here every group is the plan's adversary: it walks its
km's best path (the assessment's `worst_paths`, one per km), in the plan's light, at the pace
of the shared movement model, and meets every unit at home; its start falls at a uniform
moment of the window such that its whole crossing lies in that light. The groups of a sector
are spread evenly over its km, and run through the exercise's own steps
(`calibration.cross_legs`: barrier waits, sensor draws, reports with latency, the referee's
dispatch to the first report, interception).

Both sides use the same aggregation over the same km: a group counts in the sector of the km
whose path it walks, and the plan's sector P is the mean over the sector's groups of their
km's P, as the scorecard's `plan_p_mean` is over its crossings; a group a barrier stops is
neither caught nor through and, as in the scorecard, counts on neither side (a km with no way
through at all has no path to walk and is left out too). The observed rate comes with
its 95 % Wilson interval; beside the plan's field P (`p_interruption`, what the plan reports)
are EASI along the same paths (`p_easi`) and EASI with each step's hazard at the path's
points (`easi_at_points`, the simulator's view of the sensors), which say why they differ.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from limes.analysis.assess import AssessConfig, Progress, assess
from limes.analysis.monte_carlo import wilson
from limes.analysis.result import Assessment, CrossingPath, KmResult
from limes.analysis.summary_file import load_assessment
from limes.errors import SimError
from limes.scenario.model import Scenario
from limes.scenario.schema import Knowledge, Light, LightPreference, Mode, Stance, ThreatProfile
from limes.sensing.coverage import sensor_places
from limes.sim.actors import Ground, Leg, leg_of
from limes.sim.calibration import cross_legs, easi_at_points
from limes.sim.config import SimConfig
from limes.sim.daylight import is_day
from limes.sim.routes import Route


@dataclass(frozen=True)
class SectorCheck:
    """One sector: the plan's P beside the observed rate of plan-following groups."""

    sector: str
    km: int
    n: int  # groups that finished: caught or through
    interrupted: int
    detected: int
    plan_p: float
    plan_p_easi: float | None
    easi_at_points: float
    low: float
    high: float
    blocked: int = 0  # groups a barrier stopped, left out of n

    @property
    def observed(self) -> float:
        return self.interrupted / self.n if self.n else math.nan

    @property
    def inside(self) -> bool:
        """The plan's P lies within the observed rate's 95 % interval."""
        return self.low <= self.plan_p <= self.high

    def record(self) -> dict[str, object]:
        """JSON-ready figures."""
        return {
            "sector": self.sector,
            "km": self.km,
            "n": self.n,
            "interrupted": self.interrupted,
            "detected": self.detected,
            "blocked": self.blocked,
            "plan_p": round(self.plan_p, 4),
            "plan_p_easi": None if self.plan_p_easi is None else round(self.plan_p_easi, 4),
            "easi_at_points": round(self.easi_at_points, 4),
            "observed": round(self.observed, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "inside": self.inside,
        }


def plan_adversary(scenario: Scenario, mode: Mode, light: Light) -> ThreatProfile:
    """The plan's adversary as an exercise group: informed, at the movement model's full pace."""
    mv = scenario.spec.movement
    speed = mv.foot_flat_kmh if mode is Mode.FOOT else mv.vehicle_road_kmh
    pref = LightPreference.DAY if light is Light.DAY else LightPreference.NIGHT
    return ThreatProfile(name="plan adversary", mode=mode, stance=Stance.HOSTILE,
                         speed_kmh=speed, light_preference=pref,
                         knowledge=Knowledge.FULL, share=0.0)  # fmt: skip


def starts_in_light(
    rng: np.random.Generator,
    durations_s: NDArray[np.float64],
    lon: NDArray[np.float64],
    light: Light,
    window_s: float,
    cfg: SimConfig,
) -> NDArray[np.float64]:
    """A uniform start in [0, window − duration) for each crossing, such that the crossing's
    start, middle and end all fall in `light` (local solar time at its longitude)."""
    n = len(durations_s)
    span = np.maximum(window_s - durations_s, 0.0)
    starts = rng.uniform(0.0, 1.0, n) * span
    want_day = light is Light.DAY

    def ok(t: NDArray[np.float64]) -> NDArray[np.bool_]:
        good = np.ones(len(t), dtype=bool)
        for f in (0.0, 0.5, 1.0):
            at = t + f * durations_s
            good &= is_day(cfg.start, at, lon, cfg.day_start_h, cfg.day_end_h) == want_day
        return good

    bad = ~ok(starts)
    for _ in range(10 * cfg.light_tries):
        if not bad.any():
            return starts
        starts[bad] = rng.uniform(0.0, 1.0, int(bad.sum())) * span[bad]
        bad[bad] = ~ok(starts)[bad]
    raise SimError(f"the window of {window_s / 3600:g} h holds no {light.value} long enough "
                   f"for {int(bad.sum())} crossings")  # fmt: skip


def assess_every_km(
    scenario: Scenario,
    modes: Sequence[Mode],
    lights: Sequence[Light],
    resolution_m: float,
    progress: Progress | None = None,
) -> Assessment:
    """The plan with every km's best path kept, as `calibrate_sectors` needs it.

    The per-km figures are those of any assessment at that resolution (which paths are kept
    changes no km's P); the paths' own Monte Carlo checks are cut to a token count, as the
    exercise is the check here.
    """
    cfg = AssessConfig(worst_paths=math.ceil(scenario.length_km) + 1, mc_samples=1000)
    return assess(scenario, modes, lights, resolution_m=resolution_m, config=cfg,
                  progress=progress)  # fmt: skip


def calibrate_sectors(
    scenario: Scenario,
    assessment: Assessment,
    mode: Mode,
    light: Light,
    groups_per_sector: int,
    seed: int = 0,
    config: SimConfig | None = None,
    profile: ThreatProfile | None = None,
    window_h: float = 720.0,
) -> list[SectorCheck]:
    """Per sector, `groups_per_sector` plan-following groups against the plan's sector P.

    Needs the assessment's best path of every km (`AssessConfig.worst_paths` at least the
    number of km); km without one are left out of both sides, sectors without any are not
    reported.
    """
    if groups_per_sector < 1:
        raise SimError(f"groups per sector must be at least 1, got {groups_per_sector}")
    cfg = config or SimConfig()
    profile = profile or plan_adversary(scenario, mode, light)
    if profile.mode is not mode:
        raise SimError(f"profile {profile.name!r} is {profile.mode.value}, the plan's run "
                       f"is {mode.value}")  # fmt: skip
    run = assessment.run(mode, light)
    paths = {int(p.start_chainage_km): p for p in run.worst_paths if len(p.xy) >= 2}
    ground = Ground.of(scenario, scenario.terrain())
    legs: list[Leg] = []
    kept: list[tuple[KmResult, CrossingPath]] = []
    for km in sorted(run.per_km, key=lambda k: k.chainage_km):
        path = paths.get(int(km.chainage_km))
        if path is None:
            continue
        route = Route(np.asarray(path.xy, dtype=float), "plan", int(km.chainage_km))
        legs.append(leg_of(scenario, ground, route, profile, cfg.route_step_m))
        kept.append((km, path))
    names = [s.name for s in scenario.spec.sectors]
    by_sector: dict[str, list[int]] = {name: [] for name in names}
    for j, (km, _) in enumerate(kept):
        by_sector.setdefault(km.sector, []).append(j)
    which_list: list[int] = []
    for name in by_sector:
        mine = by_sector[name]
        if mine:
            # Evenly over the sector's km: each gets ⌊n/k⌋ or ⌈n/k⌉ groups; fewer groups
            # than km take km spread along the whole sector.
            which_list.extend(mine[g * len(mine) // groups_per_sector]
                              for g in range(groups_per_sector))  # fmt: skip
    which = np.asarray(which_list, dtype=np.intp)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    # Mean walk plus mean barrier waits: the crossing that must fit in the light.
    dur = np.array([lg.seconds.sum() + sum(w[1] for w in lg.waits) for lg in legs])
    lon = np.array([float(scenario.frame.to_lonlat(lg.xy[-1, 0], lg.xy[-1, 1])[0]) for lg in legs])
    starts = starts_in_light(rngs[5], dur[which], lon[which], light, window_h * 3600.0, cfg)
    res = cross_legs(scenario, legs, which, starts, profile, rngs[:5], cfg)
    places = sensor_places(scenario)
    at_points = [easi_at_points(scenario, path, mode, light, places) for _, path in kept]
    out: list[SectorCheck] = []
    pos = 0
    for name, mine in by_sector.items():
        if not mine:
            continue
        idx = np.arange(pos, pos + groups_per_sector)
        pos += groups_per_sector
        # As the scorecard: a group a barrier stopped is neither caught nor through, and is
        # left out of both sides (a vehicle at a wall it cannot breach, on a km held at P = 1).
        blocked = res.blocked[idx] if res.blocked is not None else np.zeros(len(idx), bool)
        idx = idx[~blocked]
        ks = which[idx]
        if len(ks) == 0:
            continue
        hits = int(res.interrupted[idx].sum())
        lo, hi = wilson(hits, len(ks))
        easi = [kept[int(k)][0].p_easi for k in ks]
        out.append(
            SectorCheck(
                sector=name, km=len(mine), n=len(ks), interrupted=hits,
                detected=int(res.detected[idx].sum()), blocked=int(blocked.sum()),
                plan_p=_mean([kept[int(k)][0].p_interruption for k in ks]),
                plan_p_easi=None if any(e is None for e in easi) else _mean(easi),
                easi_at_points=_mean([at_points[int(k)] for k in ks]),
                low=lo, high=hi,
            )
        )  # fmt: skip
    return out


def _mean(values: Sequence[float | None]) -> float:
    return float(np.mean(np.asarray(values, dtype=float)))


@dataclass(frozen=True)
class RunCalibration:
    """One mode and light of the plan, checked sector by sector."""

    mode: Mode
    light: Light
    sectors: list[SectorCheck]

    @property
    def inside(self) -> int:
        return sum(c.inside for c in self.sectors)

    def record(self) -> dict[str, object]:
        return {
            "mode": self.mode.value,
            "light": self.light.value,
            "inside": self.inside,
            "checked": len(self.sectors),
            "sectors": [c.record() for c in self.sectors],
        }


# A summary's P and the one computed again for the calibration must agree this closely, or the
# scenario (or the analysis) changed since the assessment was written.
SUMMARY_TOLERANCE = 1e-6


def calibrate_plan(
    scenario: Scenario,
    runs: Sequence[tuple[Mode, Light]],
    resolution_m: float,
    groups_per_sector: int,
    seed: int = 0,
    config: SimConfig | None = None,
    window_h: float = 720.0,
    summary: Mapping[tuple[Mode, Light], Mapping[int, float | None]] | None = None,
    progress: Progress | None = None,
) -> list[RunCalibration]:
    """`calibrate_sectors` for each run of a plan assessed afresh at `resolution_m`.

    `summary`: per run, the per-km P (by whole km) an assessment file gives; the fresh
    assessment must reproduce it, so that the check is of the plan the user has.
    """
    modes = list(dict.fromkeys(m for m, _ in runs))
    lights = list(dict.fromkeys(li for _, li in runs))
    plan = assess_every_km(scenario, modes, lights, resolution_m, progress)
    out: list[RunCalibration] = []
    for k, (mode, light) in enumerate(runs):
        if summary is not None and (mode, light) in summary:
            _same_plan(plan, mode, light, summary[(mode, light)])
        checks = calibrate_sectors(scenario, plan, mode, light, groups_per_sector, seed + k,
                                   config, window_h=window_h)  # fmt: skip
        out.append(RunCalibration(mode, light, checks))
    return out


def _same_plan(
    plan: Assessment, mode: Mode, light: Light, given: Mapping[int, float | None]
) -> None:
    fresh = {int(k.chainage_km): k.p_interruption for k in plan.run(mode, light).per_km}
    for km, p in given.items():
        q = fresh.get(km)
        if p is None or q is None or not math.isfinite(q):
            continue
        if abs(p - q) > SUMMARY_TOLERANCE:
            raise SimError(
                f"{mode.value} at {light.value}, km {km}: the assessment file says P = {p:.6f}, "
                f"the scenario now gives {q:.6f} (the scenario changed since it was assessed: "
                f"assess it again)"
            )


def write_calibration(
    path: str | Path,
    scenario: Scenario,
    resolution_m: float,
    groups_per_sector: int,
    seed: int,
    runs: Sequence[RunCalibration],
) -> Path:
    """calibration.json: every run's sectors, and how many hold the plan."""
    data = {
        "scenario": scenario.name,
        "resolution_m": resolution_m,
        "groups_per_sector": groups_per_sector,
        "seed": seed,
        "runs": [r.record() for r in runs],
        "sectors_inside": sum(r.inside for r in runs),
        "sectors_checked": sum(len(r.sectors) for r in runs),
    }
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return p


def summary_plan(
    path: str | Path,
) -> tuple[float, list[tuple[Mode, Light]], dict[tuple[Mode, Light], dict[int, float | None]]]:
    """From `limes assess`'s summary.json (or its folder): resolution, runs and per-km P."""
    doc = load_assessment(path)
    if doc.resolution_m is None:
        raise SimError(f"{path}: the assessment does not say its resolution")
    runs = [(Mode(r.mode), Light(r.light)) for r in doc.runs]
    per_km = {
        (Mode(r.mode), Light(r.light)): {int(k.chainage_km): k.p_interruption for k in r.per_km}
        for r in doc.runs
    }
    return doc.resolution_m, runs, per_km

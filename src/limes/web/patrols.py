"""Patrol schedules for the planner view: the patrol game of one assessment run, on the map.

The targets are the run's costliest weak stretches (summary.json's ranking) × the scenario's
time windows a day; the game (`analysis.patrols`, with the scenario's catch chance) is solved
by the multiple LPs, and the map gets, per stretch and window, how often a patrol is there
(the coverage probability) with the adversary's chance of getting through, drawn as a band
along the line inside it (one band per window), and the day's schedule drawn from the
equilibrium with a seed, each patrol placed by lon/lat, lat/lon text and MGRS.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from limes.analysis.patrols import (
    GameError,
    daily_schedules,
    default_patrols,
    multiple_lps,
    scenario_patrol_game,
)
from limes.analysis.places import latlon_ref, mgrs_ref
from limes.analysis.summary_file import AssessmentSummary
from limes.errors import WebError
from limes.scenario.model import Scenario

#: More pure schedules than this and the enumerated game is not for one request.
MAX_SCHEDULES = 3000
#: Each window's band lies this much farther inside than the previous one's (m).
BAND_STEP_M = 500.0
#: Points along a band at most this far apart (m of chainage).
BAND_POINT_M = 500.0


class PatrolPlanError(WebError):
    """A patrol plan that cannot be made; `status` says how the API answers (404, 409, 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def patrol_plan(
    scenario: Scenario,
    summary: AssessmentSummary,
    run: str,
    *,
    patrols: int | None,
    stretches: int,
    seed: int,
) -> dict[str, Any]:
    """The equilibrium and the day's schedule of one run (see `web/src/api.ts: PatrolPlan`).

    `patrols` None: the scenario's available patrol units (at least one), at most one per
    target. `stretches`: how many of the costliest weak stretches are targets.
    """
    if summary.scenario != scenario.name:
        raise PatrolPlanError(
            409,
            f"the assessment is of scenario {summary.scenario!r}; this server runs "
            f"{scenario.name!r}, whose line and patrols would not match it",
        )
    record = next((r for r in summary.runs if f"{r.mode}-{r.light}" == run), None)
    if record is None:
        raise PatrolPlanError(404, f"no run {run!r} in this assessment")
    spec = scenario.spec.patrols
    weak = sorted(record.weak_stretches, key=lambda st: st.rank)[:stretches]
    targets = len(weak) * spec.windows
    if patrols is None:
        patrols = default_patrols(scenario, targets)
    out: dict[str, Any] = {
        "run": run,
        "catch_p": spec.catch_p,
        "windows": [_window(spec.first_window_h, spec.windows, w) for w in range(spec.windows)],
        "patrols": patrols,
        "seed": seed,
        "stretches": [],
        "today": [],
        "schedules": 0,
        "through_mixed": None,
        "through_best_fixed": None,
    }
    if not weak:
        out["note"] = "no weak stretch in this run: nothing for patrols to cover"
        return out
    if patrols > targets:
        raise PatrolPlanError(
            422, f"{patrols} patrols for {targets} targets ({len(weak)} stretches × "
            f"{spec.windows} windows): each patrol needs a target of its own"
        )  # fmt: skip
    count = math.comb(targets, patrols)
    if count > MAX_SCHEDULES:
        raise PatrolPlanError(
            422, f"{count} schedules (C({targets}, {patrols})): more than {MAX_SCHEDULES}; "
            "ask for fewer stretches or patrols, or plan each sector on its own"
        )  # fmt: skip
    try:
        pg = scenario_patrol_game(
            scenario, [(st.from_km, st.to_km, st.mean_p) for st in weak], patrols
        )
        eq = multiple_lps(pg.game)
    except GameError as exc:
        raise PatrolPlanError(422, str(exc)) from None
    coverage = np.zeros(pg.success.size)
    for s, cover in enumerate(pg.schedules):
        coverage[list(cover)] += eq.x[s]
    coverage = np.clip(coverage, 0.0, 1.0)
    for i, st in enumerate(weak):
        per_window = []
        for w in range(spec.windows):
            t = i * spec.windows + w
            per_window.append(
                {
                    "window": w,
                    "coverage": float(coverage[t]),
                    "through": float(pg.success[t] * (1.0 - spec.catch_p * coverage[t])),
                    "line": _band(scenario, st.from_km, st.to_km, (w + 1) * BAND_STEP_M),
                }
            )
        out["stretches"].append(
            {
                "rank": st.rank,
                "from_km": st.from_km,
                "to_km": st.to_km,
                "p_interruption": st.mean_p,
                "windows": per_window,
            }
        )
    (today,) = daily_schedules(eq, 1, seed)
    for n, t in enumerate(pg.schedules[int(today)], 1):
        i, w = divmod(t, spec.windows)
        st = weak[i]
        lon, lat = _lonlat(scenario, 0.5 * (st.from_km + st.to_km), (w + 1) * BAND_STEP_M)
        out["today"].append(
            {
                "patrol": n,
                "rank": st.rank,
                "from_km": st.from_km,
                "to_km": st.to_km,
                "window": w,
                "lon": lon,
                "lat": lat,
                "latlon": latlon_ref(lon, lat),
                "mgrs": mgrs_ref(lon, lat),
            }
        )
    out["schedules"] = len(pg.schedules)
    out["through_mixed"] = eq.attacker_values[0]
    out["through_best_fixed"] = float(pg.game.attacker[0].max(axis=1).min())
    return out


def _window(first_h: float, windows: int, w: int) -> dict[str, Any]:
    span = 24.0 / windows
    return {
        "window": w,
        "from_h": (first_h + w * span) % 24.0,
        "to_h": (first_h + (w + 1) * span) % 24.0,
    }


def _band(scenario: Scenario, from_km: float, to_km: float, offset_m: float) -> list[list[float]]:
    """[lon, lat] points along the line from `from_km` to `to_km`, `offset_m` inside."""
    end = min(to_km * 1000.0, scenario.border.length_m)
    start = min(from_km * 1000.0, end)
    n = max(2, math.ceil((end - start) / BAND_POINT_M) + 1)
    x, y = scenario.border.point_at(np.linspace(start, end, n), offset_m)
    lon, lat = scenario.frame.to_lonlat(x, y)
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]


def _lonlat(scenario: Scenario, km: float, offset_m: float) -> tuple[float, float]:
    x, y = scenario.border.point_at(min(km * 1000.0, scenario.border.length_m), offset_m)
    lon, lat = scenario.frame.to_lonlat(x, y)
    return round(float(lon), 6), round(float(lat), 6)

"""Patrols in an exercise: each day's schedule drawn from the patrol game, and what it catches.

The game (`analysis.patrols`) is played over the plan's costliest weak stretches (the foot at
night run when the plan has one) × the scenario's time windows, with its catch chance and its
available patrol units. Each patrol day starts at the scenario's first window
(`patrols.first_window_h`, local solar time at the crossing, as daylight is) and has its own
schedule drawn from the equilibrium with the exercise's seed. A group that crosses the line on
a stretch a patrol holds in that window of that day is caught there, at the moment it crosses,
with the catch chance; one draw per crossing group, patrolled or not, so one group's outcome
never shifts another's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from limes.analysis.patrols import (
    daily_schedules,
    default_patrols,
    multiple_lps,
    scenario_patrol_game,
    weak_targets,
)
from limes.analysis.result import Assessment
from limes.errors import SimError
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode, Patrols
from limes.sim.actors import Actor
from limes.sim.routes import plan_run

#: How many of the plan's costliest weak stretches the patrols are scheduled over.
PATROL_STRETCHES = 6


@dataclass(frozen=True)
class Duty:
    """One patrol on one stretch in one window of one patrol day (0: the day the run starts)."""

    day: int
    window: int
    from_km: float
    to_km: float


@dataclass(frozen=True)
class PatrolRoster:
    """Every day's patrols of a run, and what the game promised against a learner."""

    catch_p: float
    patrols: int
    stretches: list[tuple[float, float, float]]
    duties: list[Duty]
    through_predicted: float | None

    def on_duty(self, day: int, window: int, chainage_km: float) -> bool:
        """Whether a patrol holds this chainage in this window of this day."""
        return any(
            d.day == day and d.window == window and d.from_km <= chainage_km < d.to_km
            for d in self.duties
        )


@dataclass(frozen=True)
class PatrolResult:
    """The roster and, per crossing group (actor id), whether a patrol was there and caught it."""

    roster: PatrolRoster
    patrolled: frozenset[str]
    caught: frozenset[str]

    def after_units(self, actors: Sequence[Actor]) -> PatrolResult:
        """The result once units have acted: a group a unit stopped before it reached the line
        (and the patrol) was not the patrol's catch."""
        first = {a.id for a in actors if a.stop_s is not None and a.cross_s is not None
                 and a.stop_s < a.cross_s}  # fmt: skip
        return PatrolResult(self.roster, self.patrolled, self.caught - first)

    def summary(self) -> dict[str, object]:
        """What the scorecard says of the patrols."""
        r = self.roster
        return {
            "catch_p": r.catch_p,
            "patrols_a_day": r.patrols,
            "stretches": [[a, b] for a, b, _ in r.stretches],
            "duties": len(r.duties),
            "crossings_patrolled": len(self.patrolled),
            "caught": len(self.caught),
            "through_predicted": r.through_predicted,
        }


def patrol_roster(
    scenario: Scenario, assessment: Assessment | None, days: int, rng: np.random.Generator
) -> PatrolRoster:
    """`days` patrol days of schedules drawn from the equilibrium of the plan's patrol game."""
    if assessment is None or not assessment.runs:
        raise SimError("patrols need the plan (an assessment): they go to its weak stretches")
    run = plan_run(assessment, Mode.FOOT, Light.NIGHT) or assessment.runs[0]
    spec = scenario.spec.patrols
    stretches = weak_targets(run, scenario, PATROL_STRETCHES)
    if not stretches:
        return PatrolRoster(spec.catch_p, 0, [], [], None)
    patrols = default_patrols(scenario, len(stretches) * spec.windows)
    pg = scenario_patrol_game(scenario, stretches, patrols)
    eq = multiple_lps(pg.game)
    drawn = daily_schedules(eq, days, int(rng.integers(2**32)))
    duties = [
        Duty(day, t % spec.windows, *pg.stretches[t // spec.windows])
        for day, s in enumerate(drawn)
        for t in pg.schedules[int(s)]
    ]
    return PatrolRoster(spec.catch_p, patrols, stretches, duties, eq.attacker_values[0])


def patrol_slot(spec: Patrols, start: datetime, t_s: float, lon: float) -> tuple[int, int]:
    """(patrol day, window) of a simulated second at a longitude: local mean solar time, days
    starting at the first window, day 0 the one the exercise starts in."""
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    h0 = (start - midnight).total_seconds() / 3600.0 + lon / 15.0 - spec.first_window_h
    h = h0 + t_s / 3600.0
    day = math.floor(h / 24.0) - math.floor(h0 / 24.0)
    return day, spec.window_of((h + spec.first_window_h) % 24.0)


def patrol_catches(
    scenario: Scenario,
    actors: Sequence[Actor],
    roster: PatrolRoster,
    start: datetime,
    horizon_s: float,
    rng: np.random.Generator,
) -> PatrolResult:
    """Stop the crossing groups a patrol catches at the line (`stop_s` = their crossing)."""
    spec = scenario.spec.patrols
    patrolled: set[str] = set()
    caught: set[str] = set()
    for a in actors:
        if not a.crossing:
            continue
        draw = float(rng.random())
        if a.cross_s is None or a.crossing_chainage_m is None or a.cross_s >= horizon_s:
            continue
        lon, _ = scenario.frame.to_lonlat(*a.position(np.array([a.cross_s])))
        day, window = patrol_slot(spec, start, a.cross_s, float(np.atleast_1d(lon)[0]))
        if not roster.on_duty(day, window, a.crossing_chainage_m / 1000.0):
            continue
        patrolled.add(a.id)
        if draw < spec.catch_p:
            caught.add(a.id)
            a.stop_s = a.cross_s if a.stop_s is None else min(a.stop_s, a.cross_s)
    return PatrolResult(roster, frozenset(patrolled), frozenset(caught))

"""Patrols in an exercise: daily schedules from the patrol game catch crossings at the line on
their stretch in their window with the scenario's catch chance, and the scorecard counts them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sim_fixtures import small_scenario

from limes.analysis.monte_carlo import wilson
from limes.analysis.result import Assessment, KmResult, Run, Weakness
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode
from limes.sim.config import SimConfig
from limes.sim.daylight import is_day
from limes.sim.patrols import patrol_slot
from limes.sim.run import SimulationError, SimulationResult, simulate

BUSY = SimConfig(actors_per_day=60.0)


def plan(sc: Scenario, p_by_km: dict[int, float]) -> Assessment:
    """A foot-at-night plan with chosen P per km (others held at 0.9)."""
    per_km = [
        KmResult(float(k), p_by_km.get(k, 0.9), "west", Weakness.NOT_SEEN, 0.0, 0.0)
        for k in range(math.ceil(sc.length_km))
    ]
    return Assessment(sc.name, 50.0, [Run(Mode.FOOT, Light.NIGHT, per_km, [])])


def crossed(r: SimulationResult) -> list:
    horizon = r.hours * 3600.0
    return [a for a in r.actors if a.crossing and a.cross_s is not None and a.cross_s < horizon]


def test_a_sure_patrol_always_on_the_west_half_catches_every_crossing_there(tmp_path: Path) -> None:
    # One stretch (km 0–5, P 0), one window a day, one patrol that always catches: it is on
    # the stretch every moment, so every group crossing there stops at the line, no other.
    sc = small_scenario(patrols={"catch_p": 1.0, "windows": 1})
    r = simulate(sc, 48, seed=3, config=BUSY, assessment=plan(sc, dict.fromkeys(range(5), 0.0)),
                 patrols=True, out_dir=tmp_path)  # fmt: skip
    west = [a for a in crossed(r) if a.crossing_chainage_m < 5000.0]
    east = [a for a in crossed(r) if a.crossing_chainage_m >= 5000.0]
    assert len(west) > 10 and len(east) > 10
    # stopped at the line, unless a unit reached the group before it got there
    assert all(a.stop_s is not None and a.stop_s <= a.cross_s for a in west)
    assert all(a.stop_s != a.cross_s for a in east)
    at_line = [a for a in west if a.stop_s == a.cross_s]
    assert len(at_line) > 10
    card = r.scorecard
    by_id = {c.actor_id: c for c in card.crossings}
    assert all(by_id[a.id].patrol == "caught" for a in at_line)
    assert all(by_id[a.id].patrol == "missed" for a in west if a not in at_line)
    assert {by_id[a.id].patrol for a in east} == {None}
    assert card.totals.patrol_caught == len(at_line) == card.patrols["caught"]
    assert sum(t.patrol_caught for t in card.sectors) == len(at_line)
    assert all(by_id[a.id].outcome == "interrupted" for a in west)
    # nothing a sensor would see after the catch is sent
    stop = {a.id: a.stop_s for a in west}
    assert all(e.time_s < stop[e.actor_id] for e in r.emissions if e.actor_id in stop)
    written = json.loads((tmp_path / "scorecard.json").read_text())
    assert written["patrols"]["caught"] == len(at_line)
    assert "<th>patrol</th>" in (tmp_path / "scorecard.html").read_text()


def test_a_patrol_that_never_catches_changes_nothing_that_is_sent() -> None:
    sc = small_scenario(patrols={"catch_p": 0.0, "windows": 1})
    weak = plan(sc, dict.fromkeys(range(5), 0.0))
    with_p = simulate(sc, 24, seed=4, config=BUSY, assessment=weak, patrols=True)
    without = simulate(sc, 24, seed=4, config=BUSY, assessment=weak)
    assert with_p.detections_bytes() == without.detections_bytes()
    assert with_p.scorecard.patrols["crossings_patrolled"] > 0
    assert with_p.scorecard.totals.patrol_caught == 0
    assert without.scorecard.patrols is None and without.scorecard.totals.patrol_caught is None


def test_patrols_catch_where_and_when_the_days_schedule_puts_them_at_the_scenarios_rate() -> None:
    # Two stretches, night and day windows, one patrol a day catching half the crossings it meets.
    sc = small_scenario(patrols={"catch_p": 0.5, "windows": 2, "first_window_h": 18})
    p = {**dict.fromkeys(range(3), 0.0), **dict.fromkeys(range(5, 10), 0.3)}  # km 3–5 held
    r = simulate(sc, 96, seed=5, config=BUSY, assessment=plan(sc, p), patrols=True)
    assert r.patrols is not None
    roster = r.patrols.roster
    assert roster.catch_p == 0.5 and roster.patrols == 1 and len(roster.stretches) == 2
    start = r.config.start
    met = caught = 0
    for a in crossed(r):
        lon, _ = sc.frame.to_lonlat(*a.position(np.array([a.cross_s])))
        lon = float(np.atleast_1d(lon)[0])
        # the window by daylight (night 18–06 is window 0), the day by whole solar days
        day_light = bool(is_day(start, a.cross_s, lon, 6.0, 18.0))
        solar_h = start.hour + start.minute / 60 + a.cross_s / 3600 + lon / 15
        first = start.hour + start.minute / 60 + lon / 15
        day = math.floor((solar_h - 18) / 24) - math.floor((first - 18) / 24)
        km = a.crossing_chainage_m / 1000.0
        on = any(d.day == day and d.window == int(day_light) and d.from_km <= km < d.to_km
                 for d in roster.duties)  # fmt: skip
        assert (a.id in r.patrols.patrolled) == on, a.id
        # a group a unit stopped before the line never met the patrol's draw
        if on and not (a.stop_s is not None and a.stop_s < a.cross_s):
            met += 1
            caught += a.id in r.patrols.caught
    assert met > 20
    lo, hi = wilson(caught, met)
    assert lo <= 0.5 <= hi


def test_the_patrol_day_begins_at_the_first_window() -> None:
    spec = small_scenario().spec.patrols  # night 18–06, day 06–18
    start = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
    # At longitude 0 solar time is UTC: 18:00 starts day 0's night, 06:00 its day, 18:00 the
    # next day's night.
    assert patrol_slot(spec, start, 0.0, 0.0) == (0, 0)
    assert patrol_slot(spec, start, 11.9 * 3600, 0.0) == (0, 0)
    assert patrol_slot(spec, start, 12 * 3600, 0.0) == (0, 1)
    assert patrol_slot(spec, start, 24 * 3600, 0.0) == (1, 0)
    # 45° east the sun is three hours ahead: 21:00 at the start, day begins 21 h later
    assert patrol_slot(spec, start, 9 * 3600, 45.0) == (0, 1)
    assert patrol_slot(spec, start, 21 * 3600, 45.0) == (1, 0)


def test_patrols_need_the_plan(small: Scenario) -> None:
    with pytest.raises(SimulationError, match="plan"):
        simulate(small, 1, patrols=True)

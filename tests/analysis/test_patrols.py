"""Patrol schedules as a Stackelberg game: the LPs against enumeration and a game solved by hand."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_support import scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from limes.analysis.patrols import (
    Game,
    brute_force,
    daily_schedules,
    dobss,
    exercise,
    multiple_lps,
    patrol_game,
    scenario_patrol_game,
)
from limes.scenario.errors import ScenarioError

games = st.tuples(
    st.integers(min_value=2, max_value=4),
    st.integers(min_value=2, max_value=4),
    st.integers(min_value=0, max_value=100_000),
)


def _game(n: int, m: int, seed: int) -> Game:
    rng = np.random.default_rng(seed)
    return Game.single(rng.uniform(-1, 1, (n, m)), rng.uniform(-1, 1, (n, m)))


@settings(max_examples=60, deadline=None)
@given(games)
def test_both_formulations_equal_brute_force_enumeration(case: tuple[int, int, int]) -> None:
    g = _game(*case)
    ref = brute_force(g)
    for eq in (multiple_lps(g), dobss(g)):
        assert eq.defender_value == pytest.approx(ref.defender_value, abs=1e-6)
        assert eq.x.sum() == pytest.approx(1.0) and (eq.x >= -1e-12).all()
        # the adversary's answer is a best response to the commitment
        a = g.attacker[0]
        assert eq.x @ a[:, eq.responses[0]] >= (eq.x @ a).max() - 1e-6


def test_one_patrol_two_equal_gaps_is_a_coin_toss() -> None:
    # Two stretches unwatched (P = 0), one window, one patrol that always catches: by hand the
    # defender covers each half the time and the adversary gets through half the time.
    pg = patrol_game([(0, 10, 0.0), (10, 20, 0.0)], windows=1, patrols=1, patrol_catch=1.0)
    eq = multiple_lps(pg.game)
    assert eq.x == pytest.approx([0.5, 0.5])
    assert eq.attacker_values[0] == pytest.approx(0.5)


def test_the_patrol_leans_toward_the_weaker_stretch_by_the_indifference_rule() -> None:
    # Through-chances 1.0 and 0.5, catch 0.8: the adversary is indifferent when
    # 1·(1 − 0.8c) = 0.5·(1 − 0.8(1 − c)), c the weak stretch's coverage: 0.9 = 1.2c, c = 0.75,
    # and the adversary gets through 1 − 0.8·0.75 = 0.4 of the time wherever it goes.
    pg = patrol_game([(0, 10, 0.0), (10, 20, 0.5)], windows=1, patrols=1, patrol_catch=0.8)
    eq = multiple_lps(pg.game)
    assert eq.x[0] == pytest.approx(0.75, abs=1e-9)
    assert eq.attacker_values[0] == pytest.approx(0.4, abs=1e-9)


def test_dobss_with_two_types_commits_once_and_beats_either_types_own_plan() -> None:
    rng = np.random.default_rng(3)
    d = rng.uniform(-1, 1, (2, 3, 3))
    a = rng.uniform(-1, 1, (2, 3, 3))
    g = Game(d, a, np.array([0.3, 0.7]))
    eq = dobss(g)
    assert eq.x.sum() == pytest.approx(1.0)
    for ty in range(2):
        assert eq.x @ a[ty][:, eq.responses[ty]] >= (eq.x @ a[ty]).max() - 1e-6
    # no single type's own equilibrium does better for the mixed population
    for ty in range(2):
        own = multiple_lps(Game.single(d[ty], a[ty])).x
        value = sum(g.types[k] * own @ d[k][:, int(np.argmax(own @ a[k]))] for k in range(2))
        assert eq.defender_value >= value - 1e-6


def test_daily_schedules_are_reproducible_and_follow_the_mix() -> None:
    pg = patrol_game([(0, 10, 0.0), (10, 20, 0.5)], windows=1, patrols=1, patrol_catch=0.8)
    eq = multiple_lps(pg.game)
    a = daily_schedules(eq, 4000, seed=7)
    assert (a == daily_schedules(eq, 4000, seed=7)).all()
    assert np.mean(a == 0) == pytest.approx(eq.x[0], abs=0.03)  # 4000 draws: sd < 0.007


def test_an_informed_adversary_beats_a_fixed_patrol_but_not_the_mix() -> None:
    pg = patrol_game(
        [(0, 10, 0.0), (10, 20, 0.3), (20, 30, 0.6)], windows=2, patrols=2, patrol_catch=0.9
    )
    eq = multiple_lps(pg.game)
    fixed = exercise(pg, [int(np.argmax(eq.x))] * 3000, watch_days=30, seed=1)
    mixed = exercise(pg, list(daily_schedules(eq, 3000, seed=2)), watch_days=30, seed=1)
    # From the second day it crosses where the fixed patrol never is, on the P = 0 stretch.
    assert fixed.through >= fixed.crossings - 1
    assert mixed.high < fixed.low
    # against the mix it does about as well as the game says, never much better
    assert mixed.low - 0.02 <= eq.attacker_values[0] <= mixed.high + 0.05


def test_the_game_takes_the_catch_chance_and_windows_from_the_scenario() -> None:
    stretches = [(0.0, 5.0, 0.0), (5.0, 11.0, 0.5)]
    default = scenario_patrol_game(scenario(), stretches, patrols=1)
    assert (default.patrol_catch, default.windows) == (0.6, 2)
    sc = scenario(patrols={"catch_p": 0.25, "windows": 3})
    pg = scenario_patrol_game(sc, stretches, patrols=1)
    assert (pg.patrol_catch, pg.windows) == (0.25, 3)
    assert pg.success.size == 2 * 3
    # the payoffs carry it: a covered target lets through (1 − P)(1 − 0.25)
    s = pg.schedules.index((0,))
    assert pg.game.attacker[0, s, 0] == pytest.approx(0.75)
    assert pg.game.attacker[0, s, 1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("patrols", "field"),
    [({"catch_p": 1.5}, "patrols.catch_p"), ({"windows": 0}, "patrols.windows"),
     ({"first_window_h": 24}, "patrols.first_window_h"), ({"catch": 0.5}, "patrols.catch")],
)  # fmt: skip
def test_a_bad_patrols_section_is_rejected_by_field(patrols: dict[str, float], field: str) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario(patrols=patrols)
    assert field in {p.path for p in err.value.problems}


@pytest.mark.parametrize(
    ("hour", "window"), [(18.0, 0), (23.9, 0), (0.0, 0), (5.99, 0), (6.0, 1), (17.99, 1)]
)
def test_a_solar_hour_falls_in_the_window_the_docs_say(hour: float, window: int) -> None:
    # the default two windows: night 18–06, day 06–18
    assert scenario().spec.patrols.window_of(hour) == window


def test_three_windows_from_two_in_the_morning() -> None:
    # 02–10, 10–18, 18–02
    three = scenario(patrols={"windows": 3, "first_window_h": 2}).spec.patrols
    assert [three.window_of(h) for h in (2.0, 9.9, 10.0, 18.0, 1.9)] == [0, 0, 1, 2, 2]

"""Crossing rules on hand-built tracks, against analytic and brute-force answers."""

from __future__ import annotations

import dataclasses
import math
import uuid
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limes.ops.alert import Alert, Rule, Severity
from limes.ops.detection import TargetClass
from limes.ops.plan_lookup import PlanError, PlanLookup, SeverityPolicy
from limes.ops.rules import ALERT_NAMESPACE, RuleEngine, alert_id, predict_crossings
from limes.ops.rules.geometry import LineLocator
from limes.ops.tracker import TrackState, TrackStatus
from limes.ops.tracker.track_batch import TrackBatch
from limes.scenario.errors import ScenarioError
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)

SCENARIO: dict[str, Any] = {
    "name": "rules-test",
    "title": "Straight test border (invented)",
    "border": {"line": [[41.0, 34.0], [41.2, 34.0]], "inside": "right"},
    "terrain": {"synthetic": {}},
    "controllers": [
        {"name": "far-west", "channel": "radio net 1"},
        {"name": "far-east", "channel": "radio net 2"},
    ],
    "sectors": [
        {"name": "west", "command": "Command A", "far_side": "far-west", "from_km": 0, "to_km": 9},
        {
            "name": "east", "command": "Command B", "far_side": "far-east",
            "from_km": 9, "to_km": 18.5, "channel": "liaison office",
        },
    ],
    "barriers": [
        {
            "id": "fence-out", "kind": "fence", "from_km": 5, "to_km": 7, "offset_m": -100,
            "delay": {"foot": {"mean_s": 60}}, "blocks_vehicles": True,
        },
        {
            "id": "wire-out", "kind": "wire", "from_km": 12, "to_km": 13, "offset_m": -100,
            "delay": {"foot": {"mean_s": 30}},
        },
        {
            "id": "planned-wall", "kind": "wall", "from_km": 15, "to_km": 16, "offset_m": -100,
            "status": "planned", "delay": {"foot": {"mean_s": 300}}, "blocks_vehicles": True,
        },
    ],
    "rules": {
        "crossing_imminent_min": 10, "approach_zone_m": 3000, "intrusion_depth_m": 5000,
        "loiter_s": 300, "loiter_radius_m": 150, "barrier_proximity_m": 200,
    },
}  # fmt: skip


def make_scenario(**rules: float) -> Scenario:
    data = deepcopy(SCENARIO)
    data["rules"].update(rules)
    return scenario_from_data(data)


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return make_scenario()


def frame_state(
    sc: Scenario,
    track_id: str,
    t_s: float,
    chainage_m: float,
    offset_m: float,
    v_along: float = 0.0,
    v_in: float = 0.0,
    *,
    cls: TargetClass = TargetClass.PERSON,
    status: TrackStatus = TrackStatus.CONFIRMED,
    group: int | None = 3,
    speed_sd: float = 0.2,
) -> TrackState:
    """A track at a chainage/offset moving `v_along` the line and `v_in` toward the inside.

    Position sd 5 m, velocity sd `speed_sd` m/s per axis (a steady, well-measured walker).
    """
    x, y = sc.border.point_at(chainage_m, offset_m)
    tx, ty = sc.border.tangent_at(chainage_m)
    nx, ny = sc.border.inside_normal_at(chainage_m)
    return TrackState(
        track_id=track_id,
        time=T0 + timedelta(seconds=t_s),
        x=float(x),
        y=float(y),
        vx=float(v_along * tx + v_in * nx),
        vy=float(v_along * ty + v_in * ny),
        covariance=tuple(np.diag([25.0, 25.0, speed_sd**2, speed_sd**2]).ravel()),
        target_class=cls,
        class_probabilities={cls.value: 1.0},
        group_size=group,
        status=status,
        hits=5,
        misses=0,
        sensors=("tower-1",),
        last_detection=("tower-1", int(t_s)),
    )


def only(alerts: list[Alert], rule: Rule) -> list[Alert]:
    return [a for a in alerts if a.rule is rule]


def test_an_uncertain_course_or_an_animal_raises_no_imminent_alert(sc: Scenario) -> None:
    # Closing at 1.2 m/s, but its estimate has 1 m/s sd: under the scenario's 2 σ, no evidence.
    engine = RuleEngine(sc)
    sigma = sc.spec.rules.imminent_sigma
    assert sigma == 2.0
    vague = frame_state(sc, "w1", 0, 3000.0, -600.0, 0.0, 1.2, speed_sd=1.0)
    assert only(engine.evaluate([vague]), Rule.CROSSING_IMMINENT) == []
    # The same course measured to 0.5 m/s: 1.2 > 2 × 0.5, an alert.
    firm = frame_state(sc, "w2", 0, 3000.0, -600.0, 0.0, 1.2, speed_sd=0.5)
    assert len(only(engine.evaluate([firm]), Rule.CROSSING_IMMINENT)) == 1
    animal = frame_state(sc, "a1", 0, 3000.0, -600.0, 0.0, 1.2, cls=TargetClass.ANIMAL)
    assert only(engine.evaluate([animal]), Rule.CROSSING_IMMINENT) == []


def test_by_night_the_course_needs_only_the_night_certainty(sc: Scenario) -> None:
    """`night_imminent_sigma` arms the zone more tightly by night (local solar time at the
    track): the course that is no evidence by day is enough at night; none set, no change."""
    armed = make_scenario(night_imminent_sigma=1.0)
    # T0 is 22:00 UTC; at 41.1° E that is 00:44 local solar time. Twelve hours on: 12:44.
    night = frame_state(armed, "n1", 0, 3000.0, -600.0, 0.0, 1.2, speed_sd=1.0)
    day = frame_state(armed, "d1", 12 * 3600, 3000.0, -600.0, 0.0, 1.2, speed_sd=1.0)
    engine = RuleEngine(armed)
    (a,) = only(engine.evaluate([night]), Rule.CROSSING_IMMINENT)
    assert a.track_id == "n1" and a.eta_s == pytest.approx(500.0)
    assert engine.evaluate([day]) == []
    # Exactly at the day's start (06:00 local solar) it is day again: 2 σ.
    lon, _ = armed.frame.to_lonlat(*armed.border.point_at(3000.0, -600.0))
    dawn_s = (6.0 - 22.0 - float(lon) / 15.0) % 24.0 * 3600.0  # seconds after T0
    at_dawn = frame_state(armed, "d2", dawn_s + 1.0, 3000.0, -600.0, 0.0, 1.2, speed_sd=1.0)
    before = frame_state(armed, "n2", dawn_s - 1.0, 3000.0, -600.0, 0.0, 1.2, speed_sd=1.0)
    assert [a.track_id for a in engine.evaluate([at_dawn, before])] == ["n2"]
    # The default scenario has no night setting: the same night course raises nothing.
    assert RuleEngine(sc).evaluate([frame_state(sc, "n3", 0, 3000.0, -600.0, 0.0, 1.2,
                                                speed_sd=1.0)]) == []  # fmt: skip


# --- crossing imminent ---------------------------------------------------------------------


def test_walker_heading_in_gets_imminent_alert_at_the_analytic_point_and_time(sc: Scenario) -> None:
    # 600 m out, closing at 1.2 m/s, drifting 0.5 m/s along: 500 s to the line, 250 m along.
    engine = RuleEngine(sc)
    alerts = engine.evaluate([frame_state(sc, "w1", 0, 3000.0, -600.0, 0.5, 1.2)])
    (a,) = only(alerts, Rule.CROSSING_IMMINENT)
    assert a.eta_s == pytest.approx(600.0 / 1.2, rel=1e-6)
    assert a.chainage_km == pytest.approx((3000.0 + 0.5 * 500.0) / 1000.0, abs=1e-6)
    assert a.offset_m == pytest.approx(-600.0, abs=1e-6)
    assert (a.sector, a.command, a.far_side, a.channel) == (
        "west", "Command A", "far-west", "radio net 1",
    )  # fmt: skip
    assert (a.target_class, a.group_size, a.track_id) == ("person", 3, "w1")
    assert a.severity is Severity.MEDIUM and a.p_interruption is None
    lon, lat = sc.frame.to_lonlat(*sc.border.point_at(3000.0, -600.0))
    assert (a.lon, a.lat) == (pytest.approx(float(lon)), pytest.approx(float(lat)))
    assert a.alert_id == alert_id(Rule.CROSSING_IMMINENT, "w1")


def test_imminent_horizon_comes_from_the_scenario() -> None:
    # 700 s from the line: beyond 10 minutes, inside 15.
    state_args = ("w1", 0, 3000.0, -700.0, 0.0, 1.0)
    strict = make_scenario(crossing_imminent_min=10)
    loose = make_scenario(crossing_imminent_min=15)
    assert (
        only(
            RuleEngine(strict).evaluate([frame_state(strict, *state_args)]), Rule.CROSSING_IMMINENT
        )
        == []
    )
    (a,) = only(
        RuleEngine(loose).evaluate([frame_state(loose, *state_args)]), Rule.CROSSING_IMMINENT
    )
    assert a.eta_s == pytest.approx(700.0)


def test_approach_zone_comes_from_the_scenario() -> None:
    # A group 3.5 km out on a sure course at 0.5 m/s: watched by a 4 km zone, not by 3 km.
    near = make_scenario(approach_zone_m=3000)
    far = make_scenario(approach_zone_m=4000)
    args = ("g1", 0, 4000.0, -3500.0, 0.0, 0.5)
    assert RuleEngine(near).evaluate([frame_state(near, *args, speed_sd=0.1)]) == []
    (a,) = RuleEngine(far).evaluate([frame_state(far, *args, speed_sd=0.1)])
    assert a.rule is Rule.APPROACH


def test_an_imminent_crossing_is_alerted_beyond_the_approach_zone() -> None:
    """The horizon, not the zone, bounds "crossing imminent": a vehicle 3.5 km out at 10 m/s
    meets the line in 350 s, beyond a 3 km zone; a walker there (an hour off) does not."""
    sc = make_scenario(approach_zone_m=3000)
    vehicle = frame_state(sc, "v1", 0, 4000.0, -3500.0, 0.0, 10.0, cls=TargetClass.VEHICLE)
    walker = frame_state(sc, "w1", 0, 6000.0, -3500.0, 0.0, 1.0, speed_sd=0.1)
    (a,) = RuleEngine(sc).evaluate([vehicle, walker])
    assert a.rule is Rule.CROSSING_IMMINENT and a.track_id == "v1"
    assert a.eta_s == pytest.approx(350.0) and a.target_class == "vehicle"
    assert a.severity is Severity.HIGH  # vehicles one step above the rule's floor


# --- approach --------------------------------------------------------------------------------


def test_a_slow_group_on_a_sure_course_is_alerted_as_it_approaches_then_as_imminent(
    sc: Scenario,
) -> None:
    # 2 km out at 0.5 m/s: 4,000 s from the line, far beyond the 10-minute horizon.
    engine = RuleEngine(sc)
    (a,) = engine.evaluate([frame_state(sc, "g1", 0, 3000.0, -2000.0, 0.0, 0.5, speed_sd=0.1)])
    assert a.rule is Rule.APPROACH and a.eta_s is None and a.severity is Severity.LOW
    assert "2000 m out" in a.detail and a.alert_id == alert_id(Rule.APPROACH, "g1")
    # Once: later states on the same course add nothing until the line is 10 minutes off.
    assert (
        engine.evaluate([frame_state(sc, "g1", 600, 3000.0, -1700.0, 0.0, 0.5, speed_sd=0.1)]) == []
    )
    (b,) = engine.evaluate([frame_state(sc, "g1", 2900, 3000.0, -250.0, 0.0, 0.5, speed_sd=0.1)])
    assert b.rule is Rule.CROSSING_IMMINENT and b.eta_s == pytest.approx(500.0)


def test_no_approach_alert_on_an_unsure_course_an_animal_or_outside_the_zone(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    # Closing at 0.5 m/s with 0.5 m/s sd: not beyond 2 σ.
    vague = frame_state(sc, "v1", 0, 3000.0, -2000.0, 0.0, 0.5, speed_sd=0.5)
    animal = frame_state(
        sc, "a1", 0, 5000.0, -2000.0, 0.0, 0.5, speed_sd=0.1, cls=TargetClass.ANIMAL
    )
    beyond = frame_state(sc, "b1", 0, 7000.0, -3500.0, 0.0, 0.5, speed_sd=0.1)
    parallel = frame_state(sc, "p1", 0, 9000.0, -1000.0, 1.0, 0.0, speed_sd=0.1)
    assert engine.evaluate([vague, animal, beyond, parallel]) == []


def test_an_imminent_crossing_is_not_also_alerted_as_an_approach(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    first = engine.evaluate([frame_state(sc, "w1", 0, 3000.0, -600.0, 0.0, 1.2)])
    later = engine.evaluate([frame_state(sc, "w1", 60, 3000.0, -528.0, 0.0, 1.2)])
    assert [a.rule for a in first] == [Rule.CROSSING_IMMINENT] and later == []


def test_track_moving_parallel_outside_raises_nothing(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    states = [
        frame_state(sc, "p1", t, 2000.0 + 1.4 * t, -400.0, 1.4, 0.0) for t in range(0, 600, 30)
    ]
    assert engine.evaluate(states) == []


def test_track_moving_away_raises_nothing(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    assert engine.evaluate([frame_state(sc, "a1", 0, 2000.0, -100.0, 0.3, -1.4)]) == []


def test_tentative_and_coasting_tracks_fire_nothing(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    states = [
        frame_state(sc, "t1", 0, 3000.0, -100.0, 0.0, 1.0, status=TrackStatus.TENTATIVE),
        frame_state(sc, "c1", 0, 3000.0, -100.0, 0.0, 1.0, status=TrackStatus.COASTING),
        frame_state(sc, "c2", 0, 3000.0, 100.0, 0.0, 1.0, status=TrackStatus.COASTING),
    ]
    assert engine.evaluate(states) == []


# --- crossed and intrusion -----------------------------------------------------------------


def test_crossing_fires_crossed_at_the_interpolated_chainage(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    first = frame_state(sc, "w2", 0, 10_000.0, -30.0, 1.0, 1.0)
    second = frame_state(sc, "w2", 80, 10_080.0, 50.0, 1.0, 1.0)
    assert only(engine.evaluate([first]), Rule.CROSSED) == []
    alerts = engine.evaluate([second])
    (a,) = only(alerts, Rule.CROSSED)
    # Offset goes −30 → +50 while chainage goes 10000 → 10080: zero at 30/80 of the way.
    assert a.chainage_km == pytest.approx((10_000.0 + 80.0 * 30.0 / 80.0) / 1000.0, abs=1e-6)
    assert (a.sector, a.command, a.far_side, a.channel) == (
        "east", "Command B", "far-east", "liaison office",
    )  # fmt: skip
    assert a.severity is Severity.HIGH
    (intrusion,) = only(alerts, Rule.INTRUSION)
    assert intrusion.chainage_km == pytest.approx(a.chainage_km)
    assert intrusion.offset_m == pytest.approx(50.0)


def test_both_states_in_one_update_still_cross(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    states = [
        frame_state(sc, "w3", 0, 1000.0, -20.0, 0.0, 1.0),
        frame_state(sc, "x9", 0, 8000.0, -900.0, 0.0, 0.0),
        frame_state(sc, "w3", 40, 1000.0, 20.0, 0.0, 1.0),
    ]
    (a,) = only(engine.evaluate(states), Rule.CROSSED)
    assert a.track_id == "w3" and a.chainage_km == pytest.approx(1.0, abs=1e-6)


def test_crossing_while_tentative_fires_on_confirmation(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    tentative = TrackStatus.TENTATIVE
    assert engine.evaluate([frame_state(sc, "w4", 0, 6000.0, -10.0, status=tentative)]) == []
    assert engine.evaluate([frame_state(sc, "w4", 10, 6010.0, 10.0, status=tentative)]) == []
    (a,) = only(engine.evaluate([frame_state(sc, "w4", 20, 6020.0, 20.0)]), Rule.CROSSED)
    assert a.chainage_km == pytest.approx(6.005, abs=1e-6)


def test_going_back_out_before_confirmation_cancels_the_crossing(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    tentative = TrackStatus.TENTATIVE
    engine.evaluate([frame_state(sc, "w5", 0, 6000.0, -10.0, status=tentative)])
    engine.evaluate([frame_state(sc, "w5", 10, 6000.0, 10.0, status=tentative)])
    assert only(engine.evaluate([frame_state(sc, "w5", 20, 6000.0, -20.0)]), Rule.CROSSED) == []


def test_one_credible_report_inside_raises_an_intrusion_before_its_track_is_confirmed(
    sc: Scenario,
) -> None:
    # Tentative tracks 300 m inside: one report at odds 9 (confidence 0.9), one at odds 2, and
    # a track of two reports whose score is high (its evidence is not one report's).
    states = [
        dataclasses.replace(frame_state(sc, k, 0, 4000.0 + 1000.0 * n, 300.0,
                                        status=TrackStatus.TENTATIVE), hits=hits)
        for n, (k, hits) in enumerate((("sure", 1), ("unsure", 1), ("pair", 2)))
    ]  # fmt: skip
    batch = TrackBatch.from_states(states)
    batch.score = np.log(np.array([9.0, 2.0, 50.0]))
    assert sc.spec.rules.credible_report_odds == 4.0
    (a,) = RuleEngine(sc).evaluate(batch)
    assert (a.rule, a.track_id) == (Rule.INTRUSION, "sure")
    # Outside the line a single report raises nothing (herders graze there).
    outside = frame_state(sc, "o", 0, 4000.0, -300.0, 0.0, 0.5, status=TrackStatus.TENTATIVE)
    out = TrackBatch.from_states([dataclasses.replace(outside, hits=1)])
    out.score = np.log(np.array([9.0]))
    assert RuleEngine(sc).evaluate(out) == []


def test_a_credible_lone_report_beside_an_alerted_track_is_taken_for_a_fragment_of_it(
    sc: Scenario,
) -> None:
    engine = RuleEngine(sc)
    (first,) = engine.evaluate([frame_state(sc, "t1", 0, 4000.0, 300.0)])
    assert first.rule is Rule.INTRUSION
    lone = [
        dataclasses.replace(frame_state(sc, k, 10, chain, 300.0, status=TrackStatus.TENTATIVE),
                            hits=1)
        for k, chain in (("near", 4200.0), ("far", 9000.0))
    ]  # fmt: skip
    batch = TrackBatch.from_states(lone)
    batch.score = np.log(np.array([9.0, 9.0]))
    assert [(a.rule, a.track_id) for a in engine.evaluate(batch)] == [(Rule.INTRUSION, "far")]


def test_intrusion_depth_comes_from_the_scenario() -> None:
    shallow = make_scenario(intrusion_depth_m=1000)
    deep = make_scenario(intrusion_depth_m=3000)
    assert RuleEngine(shallow).evaluate([frame_state(shallow, "i1", 0, 4000.0, 2000.0)]) == []
    (a,) = RuleEngine(deep).evaluate([frame_state(deep, "i1", 0, 4000.0, 2000.0)])
    assert a.rule is Rule.INTRUSION and a.chainage_km == pytest.approx(4.0, abs=1e-6)


# --- deduplication -------------------------------------------------------------------------


def test_each_rule_fires_once_per_track(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    fired: list[Alert] = []
    for t in range(0, 400, 20):  # heading in for 400 s from 500 m out at 1 m/s: never crosses
        fired += engine.evaluate([frame_state(sc, "d1", t, 3000.0, -500.0 + t, 0.0, 1.0)])
    fired += engine.evaluate([frame_state(sc, "d2", 0, 3500.0, -500.0, 0.0, 1.0)])
    assert [(a.track_id, a.rule) for a in fired] == [
        ("d1", Rule.CROSSING_IMMINENT), ("d2", Rule.CROSSING_IMMINENT),
    ]  # fmt: skip
    assert fired[0].alert_id != fired[1].alert_id


def test_replay_on_a_fresh_engine_gives_the_same_alert_ids(sc: Scenario) -> None:
    states = [
        frame_state(sc, "r1", 0, 7000.0, -50.0, 0.0, 1.0),
        frame_state(sc, "r1", 100, 7000.0, 50.0, 0.0, 1.0),
    ]
    first = RuleEngine(sc).evaluate(states)
    second = RuleEngine(sc).evaluate(states)
    assert [a.alert_id for a in first] == [a.alert_id for a in second]
    assert len({a.alert_id for a in first}) == len(first) == 3  # imminent, crossed, intrusion


def test_deleted_track_is_forgotten(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    engine.evaluate([frame_state(sc, "g1", 0, 3000.0, -300.0, 0.0, 1.0)])
    assert engine.tracks_remembered == 1
    engine.evaluate([frame_state(sc, "g1", 5, 3000.0, -295.0, status=TrackStatus.DELETED)])
    assert engine.tracks_remembered == 0


# --- loitering and vehicles at barriers ----------------------------------------------------


def loiter_track(
    sc: Scenario, track_id: str, times: range, offset_m: float = -120.0
) -> list[Alert]:
    engine = RuleEngine(sc)
    rng = np.random.default_rng(7)
    out: list[Alert] = []
    for t in times:
        jitter = rng.uniform(-40.0, 40.0, 2)
        out += engine.evaluate(
            [frame_state(sc, track_id, t, 6000.0 + jitter[0], offset_m + jitter[1])]
        )
    return out


def test_loiterer_at_a_barrier_fires_after_loiter_s_not_before(sc: Scenario) -> None:
    assert loiter_track(sc, "l1", range(0, 300, 10)) == []  # last state at 290 s
    (a,) = loiter_track(sc, "l1", range(0, 310, 10))  # 300 s
    assert a.rule is Rule.LOITERING and a.barrier_id == "fence-out"
    assert a.time == T0 + timedelta(seconds=300)
    assert a.severity is Severity.LOW


def test_loiter_time_comes_from_the_scenario() -> None:
    quick = make_scenario(loiter_s=120)
    (a,) = loiter_track(quick, "l2", range(0, 130, 10))
    assert a.rule is Rule.LOITERING and a.time == T0 + timedelta(seconds=120)


def test_loitering_away_from_barriers_fires_nothing(sc: Scenario) -> None:
    assert loiter_track(sc, "l3", range(0, 900, 10), offset_m=-600.0) == []


def test_walking_along_the_barrier_restarts_the_loiter_clock(sc: Scenario) -> None:
    # 1 m/s along the fence: 150 m takes 150 s, so it never stays 300 s in one spot.
    engine = RuleEngine(sc)
    states = [frame_state(sc, "l4", t, 5000.0 + t, -120.0, 1.0, 0.0) for t in range(0, 1900, 10)]
    assert engine.evaluate(states) == []


def test_vehicle_at_a_vehicle_blocking_barrier(sc: Scenario) -> None:
    engine = RuleEngine(sc)
    alerts = engine.evaluate(
        [
            frame_state(sc, "v1", 0, 6500.0, -250.0, cls=TargetClass.VEHICLE),  # 150 m: near
            frame_state(sc, "v2", 0, 6500.0, -350.0, cls=TargetClass.VEHICLE),  # 250 m: not
            frame_state(sc, "v3", 0, 12_500.0, -150.0, cls=TargetClass.VEHICLE),  # wire: no block
            frame_state(sc, "v4", 0, 15_500.0, -150.0, cls=TargetClass.VEHICLE),  # planned wall
            frame_state(sc, "p1", 0, 6500.0, -150.0, cls=TargetClass.PERSON),
        ]
    )
    (a,) = alerts
    assert (a.rule, a.track_id, a.barrier_id) == (Rule.VEHICLE_AT_BARRIER, "v1", "fence-out")
    assert a.chainage_km == pytest.approx(6.5, abs=1e-6)
    assert "150 m" in a.detail


def test_barrier_proximity_comes_from_the_scenario() -> None:
    wide = make_scenario(barrier_proximity_m=300)
    alerts = RuleEngine(wide).evaluate(
        [frame_state(wide, "v2", 0, 6500.0, -350.0, cls=TargetClass.VEHICLE)]
    )
    assert [a.rule for a in alerts] == [Rule.VEHICLE_AT_BARRIER]


# --- prediction against a brute-force walk on a bent line ----------------------------------

BENT = deepcopy(SCENARIO)
BENT["border"]["line"] = [[41.0, 34.0], [41.08, 34.03], [41.15, 33.99], [41.2, 34.01]]
BENT["barriers"] = []
BENT["sectors"][1]["to_km"] = 21.1


def brute_force_crossing(
    sc: Scenario, x: float, y: float, vx: float, vy: float, horizon_s: float
) -> tuple[float, float] | None:
    """First time the straight course's offset turns ≥ 0, by fine steps then bisection."""
    t = np.linspace(0.0, horizon_s, 20_001)
    _, off = sc.locate(x + vx * t, y + vy * t)
    inside = np.flatnonzero(off >= 0)
    if inside.size == 0:
        return None
    k = int(inside[0])
    lo, hi = float(t[k - 1]), float(t[k])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        _, o = sc.locate(x + vx * mid, y + vy * mid)
        lo, hi = (lo, mid) if float(o) >= 0 else (mid, hi)
    ch, _ = sc.locate(x + vx * hi, y + vy * hi)
    return hi, float(ch)


@settings(max_examples=60, deadline=None)
@given(
    chainage=st.floats(500.0, 17_000.0),
    offset=st.floats(-2500.0, -5.0),
    speed=st.floats(0.5, 15.0),
    heading=st.floats(0.0, 2 * math.pi),
)
def test_predicted_crossing_matches_brute_force_on_a_bent_line(
    chainage: float, offset: float, speed: float, heading: float
) -> None:
    sc = BENT_SCENARIO
    x, y = (float(v) for v in sc.border.point_at(chainage, offset))
    _, true_off = sc.locate(x, y)
    if float(true_off) >= 0:  # offset along a bend's normal can land on the other side
        return
    vx, vy = speed * math.cos(heading), speed * math.sin(heading)
    horizon = 600.0
    eta, ch = predict_crossings(
        sc.border, np.array([x]), np.array([y]), np.array([vx]), np.array([vy]), horizon
    )
    expected = brute_force_crossing(sc, x, y, vx, vy, horizon)
    if expected is not None and not 1.0 < expected[1] < sc.border.length_m - 1.0:
        expected = None  # past an end of the line the offset's sign flips without a crossing
    if expected is None:
        assert np.isnan(eta[0])
        return
    # A step of the brute force may graze a bend; compare where it finds a clean crossing.
    assert eta[0] == pytest.approx(expected[0], abs=horizon / 20_000 + 1e-6)
    assert ch[0] == pytest.approx(expected[1], abs=speed * horizon / 20_000 + 0.01)


BENT_SCENARIO = scenario_from_data(BENT)


# --- severity from the plan ----------------------------------------------------------------


def plan_summary(p_km3_foot: float) -> dict[str, Any]:
    per_km = [{"chainage_km": float(k), "p_interruption": 0.9} for k in range(19)]
    per_km[3] = {"chainage_km": 3.0, "p_interruption": p_km3_foot}
    vehicle = [{"chainage_km": float(k), "p_interruption": 0.8} for k in range(19)]
    return {
        "runs": [
            {"mode": "foot", "light": "night", "per_km": per_km},
            {
                "mode": "foot",
                "light": "day",
                "per_km": [{"chainage_km": 3.0, "p_interruption": 0.95}],
            },
            {"mode": "vehicle", "light": "day", "per_km": vehicle},
        ]
    }


@pytest.mark.parametrize(
    ("p", "severity"),
    [
        (0.1, Severity.CRITICAL),
        (0.4, Severity.HIGH),
        (0.6, Severity.MEDIUM),
        (0.9, Severity.MEDIUM),
    ],
)
def test_imminent_severity_rises_as_the_plans_p_falls(
    sc: Scenario, p: float, severity: Severity
) -> None:
    plan = PlanLookup.from_summary(plan_summary(p))
    engine = RuleEngine(sc, plan)
    (a,) = engine.evaluate([frame_state(sc, "s1", 0, 3000.0, -600.0, 0.5, 1.2)])
    assert a.chainage_km == pytest.approx(3.25)
    assert a.p_interruption == pytest.approx(p)  # night is worse than day: the min is kept
    assert a.severity is severity


def test_vehicle_takes_the_vehicle_plan(sc: Scenario) -> None:
    engine = RuleEngine(sc, PlanLookup.from_summary(plan_summary(0.1)))
    (a,) = engine.evaluate(
        [frame_state(sc, "s2", 0, 3000.0, -600.0, 0.5, 1.2, cls=TargetClass.VEHICLE)]
    )
    assert a.p_interruption == pytest.approx(0.8)


@given(p1=st.floats(0.0, 1.0), p2=st.floats(0.0, 1.0), rule=st.sampled_from(list(Rule)),
       cls=st.sampled_from(list(TargetClass)))  # fmt: skip
def test_lower_p_never_lowers_severity(p1: float, p2: float, rule: Rule, cls: TargetClass) -> None:
    policy = SeverityPolicy()
    levels = list(Severity)
    lo, hi = min(p1, p2), max(p1, p2)
    assert levels.index(policy.severity(rule, cls, lo)) >= levels.index(
        policy.severity(rule, cls, hi)
    )
    assert levels.index(policy.severity(rule, cls, lo)) >= levels.index(
        policy.severity(rule, cls, None)
    )


def test_plan_loads_from_summary_file(tmp_path: Any) -> None:
    import json

    (tmp_path / "summary.json").write_text(json.dumps({"scenario": "t", "runs": [
        {"mode": "foot", "light": "night", "per_km": [
            {"chainage_km": 0.0, "p_interruption": 0.3},
            {"chainage_km": 1.0, "p_interruption": 0.7},
        ]},
    ]}))  # fmt: skip
    plan = PlanLookup.load(tmp_path)
    assert plan.p_at([0.5, 1.99, 2.5], "foot").tolist()[:2] == [0.3, 0.7]
    assert math.isnan(plan.p_at([2.5], "foot")[0])


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "must be a JSON object"),
        ({"runs": [{"per_km": "x"}]}, "runs[0].per_km must be a list"),
        ({"per_km": [{"chainage_km": 1.0}]}, "per_km[0]: missing p_interruption"),
        ({"per_km": [{"chainage_km": 1.0, "p_interruption": 1.5}]}, "0 ≤ p_interruption ≤ 1"),
        ({"nothing": 1}, "no per_km list"),
    ],
)
def test_bad_plan_summary_is_named(doc: Any, message: str) -> None:
    with pytest.raises(PlanError, match=".*" + message.replace("[", r"\[").replace("]", r"\]")):
        PlanLookup.from_summary(doc, "plan/summary.json")


def test_plan_from_an_assessment_in_memory() -> None:
    from limes.analysis.result import Assessment, KmResult, Run, Weakness
    from limes.scenario.schema import Light, Mode

    def run(mode: Mode, light: Light, ps: list[float]) -> Run:
        per_km = [KmResult(float(k), p, "west", Weakness.HELD, p, p) for k, p in enumerate(ps)]
        return Run(mode, light, per_km, [])

    assessment = Assessment("rules-test", 100.0, [
        run(Mode.FOOT, Light.DAY, [0.9, 0.8]), run(Mode.FOOT, Light.NIGHT, [0.4, 0.85]),
        run(Mode.VEHICLE, Light.DAY, [0.2, 0.3]),
    ])  # fmt: skip
    plan = PlanLookup.from_assessment(assessment)
    assert plan.p_at([0.5, 1.5], "foot").tolist() == [0.4, 0.8]
    assert plan.p_at([0.5, 1.5], "vehicle").tolist() == [0.2, 0.3]
    assert plan.p_at([0.5], "boat").tolist() == [0.2]  # unknown mode: worst of all


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.floats(4000.0, 8000.0),
            st.floats(-800.0, 800.0),
            st.floats(-3.0, 3.0),
            st.floats(-3.0, 3.0),
            st.sampled_from([TrackStatus.TENTATIVE, TrackStatus.CONFIRMED, TrackStatus.COASTING]),
            st.sampled_from([TargetClass.PERSON, TargetClass.VEHICLE]),
        ),
        max_size=40,
    ),
    st.integers(1, 5),
)
def test_no_rule_fires_twice_on_a_track_and_only_confirmed_tracks_fire(
    steps: list[tuple[str, float, float, float, float, TrackStatus, TargetClass]], chunk: int
) -> None:
    sc = RULES_SCENARIO
    engine = RuleEngine(sc)
    states = [
        frame_state(sc, tid, 30.0 * i, ch, off, va, vi, cls=cls, status=status)
        for i, (tid, ch, off, va, vi, status, cls) in enumerate(steps)
    ]
    alerts: list[Alert] = []
    for k in range(0, len(states), chunk):
        alerts += engine.evaluate(states[k : k + chunk])
    pairs = [(a.track_id, a.rule) for a in alerts]
    assert len(pairs) == len(set(pairs))
    assert len({a.alert_id for a in alerts}) == len(alerts)
    confirmed_ids = {s.track_id for s in states if s.status is TrackStatus.CONFIRMED}
    assert {a.track_id for a in alerts} <= confirmed_ids


RULES_SCENARIO = make_scenario()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-30_000, 30_000), st.floats(-20_000, 20_000)), min_size=1,
             max_size=50),
    st.booleans(),
)  # fmt: skip
def test_fast_locator_agrees_with_the_border_line(
    points: list[tuple[float, float]], bent: bool
) -> None:
    sc = BENT_SCENARIO if bent else RULES_SCENARIO
    x, y = np.array(points).T
    chain, off = LineLocator(sc.border).locate(x, y)
    ref_chain, ref_off = sc.border.locate(x, y)
    # The distance to the line is unique; the chainage too, except where two stretches of a
    # bent line are equally near (then either answer is right).
    np.testing.assert_allclose(np.abs(off), np.abs(ref_off), rtol=1e-9, atol=1e-6)
    same = np.abs(chain - ref_chain) < 1e-3
    np.testing.assert_allclose(off[same], ref_off[same], rtol=1e-9, atol=1e-6)
    # Wherever the chainages differ, ours is a nearest point of the line too.
    fx, fy = sc.border.point_at(chain, 0.0)
    np.testing.assert_allclose(np.hypot(x - fx, y - fy), np.abs(ref_off), rtol=1e-9, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(Rule)), st.text(min_size=0, max_size=80))
def test_alert_id_is_the_uuid5_of_rule_and_track(rule: Rule, track_id: str) -> None:
    assert alert_id(rule, track_id) == str(uuid.uuid5(ALERT_NAMESPACE, f"{rule.value}:{track_id}"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.floats(1000.0, 17_000.0),
            st.floats(-400.0, 400.0),
            st.floats(-3.0, 3.0),
            st.floats(-3.0, 3.0),
            st.sampled_from([TrackStatus.TENTATIVE, TrackStatus.CONFIRMED, TrackStatus.DELETED]),
            st.sampled_from([TargetClass.PERSON, TargetClass.VEHICLE, TargetClass.UNKNOWN]),
        ),
        max_size=30,
    ),
)
def test_one_batch_fires_what_the_same_states_fire_one_by_one(
    steps: list[tuple[str, float, float, float, float, TrackStatus, TargetClass]],
) -> None:
    # Reference: each state on its own (a round of one). Repeated tracks in the batch are cut
    # into rounds, so the whole batch, as records or as columns, must fire the same alerts.
    sc = RULES_SCENARIO
    states = [
        frame_state(sc, tid, 20.0 * i, ch, off, va, vi, cls=cls, status=status)
        for i, (tid, ch, off, va, vi, status, cls) in enumerate(steps)
    ]
    one_by_one: list[Alert] = []
    engine = RuleEngine(sc)
    for s in states:
        one_by_one += engine.evaluate([s])
    as_records = RuleEngine(sc).evaluate(states)
    as_columns = RuleEngine(sc).evaluate(TrackBatch.from_states(states))

    def key(a: Alert) -> tuple[str, str, float]:
        return (a.track_id, a.rule.value, a.time.timestamp())

    assert sorted(as_records, key=key) == sorted(one_by_one, key=key)
    assert as_columns == as_records


def test_alerts_of_one_crossing_group_share_an_incident_key(sc: Scenario) -> None:
    # Two tracks of one group 200 m apart, a minute apart: one key (the first track's). A track
    # 20 km along, and one at the same place after the group's window: keys of their own.
    rules = sc.spec.rules
    engine = RuleEngine(sc)
    first = engine.evaluate([frame_state(sc, "a", 0, 3000.0, 100.0)])
    second = engine.evaluate([frame_state(sc, "b", 60, 3200.0, 120.0)])
    far = engine.evaluate([frame_state(sc, "c", 61, 23000.0, 100.0)])
    late = engine.evaluate([frame_state(sc, "d", 61 + rules.group_window_s + 1, 3000.0, 100.0)])
    assert {a.incident_key for a in first} == {"a"}
    assert {a.incident_key for a in second} == {"a"}
    assert {a.incident_key for a in far} == {"c"}
    assert {a.incident_key for a in late} == {"d"}
    assert "evidence: 5 reports from tower-1" in first[0].detail


@pytest.mark.parametrize("hours", [[18, 6], [6, 6], [-1, 18], [6, 25]])
def test_day_hours_outside_one_day_are_refused_by_name(hours: list[float]) -> None:
    with pytest.raises(ScenarioError, match="day_hours"):
        make_scenario(day_hours=hours)  # type: ignore[arg-type]

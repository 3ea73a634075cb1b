"""Simulated reports: valid for the JSON door, numbered, late by their latency, honest rates."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from scipy.stats import poisson

from limes.ops.ingest import parse_json_message
from limes.ops.ingest.context import ingest_context
from limes.scenario.model import Scenario
from limes.scenario.schema import Light
from limes.sim.config import Outage, SimConfig
from limes.sim.run import SimulationError, simulate

BUSY = SimConfig(actors_per_day=60.0)


def test_every_message_is_accepted_by_the_live_json_reader(small: Scenario) -> None:
    res = simulate(small, 12, seed=2, config=BUSY)
    assert res.emissions
    arrival = [res.config.start]
    # The receiving system shares the exercise clock: now is when the report arrives.
    ctx = ingest_context(small, clock=lambda: arrival[0])
    for e in res.emissions:
        arrival[0] = res.config.start + timedelta(seconds=e.send_s)
        out = parse_json_message(e.payload, ctx, source="test", expected_sensor=e.sensor_id)
        assert not out.rejections, out.rejections
        (d,) = out.detections
        assert (d.sensor_id, d.seq) == (e.sensor_id, e.seq)
        assert d.time == e.time
        assert d.target_class.value == e.target_class
        assert math.isclose(d.var_xx, e.position_sd_m**2, rel_tol=1e-6)


def test_reports_leave_in_order_numbered_per_sensor_after_their_latency(small: Scenario) -> None:
    res = simulate(small, 12, seed=4, config=BUSY)
    send = np.array([e.send_s for e in res.emissions])
    assert np.all(np.diff(send) >= 0)
    assert all(e.send_s >= e.time_s for e in res.emissions)
    for sensor in ("T1", "T2"):
        seqs = [e.seq for e in res.emissions if e.sensor_id == sensor]
        assert seqs == list(range(BUSY.seq_start, BUSY.seq_start + len(seqs)))
    # Latency mean 3 s, sd 1 s (the sensor model): the mean delay shows it.
    delay = np.array([e.send_s - e.time_s for e in res.emissions])
    assert 2.7 < delay.mean() < 3.3


def test_false_alarms_come_at_the_laws_rate_within_range(small: Scenario) -> None:
    hours = 48.0
    res = simulate(small, hours, seed=9, config=SimConfig(actors_per_day=0.0))
    assert all(e.actor_id is None for e in res.emissions)
    model = small.spec.sensor_models[0]
    # Same laws by day and night here: the rate per sensor is the sum over its classes.
    per_h = sum(by[Light.NIGHT].false_alarm_per_h for by in model.laws.values())
    expected = per_h * hours * len(small.spec.sensors)
    lo, hi = poisson.ppf([0.0005, 0.9995], expected)
    assert lo <= len(res.emissions) <= hi
    reach = max(law.range_m for by in model.laws.values() for law in by.values())
    for e in res.emissions:
        x, y = small.frame.to_xy(e.lon, e.lat)
        sx, sy = small.position_xy(small.sensors[e.sensor_id].position)
        assert math.hypot(x - sx, y - sy) <= reach + 4 * e.position_sd_m


def test_a_sensor_that_is_down_says_nothing_and_a_cut_link_sends_late(small: Scenario) -> None:
    down = Outage("T1", 3600.0, 4 * 3600.0, "down")
    link = Outage("T2", 3600.0, 4 * 3600.0, "link")
    cfg = replace(BUSY, outages=(down, link))
    res = simulate(small, 8, seed=5, config=cfg)
    t1 = [e for e in res.emissions if e.sensor_id == "T1"]
    assert t1 and not [e for e in t1 if down.start_s <= e.time_s < down.end_s]
    held = [
        e for e in res.emissions if e.sensor_id == "T2" and link.start_s <= e.time_s < 3.9 * 3600
    ]
    assert held and all(e.send_s >= link.end_s for e in held)


def test_an_outage_of_an_unknown_sensor_is_a_clear_error(small: Scenario) -> None:
    cfg = replace(BUSY, outages=(Outage("nope", 0.0, 10.0),))
    with pytest.raises(SimulationError, match="'nope'"):
        simulate(small, 1, seed=1, config=cfg)


@pytest.mark.parametrize("hours", [0, -1, float("nan"), "24"])
def test_bad_hours_are_refused_with_the_value(small: Scenario, hours: object) -> None:
    with pytest.raises(SimulationError, match="hours"):
        simulate(small, hours, seed=1)  # type: ignore[arg-type]

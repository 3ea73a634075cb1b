"""Senders: the live system's doors read what the simulator sends, whichever door it takes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from limes.clock import SimClock
from limes.exercise.in_process import json_door
from limes.ops.detection import Detection
from limes.ops.ingest import ingest_http_batch, parse_cot_event, parse_json_message
from limes.ops.ingest.context import ingest_context
from limes.ops.ingest.mqtt import topic_sensor
from limes.scenario.model import Scenario
from limes.sim.config import SimConfig
from limes.sim.emission import Emission
from limes.sim.run import SimulationResult, simulate
from limes.sim.senders import InProcessSender, MqttSender, batch_body, cot_event

BUSY = SimConfig(actors_per_day=60.0)


@pytest.fixture(scope="module")
def run(small: Scenario) -> SimulationResult:
    return simulate(small, 8, seed=21, config=BUSY)


def _ctx_at(small: Scenario, when: datetime) -> Any:
    return ingest_context(small, clock=lambda: when)


def test_cot_events_read_back_as_the_same_detection(small: Scenario, run: SimulationResult) -> None:
    for e in run.emissions[:200]:
        ctx = _ctx_at(small, e.time + timedelta(seconds=1))
        out = parse_cot_event(cot_event(e), ctx, source="test")
        assert not out.rejections, out.rejections
        (d,) = out.detections
        assert (d.sensor_id, d.seq, d.target_class.value) == (e.sensor_id, e.seq, e.target_class)
        assert (d.lon, d.lat, d.time) == (e.lon, e.lat, e.time)
        assert d.group_size == e.group_size
        assert d.confidence == pytest.approx(e.confidence)


def test_an_http_batch_is_accepted_whole(small: Scenario, run: SimulationResult) -> None:
    batch = run.emissions[:300]
    got: list[Detection] = []
    ctx = _ctx_at(small, batch[-1].time + timedelta(seconds=5))
    result = ingest_http_batch(batch_body(batch), ctx, on_detections=got.extend,
                               on_rejection=lambda r: None)  # fmt: skip
    assert (result.accepted, result.rejected) == (len(batch), 0)
    assert [(d.sensor_id, d.seq) for d in got] == [(e.sensor_id, e.seq) for e in batch]


@dataclass(frozen=True)
class FakeAlert:
    time: datetime
    lon: float
    lat: float


def test_in_process_door_hands_detections_on_and_alerts_back(small: Scenario) -> None:
    clock = SimClock(BUSY.start)  # unpaced: the context's clock follows the reports instead
    submitted: list[Detection] = []
    latest: list[datetime] = [BUSY.start]

    def submit(dets: list[Detection]) -> list[FakeAlert]:
        submitted.extend(dets)
        # An alert at the first detection of every batch, as a pipeline might raise.
        return [FakeAlert(dets[0].time, dets[0].lon, dets[0].lat)]

    ctx = ingest_context(small, clock=lambda: latest[0])

    def door(batch: Sequence[Emission]) -> list[Any]:
        latest[0] = BUSY.start + timedelta(seconds=batch[-1].send_s)
        return handler(batch)

    handler = json_door(ctx, submit)
    res = simulate(small, 8, seed=21, config=BUSY, sender=InProcessSender(door), clock=clock)
    assert not handler.rejected  # type: ignore[attr-defined]
    assert len(submitted) == len(res.emissions)
    assert res.alerts and res.scorecard.alerts == len(res.alerts)
    assert res.scorecard.totals.alerted is not None


@pytest.mark.mqtt
def test_an_accelerated_run_reaches_a_plain_mqtt_subscriber(small: Scenario) -> None:
    prefix = f"limes-test-{uuid.uuid4().hex[:8]}/v1/sensors"
    received: list[tuple[str, bytes]] = []
    ready = threading.Event()
    sub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                      client_id=f"sim-test-{uuid.uuid4().hex[:8]}")  # fmt: skip
    sub.on_connect = lambda c, u, f, r, p: c.subscribe(f"{prefix}/+/detections", qos=1)
    sub.on_subscribe = lambda c, u, m, r, p: ready.set()
    sub.on_message = lambda c, u, msg: received.append((msg.topic, bytes(msg.payload)))
    sub.connect("127.0.0.1", 1883)
    sub.loop_start()
    try:
        assert ready.wait(10)
        clock = SimClock(BUSY.start, 600.0)
        res = simulate(small, 1.0, seed=3, config=BUSY, clock=clock,
                       sender=MqttSender("127.0.0.1", 1883, topic_prefix=prefix))  # fmt: skip
        assert res.emissions
        deadline = threading.Event()
        for _ in range(100):
            if len(received) >= len(res.emissions):
                break
            deadline.wait(0.1)
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert len(received) == len(res.emissions)
    ctx = ingest_context(small, clock=lambda: clock.at(3600.0 + 60.0))
    got = []
    for topic, payload in received:
        sensor = topic_sensor(topic, prefix)
        out = parse_json_message(payload, ctx, source="test", expected_sensor=sensor)
        assert not out.rejections, out.rejections
        got.extend(out.detections)
    assert sorted((d.sensor_id, d.seq) for d in got) == sorted(
        (e.sensor_id, e.seq) for e in res.emissions
    )

"""The live pipeline end to end, in process and through the real doors (MQTT, CoT over TCP)."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from test_metrics import parse_exposition, value_of

from limes.ops.alert import Alert, Rule
from limes.ops.bus import LocalBus, Topic
from limes.ops.detection import Detection, TargetClass
from limes.ops.ingest.context import ingest_context
from limes.ops.ingest.dead_letter import MemoryDeadLetterSink
from limes.ops.pipeline import Pipeline
from limes.ops.tracker import TrackStatus
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)

LAW = {"range_m": 8000, "hazard_per_s": 0.5, "position_sd_m": 10}
SCENARIO: dict[str, Any] = {
    "name": "pipeline-test",
    "title": "Straight test border (invented positions)",
    "border": {"line": [[41.0, 34.0], [41.2, 34.0]], "inside": "right"},
    "terrain": {"synthetic": {}},
    "controllers": [
        {"name": "far-west", "channel": "radio net 1"},
        {"name": "far-east", "channel": "radio net 2"},
    ],
    "sectors": [
        {"name": "west", "command": "Command A", "far_side": "far-west", "from_km": 0, "to_km": 9},
        {"name": "east", "command": "Command B", "far_side": "far-east", "from_km": 9,
         "to_km": 18.5},
    ],
    "sensor_models": [
        {"name": "tower", "kind": "thermal_camera",
         "laws": {"person": {"day": LAW, "night": LAW}, "vehicle": {"day": LAW}}},
    ],
    "sensors": [
        {"id": "tower-w", "model": "tower", "position": {"chainage_km": 4, "offset_m": 800}},
        {"id": "tower-e", "model": "tower", "position": {"chainage_km": 13, "offset_m": 800}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return scenario_from_data(deepcopy(SCENARIO))


def walker(
    sc: Scenario,
    sensor: str,
    t0: datetime,
    chainage_m: float,
    *,
    start_offset_m: float = -300.0,
    end_offset_m: float = 300.0,
    v_in: float = 1.2,
    v_along: float = 0.3,
    period_s: float = 1.0,
    sd_m: float = 5.0,
    seed: int = 1,
) -> list[Detection]:
    """Noisy detections of one walker crossing the line at a known place and time."""
    rng = np.random.default_rng(seed)
    n = int((end_offset_m - start_offset_m) / v_in / period_s) + 1
    t = np.arange(n) * period_s
    x, y = sc.border.point_at(chainage_m + v_along * t, start_offset_m + v_in * t)
    x = x + rng.normal(0, sd_m, n)
    y = y + rng.normal(0, sd_m, n)
    lon, lat = sc.frame.to_lonlat(x, y)
    return [
        Detection(
            sensor_id=sensor,
            seq=k,
            time=t0 + timedelta(seconds=float(t[k])),
            lon=float(lon[k]),
            lat=float(lat[k]),
            x=float(x[k]),
            y=float(y[k]),
            var_xx=sd_m**2,
            var_xy=0.0,
            var_yy=sd_m**2,
            target_class=TargetClass.PERSON,
            confidence=0.9,
            group_size=2,
        )
        for k in range(n)
    ]


def by_second(detections: Sequence[Detection]) -> list[list[Detection]]:
    """One batch per second, merged across walkers, in time order."""
    batches: dict[int, list[Detection]] = {}
    for d in detections:
        batches.setdefault(int(d.time.timestamp()), []).append(d)
    return [batches[k] for k in sorted(batches)]


def run(pipeline: Pipeline, detections: Sequence[Detection]) -> list[Alert]:
    out: list[Alert] = []
    for batch in by_second(detections):
        out += pipeline.submit(batch)
    return out + pipeline.flush()


# --- in process ----------------------------------------------------------------------------


def test_walker_crossing_gives_exactly_one_crossed_alert_with_its_sector(sc: Scenario) -> None:
    bus = LocalBus()
    published: list[Alert] = []
    bus.subscribe(Topic.ALERTS, published.extend)
    pipeline = Pipeline(sc, bus=bus)
    # Truth: offset −300 m + 1.2 m/s·t reaches 0 at t = 250 s, at chainage 4000 + 0.3·250 m.
    alerts = run(pipeline, walker(sc, "tower-w", T0, 4000.0))
    crossed = [a for a in alerts if a.rule is Rule.CROSSED]
    assert len(crossed) == 1
    (a,) = crossed
    assert a.chainage_km == pytest.approx(4.075, abs=0.025)
    assert (a.sector, a.command, a.far_side, a.channel) == (
        "west", "Command A", "far-west", "radio net 1",
    )  # fmt: skip
    assert (a.target_class, a.group_size) == ("person", 2)
    assert abs((a.time - (T0 + timedelta(seconds=250))).total_seconds()) <= 5.0
    assert published == alerts
    rules = sorted(a.rule.value for a in alerts)
    assert rules == ["crossed", "crossing_imminent", "intrusion"]
    (imminent,) = [a for a in alerts if a.rule is Rule.CROSSING_IMMINENT]
    # Predicted ~250 s ahead from a course known to a few tenths of a m/s along the line.
    assert imminent.chainage_km == pytest.approx(4.075, abs=0.1)


def test_two_sectors_track_and_alert_on_their_own(sc: Scenario) -> None:
    pipeline = Pipeline(sc)
    dets = walker(sc, "tower-w", T0, 4000.0) + walker(sc, "tower-e", T0, 13_000.0, seed=2)
    crossed = [a for a in run(pipeline, dets) if a.rule is Rule.CROSSED]
    assert sorted((a.sector, a.command, a.channel) for a in crossed) == [
        ("east", "Command B", "radio net 2"), ("west", "Command A", "radio net 1"),
    ]  # fmt: skip
    assert {a.track_id.split("-")[0] for a in crossed} == {"east", "west"}


def test_metrics_follow_the_run_and_parse(sc: Scenario) -> None:
    pipeline = Pipeline(sc)
    dets = walker(sc, "tower-w", T0, 4000.0)
    alerts = run(pipeline, dets)
    again = pipeline.submit(dets[:10])  # a resent batch: all duplicates
    assert again == []
    fam = parse_exposition(pipeline.metrics.render())
    assert value_of(fam, "limes_detections_in_total") == len(dets) + 10
    assert value_of(fam, "limes_detections_duplicate_total") == 10
    assert value_of(fam, "limes_alerts_total", rule="crossed") == 1
    assert value_of(fam, "limes_tracks_alive") >= 1
    assert value_of(fam, "limes_detection_to_alert_seconds_count") == len(alerts)
    pipeline.tick(dets[-1].time + timedelta(hours=1))
    assert pipeline.metrics.tracks_alive.value == 0
    assert pipeline.tracks() == []


def test_latency_memory_stays_bounded_and_still_times_every_alert(sc: Scenario) -> None:
    ticks = iter(np.arange(0.0, 1e6, 0.25))  # each reading of the clock a quarter second on
    pipeline = Pipeline(sc, latency_memory=8, wall_clock=lambda: float(next(ticks)))
    alerts = run(pipeline, walker(sc, "tower-w", T0, 4000.0))
    assert len(alerts) == 3
    assert len(pipeline._taken) + len(pipeline._taken_before) <= 8
    latency = pipeline.metrics.latency
    assert latency.count == len(alerts)
    # Batches are a second apart and the reorder window is 1 s, so a detection is tracked in
    # the submit after the one that took it: two clock readings (0.5 s) later.
    assert latency.sum == pytest.approx(0.5 * len(alerts))


def test_tracks_and_detections_are_published(sc: Scenario) -> None:
    bus = LocalBus()
    tracks: list[Any] = []
    dets: list[Any] = []
    bus.subscribe(Topic.TRACKS, tracks.extend)
    bus.subscribe(Topic.DETECTIONS, dets.extend)
    pipeline = Pipeline(sc, bus=bus)
    walk = walker(sc, "tower-w", T0, 4000.0)
    run(pipeline, walk)
    assert dets == walk
    assert {s.status for s in tracks} >= {TrackStatus.TENTATIVE, TrackStatus.CONFIRMED}


def test_each_track_lives_in_the_sector_holding_its_detections(sc: Scenario) -> None:
    # Walkers every 500 m along the whole line, one batch per second: the batch is routed by
    # one vectorised lookup; the reference is the scenario's own locate, point by point.
    starts = np.arange(500.0, 18_000.0, 500.0)
    walks = [
        walker(sc, "tower-w", T0, c, seed=k, end_offset_m=-250.0) for k, c in enumerate(starts)
    ]
    dets = [replace(d, seq=n) for n, d in enumerate(d for w in walks for d in w)]
    pipeline = Pipeline(sc)
    tracks: list[Any] = []
    pipeline.bus.subscribe(Topic.TRACKS, tracks.extend)
    run(pipeline, dets)
    assert len({s.track_id for s in tracks}) >= starts.size
    names = [s.name for s in sc.spec.sectors]
    for s in tracks:
        chain, _ = sc.locate(s.x, s.y)
        # A track right at the boundary may drift over it; its detections decided its sector.
        if abs(float(chain) - 9000.0) > 50.0:
            assert s.track_id.split("-")[0] == names[int(sc.sector_index(chain))]


def test_bad_messages_are_counted_by_reason_and_the_next_good_one_is_processed(
    sc: Scenario,
) -> None:
    now = T0 + timedelta(minutes=5)
    sink = MemoryDeadLetterSink()
    bus = LocalBus()
    rejected: list[Any] = []
    bus.subscribe(Topic.REJECTIONS, rejected.extend)
    pipeline = Pipeline(
        sc, bus=bus, context=ingest_context(sc, clock=lambda: now), dead_letters=sink
    )
    lon, lat = (float(v) for v in sc.frame.to_lonlat(*sc.border.point_at(4000.0, -200.0)))
    good = {"sensor_id": "tower-w", "seq": 1, "time": (now - timedelta(seconds=1)).isoformat(),
            "lon": lon, "lat": lat, "position_sd_m": 10.0, "class": "person"}  # fmt: skip
    bodies = [
        b"{not json",
        json.dumps({**good, "seq": "one"}).encode(),
        json.dumps({**good, "sensor_id": "nobody"}).encode(),
        json.dumps({**good, "lon": 30.0, "lat": 10.0}).encode(),
    ]
    for body in bodies:
        assert pipeline.ingest_http(body).accepted == 0
    result = pipeline.ingest_http(json.dumps(good).encode())
    assert result.accepted == 1
    assert pipeline.ingest_http(json.dumps(good).encode()).duplicates == 1
    fam = parse_exposition(pipeline.metrics.render())
    reasons = {s[1]["reason"]: s[2] for s in fam["limes_detections_rejected_total"].samples}
    assert reasons == {"malformed": 1, "schema": 1, "unknown_sensor": 1, "out_of_area": 1}
    assert value_of(fam, "limes_detections_in_total") == 2
    assert value_of(fam, "limes_detections_duplicate_total") == 1
    assert len(sink.items) == len(rejected) == 4
    pipeline.flush()
    (track,) = pipeline.tracks()
    assert track.last_detection == ("tower-w", 1)


def test_submit_is_safe_from_several_threads(sc: Scenario) -> None:
    pipeline = Pipeline(sc)
    walks = [walker(sc, "tower-w", T0, 3000.0), walker(sc, "tower-e", T0, 14_000.0, seed=5)]
    errors: list[BaseException] = []

    def feed(dets: list[Detection]) -> None:
        try:
            for d in dets:
                pipeline.submit([d])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(w,)) for w in walks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pipeline.flush()
    assert errors == []
    assert pipeline.metrics.detections_in.value() == sum(len(w) for w in walks)


# --- through the real doors ----------------------------------------------------------------


def wait_for(event: threading.Event, timeout: float) -> bool:
    return event.wait(timeout)


def crossed_waiter(pipeline: Pipeline) -> tuple[list[Alert], threading.Event]:
    got: list[Alert] = []
    done = threading.Event()

    def on_alerts(alerts: Sequence[Alert]) -> None:
        got.extend(alerts)
        if any(a.rule is Rule.CROSSED for a in alerts):
            done.set()

    pipeline.bus.subscribe(Topic.ALERTS, on_alerts)
    return got, done


def recent_walk(sc: Scenario, sensor: str) -> list[Detection]:
    # A fast walker whose reports end now, so the doors' real clock takes them.
    start = datetime.now(UTC) - timedelta(seconds=70)
    return walker(sc, sensor, start, 5000.0, start_offset_m=-150.0, end_offset_m=150.0,
                  v_in=5.0, v_along=0.0, period_s=1.0)  # fmt: skip


def as_json(d: Detection) -> dict[str, Any]:
    return {"sensor_id": d.sensor_id, "seq": d.seq, "time": d.time.isoformat(), "lon": d.lon,
            "lat": d.lat, "position_sd_m": 5.0, "class": "person", "group_size": 2}  # fmt: skip


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for an effect (polled), failing with `what` when it has not come by `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.mqtt
def test_pipeline_over_mosquitto(sc: Scenario, tmp_path: Path) -> None:
    """Through the door the service ships: every message read, tracked, stored, acknowledged."""
    import paho.mqtt.client as mqtt

    from limes.service import Service, ServiceConfig

    prefix = f"limes-test/{uuid.uuid4().hex[:8]}/sensors"
    client_id = f"limes-test-{uuid.uuid4().hex[:8]}"
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    service = Service(ServiceConfig(
        scenario=scenario_file, database_url=f"sqlite:///{tmp_path / 'limes.db'}",
        mqtt="127.0.0.1:1883", mqtt_client_id=client_id, mqtt_topic_prefix=prefix, http=None,
    ))  # fmt: skip
    service.start()
    assert service.pipeline is not None and service.committer is not None
    pipeline, committer = service.pipeline, service.committer
    got, done = crossed_waiter(pipeline)
    publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    walk = recent_walk(sc, "tower-w")
    try:
        assert service.door is not None and service.door.wait_ready(10.0)
        topic = f"{prefix}/tower-w/detections"
        publisher.publish(topic, b"{broken", qos=1).wait_for_publish(5)
        batches = by_second(walk)
        for batch in [batches[0], *batches]:  # the first resent, as after a lost PUBACK
            body = json.dumps({"detections": [as_json(d) for d in batch]})
            publisher.publish(topic, body, qos=1).wait_for_publish(5)
        assert wait_for(done, 20.0), "no crossed alert came through Mosquitto"
        # Every message counted, stored and acknowledged: wait for that, not for the alert.
        wait_until(lambda: committer.stats.messages == len(batches) + 2, 20.0,
                   "not every message went through the committer")  # fmt: skip
        wait_until(lambda: committer.stats.detections_stored == len(walk), 20.0,
                   "not every detection was stored")  # fmt: skip
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        service.stop()
        forget = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             clean_session=True)  # fmt: skip
        forget.connect("127.0.0.1", 1883)
        forget.disconnect()
    assert [a.rule for a in got].count(Rule.CROSSED) == 1
    (a,) = [a for a in got if a.rule is Rule.CROSSED]
    assert a.sector == "west" and a.chainage_km == pytest.approx(5.0, abs=0.03)
    assert pipeline.metrics.rejected.value(reason="malformed") == 1
    assert pipeline.metrics.duplicates.value() == len(batches[0])
    assert pipeline.metrics.detections_in.value() == len(walk) + len(batches[0])


def test_pipeline_over_cot_tcp(sc: Scenario) -> None:
    pipeline = Pipeline(sc)
    got, done = crossed_waiter(pipeline)
    pipeline.start_inputs(cot_tcp_port=0)
    try:
        assert pipeline.cot is not None and pipeline.cot.tcp_address is not None
        walk = recent_walk(sc, "tower-w")
        with socket.create_connection(pipeline.cot.tcp_address, timeout=5) as conn:
            conn.sendall(b"<event><garbage")
            conn.sendall(b"/>")  # ends the broken event; the stream carries on
            for d in walk:
                conn.sendall(cot_event(d))
            assert wait_for(done, 20.0), "no crossed alert came through CoT"
    finally:
        pipeline.stop()
    (a,) = [a for a in got if a.rule is Rule.CROSSED]
    assert a.sector == "west" and a.chainage_km == pytest.approx(5.0, abs=0.03)
    assert sum(pipeline.metrics.rejected.values().values()) >= 1


def cot_event(d: Detection) -> bytes:
    t = d.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = (d.time + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f'<event version="2.0" uid="{d.sensor_id}.t{d.seq}" type="a-u-G" how="m-r" time="{t}" '
        f'start="{t}" stale="{stale}"><point lat="{d.lat}" lon="{d.lon}" hae="300" ce="5" '
        f'le="9999999.0"/><detail><limes sensor="{d.sensor_id}" seq="{d.seq}" class="person" '
        f'confidence="0.9" group="2"/></detail></event>'
    ).encode()

"""The MQTT door against the real Mosquitto on 127.0.0.1:1883 (marker `mqtt`: tests/conftest.py
skips them when the broker is down, and fails them under CI=true)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from ingest_fixtures import good_item, make_context

from limes.ops.detection import Detection
from limes.ops.ingest.dead_letter import MemoryDeadLetterSink, Rejection, RejectReason
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.mqtt import MqttIngest, detections_topic, topic_sensor

pytestmark = pytest.mark.mqtt
HOST, PORT = "127.0.0.1", 1883


@pytest.fixture
def prefix() -> str:
    """A topic tree of this test's own, so runs never see each other's messages."""
    return f"limes-test-{uuid.uuid4().hex[:12]}/v1/sensors"


class Collector:
    """Thread-safe on_detections / on_rejection with a wait."""

    def __init__(self) -> None:
        self.detections: list[Detection] = []
        self.sink = MemoryDeadLetterSink()
        self._changed = threading.Condition()

    def on_detections(self, detections: list[Detection]) -> None:
        with self._changed:
            self.detections.extend(detections)
            self._changed.notify_all()

    def on_rejection(self, rejection: Rejection) -> None:
        with self._changed:
            self.sink.put(rejection)
            self._changed.notify_all()

    def wait(self, detections: int, rejections: int = 0, timeout: float = 10.0) -> None:
        with self._changed:
            ok = self._changed.wait_for(
                lambda: len(self.detections) >= detections and self.sink.total >= rejections,
                timeout,
            )
        assert ok, (self.detections, self.sink.items)


@pytest.fixture
def publisher() -> Iterator[Callable[[str, bytes], None]]:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex}")
    client.connect(HOST, PORT)
    client.loop_start()

    def publish(topic: str, payload: bytes) -> None:
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(5.0)
        assert info.is_published()

    yield publish
    client.disconnect()
    client.loop_stop()


def now_item(**overrides: object) -> dict[str, object]:
    """A good item stamped with the wall clock (the broker path uses the real clock)."""
    return good_item(time=datetime.now(UTC).isoformat(), **overrides)


def start(ingest: MqttIngest) -> MqttIngest:
    ingest.start()
    assert ingest.wait_ready(10.0), "MQTT ingest did not subscribe"
    return ingest


def make_ingest(collector: Collector, prefix: str, **kw: object) -> MqttIngest:
    return MqttIngest(
        make_context(now=None),
        collector.on_detections,
        collector.on_rejection,
        host=HOST,
        port=PORT,
        client_id=f"limes-test-{uuid.uuid4().hex}",
        clean_session=True,
        topic_prefix=prefix,
        **kw,  # type: ignore[arg-type]
    )


def test_topic_names_the_sensor() -> None:
    assert topic_sensor(detections_topic("tower-1")) == "tower-1"
    assert topic_sensor("limes/v1/sensors/a/b/detections") is None
    assert topic_sensor("other/tower-1/detections") is None


def test_single_and_batch_messages_arrive(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    c = Collector()
    ingest = start(make_ingest(c, prefix, dedup=Deduplicator()))
    try:
        topic = detections_topic("tower-1", prefix)
        publisher(topic, json.dumps(now_item(seq=1)).encode())
        batch = {"detections": [now_item(seq=2), now_item(seq=3), now_item(seq=4)]}
        publisher(topic, json.dumps(batch).encode())
        c.wait(4)
    finally:
        ingest.stop()
    assert [d.seq for d in c.detections] == [1, 2, 3, 4]
    assert all(d.sensor_id == "tower-1" for d in c.detections)


def test_redelivered_duplicate_is_dropped_and_counted(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    c = Collector()
    ingest = start(make_ingest(c, prefix, dedup=Deduplicator()))
    try:
        topic = detections_topic("tower-1", prefix)
        message = json.dumps(now_item(seq=7)).encode()
        publisher(topic, message)
        publisher(topic, message)  # what a publisher resends when its PUBACK was lost
        publisher(topic, json.dumps(now_item(seq=8)).encode())
        c.wait(2)
        deadline = time.monotonic() + 5
        while ingest.messages < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        ingest.stop()
    assert [d.seq for d in c.detections] == [7, 8]
    assert ingest.delivery.duplicates == 1 and ingest.messages == 3


def test_bad_messages_go_to_dead_letters_and_the_next_good_one_arrives(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    c = Collector()
    ingest = start(make_ingest(c, prefix))
    try:
        topic = detections_topic("tower-1", prefix)
        publisher(topic, b"{not json")
        publisher(topic, json.dumps(now_item(seq="1")).encode())
        publisher(topic, json.dumps(now_item(seq=2, sensor_id="radar-2")).encode())
        publisher(detections_topic("ghost", prefix), json.dumps(now_item(seq=3)).encode())
        publisher(topic, json.dumps(now_item(seq=4)).encode())
        c.wait(1, rejections=4)
    finally:
        ingest.stop()
    assert [d.seq for d in c.detections] == [4]
    assert c.sink.reasons() == [
        RejectReason.MALFORMED,
        RejectReason.SCHEMA,
        RejectReason.SENSOR_MISMATCH,
        RejectReason.SENSOR_MISMATCH,
    ]
    assert c.sink.items[0].source == f"mqtt:{topic}"


def test_manual_ack_leaves_a_failed_message_with_the_broker_until_it_is_stored(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    c = Collector()
    failures = [RuntimeError("store down")]

    def store(detections: list[Detection]) -> None:
        if failures:
            raise failures.pop()
        c.on_detections(detections)

    client_id = f"limes-test-{uuid.uuid4().hex}"
    ctx = make_context(now=None)

    def make() -> MqttIngest:
        return MqttIngest(
            ctx,
            store,
            c.on_rejection,
            host=HOST,
            port=PORT,
            client_id=client_id,
            clean_session=False,
            topic_prefix=prefix,
            dedup=dedup,
            manual_ack=True,
        )

    dedup = Deduplicator()
    first = start(make())
    try:
        publisher(detections_topic("tower-1", prefix), json.dumps(now_item(seq=5)).encode())
        deadline = time.monotonic() + 5
        while first.unacked < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert first.unacked == 1 and c.detections == []
    finally:
        first.stop()
    second = start(make())  # same session: the broker sends the unacknowledged message again
    try:
        c.wait(1)
    finally:
        second.stop()
        # Leave no persistent session behind on the broker.
        cleanup = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
        )
        cleanup.connect(HOST, PORT)
        cleanup.disconnect()
    assert [d.seq for d in c.detections] == [5]


def test_reconnects_and_resubscribes_after_the_broker_drops_it(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    c = Collector()
    ingest = start(make_ingest(c, prefix))
    try:
        # Another client taking the same client id makes the broker close our connection.
        intruder = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=ingest.client_id)
        intruder.connect(HOST, PORT)
        intruder.loop_start()
        deadline = time.monotonic() + 10
        while ingest.wait_ready(0) and time.monotonic() < deadline:
            time.sleep(0.01)
        intruder.disconnect()
        intruder.loop_stop()
        assert ingest.wait_ready(15.0), "did not reconnect"
        assert ingest.connects >= 2
        publisher(detections_topic("tower-1", prefix), json.dumps(now_item(seq=9)).encode())
        c.wait(1)
    finally:
        ingest.stop()
    assert [d.seq for d in c.detections] == [9]

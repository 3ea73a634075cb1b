"""The MQTT door (the service's: `limes.service.door.MqttDoor`) against the real Mosquitto on
127.0.0.1:1883 (marker `mqtt`: tests/conftest.py skips them when the broker is down, and fails
them under CI=true). The door reads and queues; what it queued is acknowledged only when the
caller (the service's committer) says it is stored."""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from ingest_fixtures import good_item, make_context

from limes.ops.ingest.dead_letter import RejectReason
from limes.ops.ingest.mqtt import detections_topic, topic_sensor
from limes.service.door import Message, MqttDoor

HOST, PORT = "127.0.0.1", 1883


@pytest.fixture
def prefix() -> str:
    """A topic tree of this test's own, so runs never see each other's messages."""
    return f"limes-test-{uuid.uuid4().hex[:12]}/v1/sensors"


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


def start(door: MqttDoor) -> MqttDoor:
    door.start()
    assert door.wait_ready(10.0), "MQTT door did not subscribe"
    return door


def make_door(prefix: str, inbox: queue.Queue[Message], client_id: str | None = None) -> MqttDoor:
    return MqttDoor(
        make_context(now=None), inbox, host=HOST, port=PORT,
        client_id=client_id or f"limes-test-{uuid.uuid4().hex}", topic_prefix=prefix,
    )  # fmt: skip


def take(inbox: queue.Queue[Message], n: int, timeout: float = 10.0) -> list[Message]:
    """The next `n` messages the door queued (waits on each, fails after `timeout`)."""
    deadline = time.monotonic() + timeout
    out = []
    for _ in range(n):
        try:
            out.append(inbox.get(timeout=max(deadline - time.monotonic(), 0.0)))
        except queue.Empty:
            raise AssertionError(f"{len(out)} of {n} messages queued") from None
    return out


def forget_session(client_id: str) -> None:
    """Leave no persistent session behind on the broker."""
    cleanup = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                          clean_session=True)  # fmt: skip
    cleanup.connect(HOST, PORT)
    cleanup.disconnect()


def test_topic_names_the_sensor() -> None:
    assert topic_sensor(detections_topic("tower-1")) == "tower-1"
    assert topic_sensor("limes/v1/sensors/a/b/detections") is None
    assert topic_sensor("other/tower-1/detections") is None


@pytest.mark.mqtt
def test_single_and_batch_messages_arrive(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    inbox: queue.Queue[Message] = queue.Queue()
    door = start(make_door(prefix, inbox))
    try:
        topic = detections_topic("tower-1", prefix)
        publisher(topic, json.dumps(now_item(seq=1)).encode())
        batch = {"detections": [now_item(seq=2), now_item(seq=3), now_item(seq=4)]}
        publisher(topic, json.dumps(batch).encode())
        got = take(inbox, 2)
        for m in got:
            door.ack(m.mid, m.qos)
    finally:
        door.stop()
    detections = [d for m in got for d in m.outcome.detections]
    assert [d.seq for d in detections] == [1, 2, 3, 4]
    assert all(d.sensor_id == "tower-1" for d in detections)
    assert all(m.qos == 1 for m in got) and door.messages == 2


@pytest.mark.mqtt
def test_bad_messages_are_rejected_and_the_next_good_one_arrives(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    inbox: queue.Queue[Message] = queue.Queue()
    door = start(make_door(prefix, inbox))
    try:
        topic = detections_topic("tower-1", prefix)
        publisher(topic, b"{not json")
        publisher(topic, json.dumps(now_item(seq="1")).encode())
        publisher(topic, json.dumps(now_item(seq=2, sensor_id="radar-2")).encode())
        publisher(detections_topic("ghost", prefix), json.dumps(now_item(seq=3)).encode())
        publisher(topic, json.dumps(now_item(seq=4)).encode())
        got = take(inbox, 5)
    finally:
        door.stop()
    rejections = [r for m in got for r in m.outcome.rejections]
    assert [d.seq for m in got for d in m.outcome.detections] == [4]
    assert [r.reason for r in rejections] == [
        RejectReason.MALFORMED,
        RejectReason.SCHEMA,
        RejectReason.SENSOR_MISMATCH,
        RejectReason.SENSOR_MISMATCH,
    ]
    assert rejections[0].source == f"mqtt:{topic}"


@pytest.mark.mqtt
def test_a_message_not_acknowledged_stays_with_the_broker_until_it_is(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    client_id = f"limes-test-{uuid.uuid4().hex}"
    inbox: queue.Queue[Message] = queue.Queue()
    first = start(make_door(prefix, inbox, client_id))
    try:
        publisher(detections_topic("tower-1", prefix), json.dumps(now_item(seq=5)).encode())
        (read,) = take(inbox, 1)  # read, never acknowledged: as if the store were down
    finally:
        first.stop()
    # The same session: the broker sends the unacknowledged message again.
    second = start(make_door(prefix, inbox, client_id))
    try:
        (again,) = take(inbox, 1)
        second.ack(again.mid, again.qos)
    finally:
        second.stop()
    third = start(make_door(prefix, inbox, client_id))  # acknowledged: not sent a third time
    try:
        publisher(detections_topic("tower-1", prefix), json.dumps(now_item(seq=6)).encode())
        (after,) = take(inbox, 1)
        third.ack(after.mid, after.qos)
    finally:
        third.stop()
        forget_session(client_id)
    assert [d.seq for d in read.outcome.detections] == [5]
    assert [d.seq for d in again.outcome.detections] == [5]
    assert [d.seq for d in after.outcome.detections] == [6]


@pytest.mark.mqtt
def test_reconnects_and_resubscribes_after_the_broker_drops_it(
    prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    inbox: queue.Queue[Message] = queue.Queue()
    door = start(make_door(prefix, inbox))
    try:
        # Another client taking the same client id makes the broker close our connection.
        intruder = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=door.client_id)
        intruder.connect(HOST, PORT)
        intruder.loop_start()
        deadline = time.monotonic() + 10
        while door.wait_ready(0) and time.monotonic() < deadline:
            time.sleep(0.01)
        intruder.disconnect()
        intruder.loop_stop()
        assert door.wait_ready(15.0), "did not reconnect"
        assert door.connects >= 2
        publisher(detections_topic("tower-1", prefix), json.dumps(now_item(seq=9)).encode())
        (got,) = take(inbox, 1)
        door.ack(got.mid, got.qos)
    finally:
        door.stop()
        forget_session(door.client_id)
    assert [d.seq for d in got.outcome.detections] == [9]

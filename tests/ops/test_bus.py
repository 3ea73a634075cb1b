"""The in-process bus: fan-out, ordering, isolation of failing subscribers, buffering."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from limes.ops.bus import BufferedHandler, Bus, LocalBus, Topic


def test_local_bus_is_a_bus() -> None:
    assert isinstance(LocalBus(), Bus)


def test_every_subscriber_gets_every_batch_in_order() -> None:
    bus = LocalBus()
    a: list[Any] = []
    b: list[Any] = []
    bus.subscribe(Topic.ALERTS, a.extend)
    bus.subscribe(Topic.ALERTS, b.extend)
    bus.publish_batch(Topic.ALERTS, [1, 2, 3])
    bus.publish(Topic.ALERTS, 4)
    bus.publish_batch(Topic.ALERTS, [])
    assert a == b == [1, 2, 3, 4]


def test_a_batch_is_delivered_as_one_call() -> None:
    bus = LocalBus()
    calls: list[Sequence[Any]] = []
    bus.subscribe("t", calls.append)
    bus.publish_batch("t", ["x", "y"])
    bus.publish("t", "z")
    assert [list(c) for c in calls] == [["x", "y"], ["z"]]


def test_topics_are_separate() -> None:
    bus = LocalBus()
    seen: list[Any] = []
    bus.subscribe(Topic.TRACKS, seen.extend)
    bus.publish(Topic.ALERTS, "alert")
    bus.publish(Topic.TRACKS, "track")
    assert seen == ["track"]


def test_a_failing_subscriber_is_counted_and_isolated() -> None:
    bus = LocalBus()
    seen: list[Any] = []

    def broken(items: Sequence[Any]) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe("t", broken)
    bus.subscribe("t", seen.extend)
    bus.publish_batch("t", [1])
    bus.publish_batch("t", [2])
    assert seen == [1, 2]
    assert bus.errors["t"] == 2


def test_closing_a_subscription_stops_delivery() -> None:
    bus = LocalBus()
    seen: list[Any] = []
    sub = bus.subscribe("t", seen.extend)
    bus.publish("t", 1)
    sub.close()
    bus.publish("t", 2)
    assert seen == [1] and bus.subscribers("t") == 0


def test_publish_after_close_is_an_error() -> None:
    bus = LocalBus()
    bus.close()
    with pytest.raises(RuntimeError, match="closed"):
        bus.publish("t", 1)


def test_concurrent_publishers_lose_nothing() -> None:
    bus = LocalBus()
    lock = threading.Lock()
    seen: list[int] = []

    def collect(items: Sequence[int]) -> None:
        with lock:
            seen.extend(items)

    bus.subscribe("t", collect)

    def publisher(k: int) -> None:
        for i in range(500):
            bus.publish_batch("t", [k * 10_000 + i, k * 10_000 + i + 5000])

    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(k * 10_000 + i + d for k in range(4) for i in range(500)
                                  for d in (0, 5000))  # fmt: skip


def test_buffered_handler_delivers_everything_in_order_when_blocking() -> None:
    seen: list[int] = []
    handler = BufferedHandler(seen.extend, maxsize=2, overflow="block")
    bus = LocalBus()
    bus.subscribe("t", handler)
    for i in range(100):
        bus.publish_batch("t", [2 * i, 2 * i + 1])
    handler.close(timeout=5)
    assert seen == list(range(200)) and handler.dropped == 0


def test_buffered_handler_drops_the_oldest_when_full_and_counts_them() -> None:
    release = threading.Event()
    seen: list[int] = []

    def slow(items: Sequence[int]) -> None:
        release.wait(5)
        seen.extend(items)

    handler = BufferedHandler(slow, maxsize=3, overflow="drop_oldest")
    for i in range(50):
        handler([i])
    release.set()
    handler.close(timeout=5)
    assert handler.dropped > 0
    assert len(seen) + handler.dropped == 50
    assert seen[-1] == 49  # the newest is kept
    assert seen == sorted(seen)

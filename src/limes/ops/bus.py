"""The bus between pipeline stages and their consumers: topics, batches, one interface.

Every delivery is a batch (a sequence of items), because the pipeline moves detections and
track states by the hundred: one call per batch instead of one per item is what keeps the bus
off the profile. `publish(topic, item)` is the one-item case.

`LocalBus` is the in-process implementation: synchronous fan-out on the publisher's thread.
That is the fastest hand-over there is (a function call), and it gives natural back-pressure:
a publisher waits for its subscribers, so a slow subscriber slows the pipeline, which slows
the MQTT door's reading, and the broker holds the rest (QoS 1). A subscriber that must not
slow the pipeline (a WebSocket, a store over a network) wraps its handler in
`BufferedHandler`: a bounded queue and its own thread, blocking or dropping the oldest when
full, with a counter of what it dropped. A distributed broker (NATS) implements the same
`Bus` protocol, serialising each batch on publish.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[Any]], None]


class Topic(StrEnum):
    """The pipeline's topics and what each carries."""

    DETECTIONS = "detections"  # limes.ops.detection.Detection, after dedup
    REJECTIONS = "rejections"  # limes.ops.ingest.Rejection: reports a door refused
    UNTRACKED = "untracked"  # limes.ops.tracker.Untracked: accepted, but the tracker could not use
    TRACKS = "tracks"  # limes.ops.tracker.TrackState: every changed track, deletions included
    ALERTS = "alerts"  # limes.ops.alert.Alert


@runtime_checkable
class Subscription(Protocol):
    """A handle to stop receiving."""

    def close(self) -> None:
        """Stop delivering to this subscriber."""
        ...


@runtime_checkable
class Bus(Protocol):
    """Publish batches of items on topics; subscribers get every batch published after they
    subscribed, in publish order per publisher."""

    def publish(self, topic: str, item: Any) -> None:
        """Publish one item."""
        ...

    def publish_batch(self, topic: str, items: Sequence[Any]) -> None:
        """Publish many items as one delivery (nothing happens for an empty batch)."""
        ...

    def subscribe(self, topic: str, handler: Handler) -> Subscription:
        """Call `handler(batch)` for every batch published on `topic`."""
        ...

    def close(self) -> None:
        """Release the bus's resources; publishing afterwards is an error."""
        ...


class _LocalSubscription:
    def __init__(self, bus: LocalBus, topic: str, handler: Handler) -> None:
        self.bus, self.topic, self.handler = bus, topic, handler

    def close(self) -> None:
        self.bus._remove(self.topic, self.handler)


class LocalBus:
    """In-process bus: synchronous fan-out on the publisher's thread (see module docstring).

    Thread-safe: several threads may publish at once (each runs the handlers itself) and
    subscribe or unsubscribe at any time (the subscriber list is copied on write, so a publish
    never holds a lock while handlers run). A handler's exception is logged and counted in
    `errors[topic]`; it never reaches the publisher or the other subscribers.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[Handler, ...]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.errors: Counter[str] = Counter()

    def publish(self, topic: str, item: Any) -> None:
        self.publish_batch(topic, (item,))

    def publish_batch(self, topic: str, items: Sequence[Any]) -> None:
        if self._closed:
            raise RuntimeError("publish on a closed bus")
        if not items:
            return
        for handler in self._handlers.get(topic, ()):
            try:
                handler(items)
            except Exception:
                with self._lock:
                    self.errors[topic] += 1
                log.exception("subscriber %r of %s failed", handler, topic)

    def subscribe(self, topic: str, handler: Handler) -> Subscription:
        with self._lock:
            self._handlers[topic] = (*self._handlers.get(topic, ()), handler)
        return _LocalSubscription(self, topic, handler)

    def subscribers(self, topic: str) -> int:
        """How many handlers `topic` has."""
        return len(self._handlers.get(topic, ()))

    def _remove(self, topic: str, handler: Handler) -> None:
        with self._lock:
            left = list(self._handlers.get(topic, ()))
            if handler in left:
                left.remove(handler)
            self._handlers[topic] = tuple(left)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            self._handlers.clear()


class BufferedHandler:
    """Runs a slow handler on its own thread behind a bounded queue of batches.

    `overflow="block"` makes the publisher wait when the queue is full (back-pressure all the
    way to the broker); `"drop_oldest"` keeps the pipeline moving and drops the oldest queued
    batch, counting its items in `dropped`. `close()` delivers what is queued, then stops.
    """

    def __init__(
        self,
        handler: Handler,
        maxsize: int = 1024,
        overflow: Literal["block", "drop_oldest"] = "block",
        name: str = "bus-subscriber",
    ) -> None:
        if maxsize < 1:
            raise ValueError("a buffered handler needs maxsize ≥ 1")
        self.handler = handler
        self.overflow = overflow
        self.dropped = 0
        self.errors = 0
        self._queue: queue.Queue[Sequence[Any] | None] = queue.Queue(maxsize)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def __call__(self, items: Sequence[Any]) -> None:
        batch = list(items)  # the publisher may reuse its sequence
        if self.overflow == "block":
            self._queue.put(batch)
            return
        while True:
            try:
                self._queue.put_nowait(batch)
                return
            except queue.Full:
                try:
                    old = self._queue.get_nowait()
                    self.dropped += len(old) if old is not None else 0
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            try:
                self.handler(batch)
            except Exception:
                self.errors += 1
                log.exception("buffered subscriber %r failed", self.handler)

    def close(self, timeout: float | None = None) -> None:
        """Deliver what is queued and stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

"""A sender that keeps an accelerated run within a door's request rate."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence

from limes.sim.emission import Emission
from limes.sim.senders import Sender


class PacedPoster:
    """Hands batches to a sender at most once every `every_s` wall seconds, merging what comes
    in between (sent by a timer at the latest `every_s` after the last), so an accelerated run
    stays within a door's request rate: the API's ingest allows 20 requests a second per sensor
    token by default, and a run at ×600 makes 600 one-second batches a wall second."""

    def __init__(self, inner: Sender, every_s: float = 0.1) -> None:
        self.inner = inner
        self.every_s = every_s
        self._held: list[Emission] = []
        self._last = -math.inf
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._error: BaseException | None = None

    def open(self) -> None:
        self.inner.open()

    def send(self, batch: Sequence[Emission]) -> None:
        self._raise_error()
        with self._lock:
            self._held.extend(batch)
            due = self._last + self.every_s - time.monotonic()
            if due <= 0:
                self._pass_on()
            elif self._timer is None:
                self._timer = threading.Timer(due, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
        try:
            with self._lock:
                self._pass_on()
        finally:
            self.inner.close()
        self._raise_error()

    def _pass_on(self) -> None:
        held, self._held = self._held, []
        self._last = time.monotonic()
        if held:
            self.inner.send(held)

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            try:
                self._pass_on()
            except BaseException as exc:  # raised in the sending thread at its next call
                self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

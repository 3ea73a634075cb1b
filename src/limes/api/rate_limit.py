"""A token-bucket rate limit per key (here: per sensor token on ingest)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable


class RateLimiter:
    """Each key has a bucket of `burst` tokens refilled at `rate_per_s`; a request takes one.

    `take(key)` returns 0 when the request may go, else the seconds until a token is there
    (the Retry-After to send). Thread-safe; buckets idle long enough to be full are forgotten.
    """

    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate_per_s > 0 and burst >= 1")
        self.rate, self.burst, self.clock = rate_per_s, float(burst), clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def take(self, key: Hashable) -> float:
        """Take one token for `key`: 0.0 if granted, else seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > 10_000:
                    self._forget(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            self.refused += 1
            return (1.0 - tokens) / self.rate

    def _forget(self, now: float) -> None:
        full_after = self.burst / self.rate
        for key, (_, last) in list(self._buckets.items()):
            if now - last > full_after:
                del self._buckets[key]

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """The Retry-After header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait_s)))

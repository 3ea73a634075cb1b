"""Garbage-collector pauses of the service process: how long, how often, the longest.

A live floor allocates tens of thousands of short-lived records a second (detections, track
states); CPython's cyclic collector then runs often, and a full collection over a large heap
stops every thread at once, which is latency an alert pays. `GcPauses` measures it (figures at
shutdown and in the benchmark); `tune_gc` moves what start-up built (scenario, tracker tables,
imported modules) out of the collector's way and collects the young generation less often.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any


class GcPauses:
    """Counts collections and sums their pauses (seconds) while started."""

    def __init__(self) -> None:
        self.count = 0
        self.total_s = 0.0
        self.max_s = 0.0
        self.full = 0  # collections of the oldest generation
        self._began = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        took = time.perf_counter() - self._began
        with self._lock:
            self.count += 1
            self.total_s += took
            self.max_s = max(self.max_s, took)
            self.full += info.get("generation") == 2

    def figures(self) -> dict[str, float | int]:
        """gc_collections, gc_full_collections, gc_pause_total_s, gc_pause_max_s."""
        with self._lock:
            return {"gc_collections": self.count, "gc_full_collections": self.full,
                    "gc_pause_total_s": self.total_s, "gc_pause_max_s": self.max_s}  # fmt: skip


def tune_gc(young_threshold: int = 50_000) -> None:
    """Freeze what exists now (start-up's long-lived objects are never collected again) and
    collect the young generation every `young_threshold` allocations instead of 700."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, older, oldest)

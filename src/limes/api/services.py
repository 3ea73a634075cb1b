"""What the routes share: the database, the scenario, the writer and the live-stream signal.

Built once by `create_app` and kept on `app.state.services`; nothing lives in module globals.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from limes.api.rate_limit import RateLimiter
from limes.api.settings import Settings
from limes.ops.detection import Detection
from limes.ops.dispatch import DispatchConfig
from limes.ops.dispatch_fields import AdviceCache
from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.dead_letter import Rejection
from limes.ops.ingest.dedup import Deduplicator
from limes.scenario.model import Scenario
from limes.store.database import Database
from limes.store.workflow import Workflow
from limes.store.writer import StoreWriter


class ChangeSignal:
    """Wakes live streams when this process commits changes (thread-safe, asyncio-aware).

    Writers call `notify()` from any thread; each stream awaits `wait(version, timeout)`.
    Changes committed by other processes are found by the streams' polling.
    """

    def __init__(self) -> None:
        self._version = 0
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    @property
    def version(self) -> int:
        return self._version

    def notify(self, _count: int = 0) -> None:
        with self._lock:
            self._version += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that stream's loop has closed
                loop.call_soon_threadsafe(event.set)

    async def wait(self, seen: int, timeout: float) -> None:
        """Return when the version moves past `seen`, or after `timeout` seconds."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            if self._version != seen:
                return
            self._waiters.append(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.remove(entry)


@dataclass
class IngestHandoff:
    """Where HTTP-ingested reports go: the pipeline's input when `limes serve` runs one, else
    straight to the store writer. `dedup` is the pipeline's deduplicator, if it shares one.

    With a pipeline in between, `trouble()` says why the store cannot take reports now (the
    route then answers 503 before taking any) and `stored(timeout)` waits until what was
    handed over is stored (the route answers 200 only then, else 503 after `store_wait_s`).
    """

    on_detections: Callable[[list[Detection]], None]
    on_rejection: Callable[[Rejection], None]
    dedup: Deduplicator | None = None
    trouble: Callable[[], str | None] | None = None
    stored: Callable[[float], bool] | None = None
    store_wait_s: float = 10.0


def wall_clock() -> datetime:
    """The wall clock (aware UTC): the system's clock when it watches a real border."""
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything the routes use.

    `clock` is the one clock every stamp a person's action leaves comes from (incident
    transitions, notes, unit reports, users): the wall clock on a real border, the exercise
    clock in an exercise, so an incident's story and its alerts' times agree. `clock_speed`
    is how many of its seconds pass per wall second (the map counts ages with it).
    `exercise` says what an exercise driving this system is doing (the map shows it); `advice`
    keeps the units' travel fields so dispatch advice answers in milliseconds.
    """

    settings: Settings
    db: Database
    workflow: Workflow
    signal: ChangeSignal
    limiter: RateLimiter
    scenario: Scenario | None = None
    writer: StoreWriter | None = None
    ingest_context: IngestContext | None = None
    ingest: IngestHandoff | None = None
    extra_metrics: Callable[[], str] | None = None
    dispatch: DispatchConfig = field(default_factory=DispatchConfig)
    counters: dict[str, int] = field(default_factory=dict)
    clock: Callable[[], datetime] = wall_clock
    clock_speed: float = 1.0
    exercise: dict[str, object] | None = None
    advice: AdviceCache | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> datetime:
        """The present on the system's one clock."""
        return self.clock()

    def count(self, name: str, n: int = 1) -> None:
        """Add to an in-process counter (exposed on /api/metrics)."""
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n

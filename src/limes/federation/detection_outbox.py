"""A site's stored detections, published by sector to its tracker workers.

`limes serve --partitions NATS_URL --site NAME` checks, de-duplicates and stores what its doors
accept (MQTT, CoT, HTTP) and tracks nothing itself; this outbox publishes those detections onto
the partition subjects (`limes.federation.partitions`) for the workers
(`limes federation worker`) to track. As the change log is for the links, **the detections
table is the outbox**: the outbox reads the rows stored after its cursor, in storage order,
publishes them as one batch to every partition and waits for JetStream's acknowledgements
before it moves on. So a detection is published only once stored (a door acknowledges its
sender after the commit), nothing stored is skipped while NATS is away, and the cursor needs
no table: every message carries the last row id of its batch (`Limes-Detection-Id`), and a
restart resumes after the smallest of the partitions' newest ids. A batch that failed is sent
again as it was (same rows, same message ids), so JetStream drops the copies it already holds;
after a crash part of a batch may reach a partition twice, and the worker's de-duplication (by
sensor and sequence) and the idempotent store writer absorb it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from limes.federation.connect import connect_when_ready
from limes.federation.errors import TRANSIENT
from limes.federation.partitions import SectorPartitions, detection_stream, detection_subject
from limes.federation.pause import pause
from limes.federation.publisher import DetectionPublisher
from limes.federation.worker import ensure_detection_stream
from limes.ops.detection import Detection
from limes.scenario.model import Scenario
from limes.store.database import Database
from limes.store.detections import detections_after

log = logging.getLogger(__name__)

#: The header naming the last detection row id of a published batch.
ROW_HEADER = "Limes-Detection-Id"


@dataclass
class OutboxStats:
    """What the outbox did since it started."""

    published: int = 0
    batches: int = 0
    cursor: int = 0
    last_error: str | None = None


class DetectionOutbox:
    """Publishes a site's stored detections by partition, after a cursor kept in the stream."""

    def __init__(
        self,
        db: Database,
        scenario: Scenario,
        site: str,
        nats_url: str,
        *,
        page: int = 1000,
        idle_s: float = 0.05,
    ) -> None:
        self.db = db
        self.site = site
        self.nats_url = nats_url
        self.partitions = SectorPartitions(scenario)
        self.page = page
        self.idle_s = idle_s
        self.stats = OutboxStats()
        #: The page being published: kept until acknowledged, so a retry sends it unchanged.
        self._pending: list[tuple[int, Detection]] = []
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="limes-partitions", daemon=True)

    # -- on a thread of its own, for a service whose main thread is not asyncio ---------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """End the loop (the cursor is in the stream) and wait for the thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.run(self._stop))
        finally:
            self._loop.close()

    # -- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; waits for NATS when it is away, never fatal."""

        def connect() -> Awaitable[Client]:
            return nats.connect(
                self.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                name=f"limes-{self.site}-detections",
            )  # fmt: skip

        async def prepare(nc: Client) -> None:
            js = nc.jetstream()
            await ensure_detection_stream(js, self.site, len(self.partitions))
            self.stats.cursor = await self._resume(js)

        nc = await connect_when_ready(connect, prepare, stop, f"site {self.site}: partitions")
        if nc is None:
            return
        publisher = DetectionPublisher(nc.jetstream(), self.site, self.partitions)
        backoff = self.idle_s
        try:
            while not stop.is_set():
                try:
                    sent = await self.publish_once(publisher)
                    self.stats.last_error = None
                    backoff = self.idle_s
                except TRANSIENT as error:  # keep the cursor; the same batch goes again
                    self.stats.last_error = repr(error)
                    log.warning("site %s: publishing detections failed, will retry: %r",
                                self.site, error)  # fmt: skip
                    sent = 0
                    backoff = min(backoff * 2, 2.0)
                if sent == 0:
                    await pause(stop, backoff)
        finally:
            await nc.close()

    async def publish_once(self, publisher: DetectionPublisher) -> int:
        """Publish the next page of stored detections; returns how many."""
        if not self._pending:
            with self.db.reader() as session:
                self._pending = detections_after(session, self.stats.cursor, limit=self.page)
        rows = self._pending
        if not rows:
            return 0
        first, last = rows[0][0], rows[-1][0]
        await publisher.publish([d for _, d in rows], batch_id=f"{self.site}:{first}-{last}",
                                headers={ROW_HEADER: str(last)})  # fmt: skip
        self._pending = []
        self.stats.cursor = last
        self.stats.published += len(rows)
        self.stats.batches += 1
        return len(rows)

    async def _resume(self, js: JetStreamContext) -> int:
        """The row after which to go on: the smallest newest row id over the partitions."""
        newest = []
        for k in range(len(self.partitions)):
            try:
                msg = await js.get_last_msg(detection_stream(self.site),
                                            detection_subject(self.site, k))  # fmt: skip
            except NotFoundError:
                return 0  # a partition never published to: start from the first row
            newest.append(int((msg.headers or {}).get(ROW_HEADER, 0)))
        return min(newest, default=0)

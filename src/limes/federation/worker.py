"""A tracker worker: the live pipeline for the partitions (sectors) it owns, fed by JetStream.

Each owned partition has its own `Pipeline` (the scenario's tracker and rules, as in
`limes serve`) whose tracker is held to that one partition, so band copies of a neighbour's
detections (`limes.federation.partitions`) are tracked here too, under this partition's track
ids. A partition keeps only what lies in its own sector — alerts by their `sector`, track states
and detections by position — and hands that to the site's `StoreWriter` (one transaction per
fetched batch, then the messages are acknowledged). Every worker writes the site's database
itself: the writer is idempotent (detections by key, alerts by their deterministic id, tracks
forward in time), so a redelivery after a crash stores nothing twice, and no extra hop through
a single writer process caps the scale-out (use PostgreSQL for several workers: SQLite takes
one writer at a time).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import nats
import numpy as np
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from numpy.typing import NDArray

from limes.federation.partitions import (
    PartitionBatch,
    SectorPartitions,
    decode,
    detection_stream,
    detection_subject,
    partition_consumer,
)
from limes.ops.alert import Alert
from limes.ops.bus import Topic
from limes.ops.detection import Detection
from limes.ops.pipeline import Pipeline
from limes.ops.plan_lookup import PlanLookup
from limes.ops.tracker import TrackerConfig, TrackState
from limes.ops.tracker.track_batch import TrackBatch
from limes.scenario.model import Scenario
from limes.store.database import connect
from limes.store.migrate import migrate
from limes.store.writer import StoreWriter

log = logging.getLogger(__name__)


@dataclass
class PartitionOutput:
    """What one partition produced for its own sector from some batches."""

    detections: list[Detection] = field(default_factory=list)
    tracks: list[TrackState] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    def extend(self, other: PartitionOutput) -> None:
        self.detections += other.detections
        self.tracks += other.tracks
        self.alerts += other.alerts


class PartitionPipeline:
    """The live pipeline of one partition (one sector), keeping what lies in its sector."""

    def __init__(
        self,
        scenario: Scenario,
        partition: int,
        tracker_config: TrackerConfig | None = None,
        plan: PlanLookup | None = None,
        partitions: SectorPartitions | None = None,
    ) -> None:
        self.partition = partition
        self.partitions = partitions or SectorPartitions(scenario)
        self.sector = self.partitions.names[partition]
        self.pipeline = Pipeline(scenario, tracker_config, plan)
        # One tracker partition, named as the in-process pipeline names this sector's: band
        # copies of a neighbour's detections are tracked here, under this sector's ids.
        name = self.sector
        self.pipeline.tracker.partition_of = lambda x, y: name
        self.pipeline.tracker.partitions_of = _constant(name)
        self._tracks: list[TrackBatch] = []
        self.pipeline.bus.subscribe(Topic.TRACKS, self._on_tracks)

    def warm_up(self) -> None:
        self.pipeline.warm_up()

    def _on_tracks(self, states: Sequence[Any]) -> None:
        # The pipeline publishes its track states as one `TrackBatch` per round.
        self._tracks.append(states if isinstance(states, TrackBatch)
                            else TrackBatch.from_states(states))  # fmt: skip

    def take(self, batch: PartitionBatch) -> PartitionOutput:
        """Track one batch, move the clock to the publisher's, keep this sector's share."""
        alerts = self.pipeline.submit(batch.detections) if batch.detections else []
        if batch.latest is not None:
            alerts += self.pipeline.tick(datetime.fromtimestamp(batch.latest, UTC))
        out = PartitionOutput(alerts=[a for a in alerts if a.sector == self.sector])
        if batch.detections:
            x = np.fromiter((d.x for d in batch.detections), float, len(batch.detections))
            y = np.fromiter((d.y for d in batch.detections), float, len(batch.detections))
            mine = self.partitions.sectors(x, y) == self.partition
            out.detections = [d for d, m in zip(batch.detections, mine.tolist(), strict=True) if m]
        for states in self._tracks:
            if len(states):
                mine = self.partitions.sectors(states.x[:, 0], states.x[:, 1]) == self.partition
                out.tracks += states.take(np.flatnonzero(mine)).states()
        self._tracks.clear()
        return out


def _constant(name: str) -> Callable[[NDArray[np.float64], NDArray[np.float64]],
                                     NDArray[np.object_]]:  # fmt: skip
    def partitions_of(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.object_]:
        return np.full(np.shape(x), name, dtype=object)

    return partitions_of


async def ensure_detection_stream(js: JetStreamContext, site: str, partitions: int) -> None:
    """Create the site's detection stream and one durable consumer per partition (idempotent)."""
    name = detection_stream(site)
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(StreamConfig(name=name, subjects=[f"limes.det.{site}.>"]))
    for k in range(partitions):
        await js.add_consumer(
            name,
            ConsumerConfig(
                durable_name=partition_consumer(k), filter_subject=detection_subject(site, k),
                ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
                ack_wait=60.0, max_ack_pending=100_000,
            ),
        )  # fmt: skip


Sink = Callable[[PartitionOutput], None]


async def run_worker(
    scenario: Scenario,
    nats_url: str,
    site: str,
    owned: list[int],
    sink: Sink,
    stop: asyncio.Event,
    *,
    tracker_config: TrackerConfig | None = None,
    plan: PlanLookup | None = None,
    fetch: int = 256,
    on_batch: Callable[[int], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Consume the owned partitions until `stop` is set: track, hand to `sink`, acknowledge.

    `sink` stores (or counts) what each fetch produced, before its messages are acknowledged;
    `on_batch(n)` is told how many partition batches were taken (progress, benchmarks);
    `on_ready()` is called once the pipelines are warm and the consumers bound.
    """
    partitions = SectorPartitions(scenario)
    pipelines = {k: PartitionPipeline(scenario, k, tracker_config, plan, partitions)
                 for k in owned}  # fmt: skip
    for p in pipelines.values():
        p.warm_up()
    nc = await nats.connect(nats_url, max_reconnect_attempts=-1)
    try:
        js = nc.jetstream()
        await ensure_detection_stream(js, site, len(partitions))
        subs = {
            k: await js.pull_subscribe(detection_subject(site, k), durable=partition_consumer(k),
                                       stream=detection_stream(site))
            for k in owned
        }  # fmt: skip
        if on_ready is not None:
            on_ready()
        while not stop.is_set():
            took = 0
            for k, sub in subs.items():
                try:
                    msgs = await sub.fetch(fetch, timeout=0.2)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                out = PartitionOutput()
                for msg in msgs:
                    out.extend(pipelines[k].take(decode(msg.data)))
                sink(out)
                # Acknowledging the last message acknowledges none before it (explicit acks),
                # so every message is acknowledged; they go out together in one flush.
                for msg in msgs:
                    await msg.ack()
                took += len(msgs)
            if took and on_batch is not None:
                on_batch(took)
    finally:
        # Not `drain`: it waits out the pull subscriptions' pending fetches. The acks are
        # flushed; a batch taken but not acknowledged is redelivered to the next owner.
        if nc.is_connected:
            await nc.flush()
        await nc.close()


def store_sink(writer: StoreWriter) -> Sink:
    """A sink that stores each fetch's output in one transaction of the site's store writer."""

    def sink(out: PartitionOutput) -> None:
        if out.detections or out.tracks or out.alerts:
            writer.write(detections=out.detections, tracks=out.tracks, alerts=out.alerts)

    return sink


def work(
    scenario: Scenario,
    nats_url: str,
    site: str,
    owned: list[int],
    database_url: str,
    *,
    tracker_config: TrackerConfig | None = None,
    plan: PlanLookup | None = None,
) -> None:
    """Run one worker in this process until SIGINT or SIGTERM, storing into `database_url`."""
    db = connect(database_url)
    migrate(db)
    writer = StoreWriter(db, scenario.frame)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_worker(scenario, nats_url, site, owned, store_sink(writer), stop,
                         tracker_config=tracker_config, plan=plan)  # fmt: skip

    asyncio.run(main())


async def partitions_drained(nats_url: str, site: str, partitions: int) -> bool:
    """Whether every partition's consumer has taken and acknowledged all it was given."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for k in range(partitions):
            info = await js.consumer_info(detection_stream(site), partition_consumer(k))
            if info.num_pending or info.num_ack_pending:
                return False
        return True
    finally:
        await nc.close()

"""The site's door side of scale-out: detections published by partition onto JetStream.

`DetectionPublisher.publish(detections)` splits one batch by sector (with the hand-off band,
`limes.federation.partitions`) and publishes one message to **every** partition — empty where
a partition has none — carrying the latest detection time seen, so each worker's clock moves
as one in-process tracker's would. Each message has a message id (publisher, batch number,
partition): a republish after a lost acknowledgement is dropped by JetStream's de-duplication.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from nats.js.client import JetStreamContext

from limes.federation.partitions import (
    PartitionBatch,
    SectorPartitions,
    detection_subject,
    encode,
)
from limes.ops.detection import Detection


class DetectionPublisher:
    """Publishes detection batches of one site, partitioned by sector."""

    def __init__(self, js: JetStreamContext, site: str, partitions: SectorPartitions) -> None:
        self.js = js
        self.site = site
        self.partitions = partitions
        self.latest: float | None = None
        self._name = uuid.uuid4().hex[:12]
        self._batches = 0
        self.published = 0

    async def publish(
        self,
        detections: Sequence[Detection],
        *,
        batch_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Publish one batch to every partition; returns once JetStream acknowledged all.

        `batch_id` names the batch in the message ids (default: this publisher and its count):
        a publisher that resumes after a restart names a batch as before, so JetStream drops
        what was already stored. `headers` travel with every partition's message.
        """
        for d in detections:
            t = d.time.timestamp()
            if self.latest is None or t > self.latest:
                self.latest = t
        self._batches += 1
        name = batch_id or f"{self._name}:{self._batches}"
        shares = self.partitions.split(detections)
        await asyncio.gather(*(
            self.js.publish(
                detection_subject(self.site, k), encode(PartitionBatch(self.latest, share)),
                headers={**(headers or {}), "Nats-Msg-Id": f"{name}:{k}"},
            )
            for k, share in enumerate(shares)
        ))  # fmt: skip
        self.published += len(detections)

"""Hand what a door read to the pipeline: duplicates dropped, the rest passed on."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from limes.ops.detection import Detection
from limes.ops.ingest.dead_letter import Rejection, RejectReason
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.outcome import IngestOutcome

OnDetections = Callable[[list[Detection]], None]
OnRejection = Callable[[Rejection], None]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivered:
    """What became of one outcome: detections passed on, duplicates dropped, rejections."""

    accepted: int
    duplicates: int
    rejected: int


class Delivery:
    """Passes outcomes to `on_detections` / `on_rejection`, dropping duplicates, counting all.

    Rejections are logged and given to `on_rejection`; an error there is logged, never raised
    (a broken dead-letter store must not stop good reports). An error in `on_detections`
    propagates to the door, after the detections are un-seen by the deduplicator so that a
    redelivery (MQTT without ack, HTTP retry) is taken again.
    """

    def __init__(
        self,
        on_detections: OnDetections,
        on_rejection: OnRejection,
        dedup: Deduplicator | None = None,
    ) -> None:
        self.on_detections = on_detections
        self.on_rejection = on_rejection
        self.dedup = dedup
        self._lock = threading.Lock()
        self.accepted = 0
        self.duplicates = 0
        self.rejected: Counter[RejectReason] = Counter()

    def __call__(self, outcome: IngestOutcome) -> Delivered:
        """Deliver one outcome; returns the counts for it."""
        for rejection in outcome.rejections:
            log.info(
                "rejected %s from %s: %s", rejection.reason, rejection.source, rejection.detail
            )
            try:
                self.on_rejection(rejection)
            except Exception:
                log.exception("dead-letter sink failed on a %s rejection", rejection.reason)
        fresh = outcome.detections
        if self.dedup is not None:
            fresh = self.dedup.filter(outcome.detections)
        duplicates = len(outcome.detections) - len(fresh)
        with self._lock:
            self.duplicates += duplicates
            self.rejected.update(r.reason for r in outcome.rejections)
        if fresh:
            try:
                self.on_detections(fresh)
            except BaseException:
                if self.dedup is not None:
                    self.dedup.forget([d.key for d in fresh])
                raise
            with self._lock:
                self.accepted += len(fresh)
        return Delivered(len(fresh), duplicates, len(outcome.rejections))

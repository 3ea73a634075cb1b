"""A live pipeline in this process as an exercise's door.

- `json_door`: a handler that reads each simulated message with the live system's own JSON
  reader (`limes.ops.ingest.json_format`) and submits the accepted detections.
- `PipelineSender`: a `Pipeline` fed through that reader; refused reports become its dead
  letters, its alerts the scorecard's.
- `SentClock`: the present of an unpaced run, for the pipeline's ingest checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from limes.ops.alert import Alert
from limes.ops.detection import Detection
from limes.ops.ingest.context import IngestContext, ingest_context
from limes.ops.ingest.dead_letter import Rejection
from limes.ops.ingest.json_format import parse_json_message
from limes.ops.pipeline import Pipeline
from limes.ops.plan_lookup import PlanLookup
from limes.scenario.model import Scenario
from limes.sim.emission import Emission
from limes.sim.scorecard import AlertLike


class SentClock:
    """The present of an unpaced in-process exercise: the simulated time of the latest report
    handed over, so a run as fast as possible is never ahead of the receiving clock."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.sent_s = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.sent_s)


class JsonDoor:
    """Reads each message with the live JSON reader and submits the accepted detections.

    `ctx` is the live system's `IngestContext` (share the exercise clock with it, e.g.
    `clock=sim_clock.now`, when the run is accelerated); `submit` gets the accepted detections
    and may return alerts. Refused messages are kept in `rejected` until the caller takes them.
    """

    def __init__(
        self,
        ctx: IngestContext,
        submit: Callable[[list[Detection]], Sequence[AlertLike] | None],
        source: str = "sim",
    ) -> None:
        self.ctx = ctx
        self.submit = submit
        self.source = source
        self.rejected: list[Rejection] = []

    def __call__(self, batch: Sequence[Emission]) -> list[AlertLike]:
        accepted: list[Detection] = []
        for e in batch:
            outcome = parse_json_message(
                e.payload, self.ctx, source=f"{self.source}:{e.sensor_id}",
                expected_sensor=e.sensor_id,
            )  # fmt: skip
            accepted.extend(outcome.detections)
            self.rejected.extend(outcome.rejections)
        alerts = self.submit(accepted) if accepted else None
        return list(alerts or [])


def json_door(
    ctx: IngestContext,
    submit: Callable[[list[Detection]], Sequence[AlertLike] | None],
    source: str = "sim",
) -> JsonDoor:
    """A handler for `InProcessSender` that feeds the live JSON reader (see `JsonDoor`)."""
    return JsonDoor(ctx, submit, source)


class PipelineSender:
    """Sends reports through the live JSON reader into a `Pipeline` in this process.

    Refused reports go to the pipeline's `reject` (counted, dead-lettered); what `submit`
    returns (alerts) goes back to the scorecard. `close` flushes the tracker's reorder buffer
    when `flush_on_close` (a pipeline of its own); its alerts are kept in `flushed`.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        clock: SentClock | None = None,
        flush_on_close: bool = True,
        source: str = "sim",
    ) -> None:
        self.pipeline = pipeline
        self.clock = clock
        self.flush_on_close = flush_on_close
        self._door = JsonDoor(pipeline.context, pipeline.submit, source)
        self.flushed: list[Alert] = []
        self.sent = 0
        self.rejected = 0

    @classmethod
    def standalone(
        cls, scenario: Scenario, start: datetime, plan: PlanLookup | None = None
    ) -> PipelineSender:
        """A pipeline of its own (no store), its ingest clock following the reports sent."""
        clock = SentClock(start)
        pipeline = Pipeline(scenario, plan=plan, context=ingest_context(scenario, clock=clock.now))
        return cls(pipeline, clock=clock)

    def open(self) -> None:
        return None

    def send(self, batch: Sequence[Emission]) -> list[AlertLike]:
        if self.clock is not None and batch:
            self.clock.sent_s = max(self.clock.sent_s, max(e.send_s for e in batch))
        alerts = self._door(batch)
        refused = self._door.rejected
        for rejection in refused:
            self.pipeline.reject(rejection)
        self.rejected += len(refused)
        refused.clear()  # counted and handed on; keep nothing for a long run
        self.sent += len(batch)
        return alerts

    def close(self) -> None:
        if self.flush_on_close:
            self.flushed = self.pipeline.flush()

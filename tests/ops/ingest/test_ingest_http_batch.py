"""The HTTP door: counts and per-item errors, duplicates, allowed sensors, failure semantics."""

from __future__ import annotations

import json

import pytest
from ingest_fixtures import good_item, good_json

from limes.ops.detection import Detection
from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.dead_letter import MemoryDeadLetterSink, RejectReason
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.http_batch import ingest_http_batch


def body(*items: dict[str, object]) -> bytes:
    return json.dumps({"detections": list(items)}).encode()


def test_batch_answer_counts_and_names_each_bad_item(ctx: IngestContext) -> None:
    got: list[Detection] = []
    sink = MemoryDeadLetterSink()
    result = ingest_http_batch(
        body(good_item(seq=1), good_item(seq="2"), good_item(seq=3, lon=60.0), good_item(seq=4)),
        ctx,
        on_detections=got.extend,
        on_rejection=sink,
        dedup=Deduplicator(),
    )
    assert (result.accepted, result.duplicates, result.rejected) == (2, 0, 2)
    assert [(e.item, e.reason) for e in result.errors] == [
        (1, RejectReason.SCHEMA),
        (2, RejectReason.OUT_OF_AREA),
    ]
    assert [d.seq for d in got] == [1, 4]
    assert sink.counts == {RejectReason.SCHEMA: 1, RejectReason.OUT_OF_AREA: 1}
    assert all(r.source == "http" for r in sink.items)
    assert json.loads(result.model_dump_json())["errors"][0]["reason"] == "schema"


def test_resent_batch_is_all_duplicates(ctx: IngestContext) -> None:
    got: list[Detection] = []
    dedup = Deduplicator()
    data = body(good_item(seq=1), good_item(seq=2), good_item(seq=2))
    first = ingest_http_batch(data, ctx, on_detections=got.extend, on_rejection=print, dedup=dedup)
    again = ingest_http_batch(data, ctx, on_detections=got.extend, on_rejection=print, dedup=dedup)
    assert (first.accepted, first.duplicates) == (2, 1)
    assert (again.accepted, again.duplicates) == (0, 3)
    assert len(got) == 2 and dedup.duplicates == 4


def test_caller_may_only_report_for_its_sensors(ctx: IngestContext) -> None:
    got: list[Detection] = []
    result = ingest_http_batch(
        body(good_item(seq=1), good_item(seq=2, sensor_id="radar-2", lon=41.25, lat=34.52)),
        ctx,
        on_detections=got.extend,
        on_rejection=lambda r: None,
        allowed_sensors={"radar-2"},
    )
    assert [e.reason for e in result.errors] == [RejectReason.SENSOR_MISMATCH]
    assert [d.sensor_id for d in got] == ["radar-2"]


def test_whole_body_errors_have_no_item(ctx: IngestContext) -> None:
    result = ingest_http_batch(
        b"{nope", ctx, on_detections=lambda d: None, on_rejection=lambda r: None
    )
    assert result.rejected == 1 and result.errors[0].item is None
    assert result.errors[0].reason is RejectReason.MALFORMED
    single = ingest_http_batch(
        good_json(), ctx, on_detections=lambda d: None, on_rejection=lambda r: None
    )
    assert single.accepted == 1


def test_pipeline_failure_propagates_and_the_retry_is_taken(ctx: IngestContext) -> None:
    dedup = Deduplicator()

    def broken(detections: list[Detection]) -> None:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        ingest_http_batch(good_json(), ctx, on_detections=broken, on_rejection=print, dedup=dedup)
    got: list[Detection] = []
    retry = ingest_http_batch(
        good_json(), ctx, on_detections=got.extend, on_rejection=print, dedup=dedup
    )
    assert retry.accepted == 1 and len(got) == 1


def test_a_failing_dead_letter_sink_does_not_stop_good_reports(ctx: IngestContext) -> None:
    def broken_sink(rejection: object) -> None:
        raise OSError("disk full")

    got: list[Detection] = []
    result = ingest_http_batch(
        body(good_item(seq=1), good_item(seq=-1)),
        ctx,
        on_detections=got.extend,
        on_rejection=broken_sink,
    )
    assert (result.accepted, result.rejected, len(got)) == (1, 1, 1)

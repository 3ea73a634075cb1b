"""The doors of the live pipeline: MQTT, Cursor-on-Target and HTTP reports to `Detection`s.

Every door reads bytes, checks them against the scenario (`IngestContext`) and hands the
pipeline two things through callables: lists of accepted `Detection`s (`on_detections`) and
`Rejection`s for the dead letters (`on_rejection`). Formats and rules: docs/protocols.md.
"""

from limes.ops.ingest.context import IngestContext, IngestLimits, SensorInfo, utc_now
from limes.ops.ingest.cot import parse_cot_event, parse_cot_events
from limes.ops.ingest.cot_server import CotServer
from limes.ops.ingest.cot_stream import CotStreamSplitter
from limes.ops.ingest.dead_letter import (
    DeadLetterSink,
    MemoryDeadLetterSink,
    Rejection,
    RejectReason,
)
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.delivery import Delivered, Delivery
from limes.ops.ingest.http_batch import HttpBatchResult, ItemError, ingest_http_batch
from limes.ops.ingest.json_format import detection_json_schema, parse_json_message
from limes.ops.ingest.mqtt import detections_topic
from limes.ops.ingest.normalise import RawReport, normalise, normalise_batch
from limes.ops.ingest.outcome import IngestOutcome

__all__ = [
    "CotServer",
    "CotStreamSplitter",
    "DeadLetterSink",
    "Deduplicator",
    "Delivered",
    "Delivery",
    "HttpBatchResult",
    "IngestContext",
    "IngestLimits",
    "IngestOutcome",
    "ItemError",
    "MemoryDeadLetterSink",
    "RawReport",
    "RejectReason",
    "Rejection",
    "SensorInfo",
    "detection_json_schema",
    "detections_topic",
    "ingest_http_batch",
    "normalise",
    "normalise_batch",
    "parse_cot_event",
    "parse_cot_events",
    "parse_json_message",
    "utc_now",
]

"""Whatever text and numbers a sender puts in a report, the JSON and CoT readers never raise,
every rejection they make fits the dead-letter table of either database, and every detection
they accept is finite, placed and from a known sensor."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_fixtures import SENSORS, good_cot, good_item, make_context

from limes.ops.ingest.cot import parse_cot_events
from limes.ops.ingest.dead_letter import DETAIL_CHARS, SENSOR_ID_CHARS, SOURCE_CHARS
from limes.ops.ingest.json_format import parse_json_message
from limes.ops.ingest.outcome import IngestOutcome

CTX = make_context()
KEEP = CTX.limits.dead_letter_keep_bytes
FIELDS = ["sensor_id", "seq", "time", "lon", "lat", "position_sd_m", "class", "confidence",
          "group_size", "bearing_deg", "range_m"]  # fmt: skip

texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
values = st.one_of(texts, numbers, st.lists(numbers, max_size=3))


def storable(value: str | None, limit: int) -> bool:
    if value is None:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value and len(value) <= limit


def holds_the_promise(outcome: IngestOutcome) -> None:
    for r in outcome.rejections:
        assert storable(r.detail, DETAIL_CHARS), r
        assert storable(r.source, SOURCE_CHARS), r
        assert storable(r.sensor_id, SENSOR_ID_CHARS), r
        assert len(r.payload) <= KEEP
    for d in outcome.detections:
        assert d.sensor_id in SENSORS
        assert all(math.isfinite(v) for v in (d.lon, d.lat, d.x, d.y, d.var_xx, d.var_yy))
        assert 0 <= d.seq < 2**63


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS) | texts, values, max_size=8), st.booleans(),
       texts)  # fmt: skip
def test_json_reader_keeps_its_promise_on_arbitrary_fields(
    fields: dict[str, Any], batch: bool, topic: str
) -> None:
    item = {**good_item(), **fields}
    body = {"detections": [item, good_item(seq=99)]} if batch else item
    data = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    outcome = parse_json_message(data, CTX, source=f"mqtt:{topic}", expected_sensor=topic or None)
    holds_the_promise(outcome)
    assert len(outcome.detections) + len(outcome.rejections) >= 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_json_reader_keeps_its_promise_on_arbitrary_bytes(data: bytes) -> None:
    holds_the_promise(parse_json_message(data, CTX, source="http:x"))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["uid", "lat", "lon", "ce", "time", "stale", "sensor", "seq", "class",
                        "type", "confidence", "group"]), texts | numbers.map(str))  # fmt: skip
def test_cot_reader_keeps_its_promise_on_arbitrary_attributes(name: str, value: str) -> None:
    event = good_cot(5).decode()
    escaped = value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    swapped = event.replace(f' {name}="', f' {name}="{escaped}" x{name}="', 1)
    data = swapped.encode("utf-8", "surrogatepass")
    holds_the_promise(parse_cot_events([data], CTX, source="cot-tcp:127.0.0.1:1"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_cot_reader_keeps_its_promise_on_arbitrary_bytes(data: bytes) -> None:
    holds_the_promise(parse_cot_events([data], CTX, source="cot-udp:127.0.0.1:1"))

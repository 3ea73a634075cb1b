"""The JSON format: strict types, sizes before parsing, per-item errors, a schema that cannot drift.

Fuzzing runs briefly in the suite; run it long by hand with, e.g.,
`LIMES_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/ops/ingest -k fuzz`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import DROP, NOW, good_item, good_json, make_context

from limes.ops.detection import Detection
from limes.ops.ingest.context import IngestContext, IngestLimits
from limes.ops.ingest.dead_letter import Rejection, RejectReason
from limes.ops.ingest.json_format import detection_json_schema, parse_json_message

FUZZ_EXAMPLES = int(os.environ.get("LIMES_FUZZ_EXAMPLES", "150"))
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "detection.schema.json"


def parse(
    data: bytes, ctx: IngestContext | None = None, **kw: Any
) -> tuple[list[Detection], list[Rejection]]:
    outcome = parse_json_message(data, ctx or make_context(), source="test", **kw)
    return outcome.detections, outcome.rejections


def only_rejection(data: bytes, **kw: Any) -> Rejection:
    detections, rejections = parse(data, **kw)
    assert detections == [] and len(rejections) == 1, (detections, rejections)
    return rejections[0]


def test_one_good_detection() -> None:
    detections, rejections = parse(good_json())
    assert rejections == [] and len(detections) == 1
    d = detections[0]
    assert (d.sensor_id, d.seq, d.lon, d.lat, d.confidence, d.group_size) == (
        "tower-1",
        1,
        41.015,
        34.41,
        0.8,
        3,
    )


def test_polar_detection_in_json() -> None:
    data = good_json(
        lon=DROP,
        lat=DROP,
        position_sd_m=DROP,
        bearing_deg=45.0,
        range_m=3000.0,
        bearing_sd_deg=1.0,
        range_sd_m=20.0,
    )
    detections, _ = parse(data)
    assert detections[0].var_xy < 0  # north-east: the long (cross-range) axis runs NW-SE


@pytest.mark.parametrize(
    ("data", "reason", "in_detail"),
    [
        (b"", RejectReason.MALFORMED, "not valid JSON"),
        (b"{", RejectReason.MALFORMED, "not valid JSON"),
        (b'{"sensor_id": "tower-1",}', RejectReason.MALFORMED, "not valid JSON"),
        (b"\xff\xfe{}", RejectReason.MALFORMED, "not valid JSON"),
        (b"[1, 2]", RejectReason.SCHEMA, "must be a JSON object"),
        (b'"tower-1"', RejectReason.SCHEMA, "must be a JSON object"),
        (b"null", RejectReason.SCHEMA, "must be a JSON object"),
        (b"{}", RejectReason.SCHEMA, "sensor_id: Field required"),
        (
            good_json(seq="12"),
            RejectReason.SCHEMA,
            "seq: Input should be a valid integer (value '12')",
        ),
        (good_json(seq=12.0), RejectReason.SCHEMA, "seq"),
        (good_json(seq=True), RejectReason.SCHEMA, "seq"),
        (good_json(lon="41.0"), RejectReason.SCHEMA, "lon: Input should be a valid number"),
        (good_json(time=1740862798), RejectReason.SCHEMA, "time"),
        (good_json(extra=1), RejectReason.SCHEMA, "extra: Extra inputs are not permitted"),
        (good_json(sensor_id=DROP), RejectReason.SCHEMA, "sensor_id: Field required"),
        (good_json(sensor_id="tower/1"), RejectReason.SCHEMA, "sensor_id"),
        (good_json(seq=-5), RejectReason.BAD_SEQUENCE, "seq"),
        (good_json(lon=200.0), RejectReason.BAD_COORDINATES, "lon"),
        (good_json(confidence=1.5), RejectReason.BAD_CONFIDENCE, "confidence"),
        (good_json(group_size=0), RejectReason.BAD_GROUP_SIZE, "group_size"),
        (good_json(position_sd_m=0), RejectReason.BAD_UNCERTAINTY, "position_sd_m"),
        (good_json(**{"class": "tank"}), RejectReason.BAD_CLASS, "class"),
        (good_json(time="2025-03-01 20:59:58"), RejectReason.BAD_TIME, "time: has no timezone"),
        (good_json(time="soon"), RejectReason.BAD_TIME, "time"),
        (good_json(time="2025-03-01T21:05:00Z"), RejectReason.FUTURE_TIME, "time"),
        (good_json(time="2025-02-01T21:00:00Z"), RejectReason.TOO_OLD, "time"),
        (good_json(lon=45.0), RejectReason.OUT_OF_AREA, "outside the scenario's area"),
        (good_json(sensor_id="ghost-9"), RejectReason.UNKNOWN_SENSOR, "'ghost-9'"),
        (good_json(bearing_deg=10.0, range_m=100.0), RejectReason.SCHEMA, "exactly one"),
        # NaN and infinities: not JSON tokens, and 1e999 overflows to inf.
        (good_json().replace(b"41.015", b"NaN"), RejectReason.MALFORMED, "not valid JSON"),
        (good_json().replace(b"41.015", b"Infinity"), RejectReason.MALFORMED, "not valid JSON"),
        (good_json().replace(b"41.015", b"-Infinity"), RejectReason.MALFORMED, "not valid JSON"),
        (good_json().replace(b"41.015", b"1e999"), RejectReason.BAD_COORDINATES, "finite"),
        (good_json().replace(b"0.8", b"-1e999"), RejectReason.BAD_CONFIDENCE, "finite"),
        (b'{"detections": {}}', RejectReason.SCHEMA, "detections: must be a list"),
        (b'{"detections": [], "x": 1}', RejectReason.SCHEMA, "unknown keys"),
    ],
)
def test_bad_message_is_rejected_with_its_reason_and_field(
    data: bytes, reason: RejectReason, in_detail: str
) -> None:
    r = only_rejection(data)
    assert r.reason is reason, r.detail
    assert in_detail in r.detail
    assert r.payload == data and r.received == NOW and r.source == "test"


def test_oversize_message_is_rejected_before_parsing() -> None:
    ctx = make_context(IngestLimits(max_message_bytes=300, dead_letter_keep_bytes=16))
    data = b"{" + b" " * 400  # would be malformed if it were read
    _detections, rejections = parse(data, ctx)
    assert [r.reason for r in rejections] == [RejectReason.OVERSIZE]
    assert rejections[0].payload == data[:16] and "400" not in rejections[0].detail
    assert parse(good_json(), ctx)[0]  # a good message right after is still taken


def test_batch_over_the_item_limit_is_rejected_whole() -> None:
    ctx = make_context(IngestLimits(max_batch_size=3))
    body = json.dumps({"detections": [good_item(seq=i) for i in range(4)]}).encode()
    assert parse(body, ctx)[1][0].reason is RejectReason.OVERSIZE
    body = json.dumps({"detections": [good_item(seq=i) for i in range(3)]}).encode()
    assert len(parse(body, ctx)[0]) == 3


def test_bad_items_of_a_batch_do_not_cost_the_good_ones() -> None:
    items = [
        good_item(seq=0),
        good_item(seq="1"),
        good_item(seq=2, lon=50.0),
        "not an object",
        good_item(seq=4, sensor_id="ghost"),
        good_item(seq=5, confidence=2.0),
        good_item(seq=6),
    ]
    detections, rejections = parse(json.dumps({"detections": items}).encode())
    assert [d.seq for d in detections] == [0, 6]
    assert [(r.item, r.reason) for r in rejections] == [
        (1, RejectReason.SCHEMA),
        (2, RejectReason.OUT_OF_AREA),
        (3, RejectReason.SCHEMA),
        (4, RejectReason.UNKNOWN_SENSOR),
        (5, RejectReason.BAD_CONFIDENCE),
    ]
    assert rejections[0].detail.startswith("detections[1].seq:")
    assert json.loads(rejections[1].payload) == items[2]  # the item itself is the dead letter
    assert rejections[1].sensor_id == "tower-1"


def test_empty_batch_is_accepted_and_empty() -> None:
    assert parse(b'{"detections": []}') == ([], [])


def test_expected_and_allowed_sensors_are_enforced() -> None:
    r = only_rejection(good_json(), expected_sensor="radar-2")
    assert r.reason is RejectReason.SENSOR_MISMATCH and "radar-2" in r.detail
    r = only_rejection(good_json(), allowed_sensors={"op-3"})
    assert r.reason is RejectReason.SENSOR_MISMATCH
    assert parse(good_json(), allowed_sensors={"tower-1"})[0]


def test_published_schema_file_equals_the_generated_schema() -> None:
    on_disk = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert on_disk == detection_json_schema(), (
        "docs/schemas/detection.schema.json is stale: run "
        "`.venv/bin/python -c 'from limes.ops.ingest.json_format import write_detection_schema"
        " as w; w()'`"
    )


def test_schema_agrees_with_the_parser_on_shape() -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    good = [
        good_item(),
        {"detections": [good_item(), good_item(seq=2)]},
        good_item(lon=DROP, lat=DROP, bearing_deg=5.0, range_m=10.0),
    ]
    bad = [
        good_item(seq="1"),
        good_item(extra=True),
        good_item(lon=DROP),
        good_item(bearing_deg=5.0, range_m=10.0),
        good_item(confidence=2),
        {"detections": [good_item(seq=-1)]},
    ]
    for message in good:
        assert validator.is_valid(message), message
        assert parse(json.dumps(message).encode())[1] == []
    for message in bad:
        assert not validator.is_valid(message), message
        assert parse(json.dumps(message).encode())[1], message


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [*list(good_item()), "bearing_deg", "range_m", "range_sd_m", "bearing_sd_deg", "detections"]
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_fuzz_json_parser_never_raises_on_bytes(data: bytes) -> None:
    detections, rejections = parse(data)
    assert all(isinstance(r.reason, RejectReason) and r.payload == data for r in rejections[:1])
    if not detections and not rejections:
        assert json.loads(data) == {"detections": []}


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(field_names, json_values, max_size=3), batch=st.booleans())
def test_fuzz_json_parser_on_mutated_messages(changes: dict[str, Any], batch: bool) -> None:
    item = {**good_item(), **changes}
    body = json.dumps({"detections": [item, good_item(seq=99)]} if batch else item).encode()
    detections, rejections = parse(body)
    for r in rejections:
        assert isinstance(r.reason, RejectReason) and r.detail
    if batch:
        assert 99 in [d.seq for d in detections]  # the good neighbour survives any bad item
    else:
        assert len(detections) + len(rejections) == 1
    for d in detections:
        assert 0.0 <= d.confidence <= 1.0 and d.var_xx > 0 and d.var_yy > 0

"""The JSON door's quick reading of plain items agrees with the model on every item.

Plain lon/lat items in a batch skip the pydantic model; the reference is the same batch read
with the quick reader switched off (every item through the model). Whatever the fields hold
(right types, wrong types, out of bounds, booleans, extra keys, missing keys), the outcome
must be the same: the same detections, the same rejections with the same bytes.
"""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_fixtures import good_item, make_context

from limes.ops.ingest import json_format
from limes.ops.ingest.json_format import parse_json_message
from limes.ops.ingest.outcome import IngestOutcome

CTX = make_context()

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from([0, 1, -1, 0.5, 1.5, 180, 180.0001, -90, 90.5, 1e308, "person", "x"]),
    st.text(max_size=70),
)
_fields = ["sensor_id", "seq", "time", "lon", "lat", "position_sd_m", "class", "confidence",
           "group_size", "extra", "bearing_deg"]  # fmt: skip


def _read(items: list[dict[str, Any]], *, model_only: bool = False) -> IngestOutcome:
    body = json.dumps({"detections": items}).encode()
    if not model_only:
        return parse_json_message(body, CTX, source="t", expected_sensor="tower-1")
    with patch.object(json_format._Plain, "report", lambda self, raw, item, path: None):
        return parse_json_message(body, CTX, source="t", expected_sensor="tower-1")


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(_fields), _values, max_size=3),
    dropped=st.sets(st.sampled_from([*_fields[:5], "class"]), max_size=1),
)
def test_an_item_reads_the_same_with_or_without_the_quick_reader(
    changes: dict[str, Any], dropped: set[str]
) -> None:
    item = good_item(**changes)
    for key in dropped:
        item.pop(key, None)
    items = [good_item(seq=0), item]
    quick, model = _read(items), _read(items, model_only=True)
    assert quick.detections == model.detections
    assert quick.rejections == model.rejections  # reasons, details, bytes, items


def test_plain_and_model_items_keep_their_order_in_one_batch() -> None:
    items = [good_item(seq=1), good_item(seq=2, lon=41), good_item(seq=3, **{"class": None}),
             good_item(seq=4, group_size=True), good_item(seq=5, lat="34.4")]  # fmt: skip
    out = _read(items)
    assert [d.seq for d in out.detections] == [1, 2, 3]
    assert [r.item for r in out.rejections] == [3, 4]

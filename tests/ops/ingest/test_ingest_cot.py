"""Cursor-on-Target events: the type mapping, the detail element, unsafe XML, the real TAK library.

Fuzzing runs briefly in the suite; `LIMES_FUZZ_EXAMPLES=20000` runs it long by hand.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import NOW, SENSORS, good_cot, make_context

from limes.ops.detection import Detection, TargetClass
from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.cot import cot_type_class, parse_cot_event
from limes.ops.ingest.dead_letter import Rejection, RejectReason

FUZZ_EXAMPLES = int(os.environ.get("LIMES_FUZZ_EXAMPLES", "150"))
CTX = make_context()


def one(data: bytes, ctx: IngestContext = CTX) -> Detection | Rejection:
    outcome = parse_cot_event(data, ctx, source="cot-udp:10.0.0.1:4242")
    assert len(outcome.detections) + len(outcome.rejections) == 1
    return (outcome.detections or outcome.rejections)[0]


def rejection(data: bytes, ctx: IngestContext = CTX) -> Rejection:
    result = one(data, ctx)
    assert isinstance(result, Rejection), result
    return result


def detection(data: bytes, ctx: IngestContext = CTX) -> Detection:
    result = one(data, ctx)
    assert isinstance(result, Detection), result
    return result


def test_good_event_with_limes_detail() -> None:
    d = detection(good_cot(42, declaration=True))
    assert (d.sensor_id, d.seq, d.target_class, d.confidence, d.group_size) == (
        "tower-1",
        42,
        TargetClass.PERSON,
        0.7,
        2,
    )
    assert (d.lon, d.lat, d.var_xx) == (41.015, 34.41, 900.0)
    assert d.time == NOW - timedelta(seconds=2) and not d.late


@pytest.mark.parametrize(
    ("cot_type", "expected"),
    [
        ("a-h-G", TargetClass.UNKNOWN),
        ("a-u-G", TargetClass.UNKNOWN),
        ("a-n-G", TargetClass.UNKNOWN),
        ("a-s-G", TargetClass.UNKNOWN),
        ("a-h-G-U-C", TargetClass.PERSON),
        ("a-h-G-U-C-I", TargetClass.PERSON),
        ("a-u-G-U-C-R", TargetClass.PERSON),
        ("a-h-G-U-C-A", TargetClass.VEHICLE),
        ("a-h-G-U-C-A-T", TargetClass.VEHICLE),
        ("a-h-G-U-C-I-M", TargetClass.VEHICLE),
        ("a-u-G-E-V", TargetClass.VEHICLE),
        ("a-n-G-E-V-C", TargetClass.VEHICLE),
        ("a-h-G-I", TargetClass.UNKNOWN),
        ("a-h-G-E-W", TargetClass.UNKNOWN),
    ],
)
def test_type_tree_maps_to_classes(cot_type: str, expected: TargetClass) -> None:
    assert cot_type_class(cot_type) is expected


@pytest.mark.parametrize(
    ("cot_type", "reason"),
    [
        ("a-f-G", RejectReason.FRIENDLY),
        ("a-a-G-U-C", RejectReason.FRIENDLY),
        ("a-h-A", RejectReason.UNSUPPORTED_TYPE),
        ("a-h-S", RejectReason.UNSUPPORTED_TYPE),
        ("a-x-G", RejectReason.UNSUPPORTED_TYPE),
        ("t-x-c-t", RejectReason.UNSUPPORTED_TYPE),
        ("b-m-p-s-p-i", RejectReason.UNSUPPORTED_TYPE),
        ("a-h", RejectReason.UNSUPPORTED_TYPE),
        ("a--G", RejectReason.SCHEMA),
        ("", RejectReason.SCHEMA),
    ],
)
def test_types_that_are_not_detections_are_rejected(cot_type: str, reason: RejectReason) -> None:
    assert rejection(good_cot(cot_type=cot_type)).reason is reason


def test_detail_class_overrides_the_type() -> None:
    event = good_cot(cot_type="a-h-G-E-V")  # vehicle by type, "person" in the detail
    assert detection(event).target_class is TargetClass.PERSON
    no_class = event.replace(b'class="person" ', b"")
    assert detection(no_class).target_class is TargetClass.VEHICLE


def unknown_ce_event(ce: str) -> bytes:
    return good_cot(ce=ce)


def test_unknown_circular_error_takes_the_sensors_default_sd() -> None:
    for ce in ("9999999", "9999999.0", "1e8"):
        d = detection(unknown_ce_event(ce))
        assert d.var_xx == SENSORS["tower-1"].position_sd_m ** 2
    no_ce = good_cot().replace(b' ce="30"', b"")
    assert detection(no_ce).var_xx == SENSORS["tower-1"].position_sd_m ** 2


@pytest.mark.parametrize(
    ("event", "reason", "in_detail"),
    [
        (
            good_cot().replace(b'lat="34.41"', b'lat="nan"'),
            RejectReason.BAD_COORDINATES,
            "point@lat",
        ),
        (
            good_cot().replace(b'lat="34.41"', b'lat="inf"'),
            RejectReason.BAD_COORDINATES,
            "point@lat",
        ),
        (good_cot().replace(b'lon="41.015"', b'lon="1_041"'), RejectReason.BAD_COORDINATES, "lon"),
        (good_cot().replace(b'lat="34.41"', b'lat="95"'), RejectReason.BAD_COORDINATES, "lat"),
        (good_cot().replace(b' lat="34.41"', b""), RejectReason.SCHEMA, "point@lat: missing"),
        (good_cot(lat=36.5), RejectReason.OUT_OF_AREA, "area"),
        (good_cot(ce="0"), RejectReason.BAD_UNCERTAINTY, "point@ce"),
        (good_cot(ce="-4"), RejectReason.BAD_UNCERTAINTY, "point@ce"),
        (good_cot(ce="6000"), RejectReason.BAD_UNCERTAINTY, "point@ce"),
        (good_cot().replace(b'seq="1"', b'seq="-1"'), RejectReason.BAD_SEQUENCE, "limes@seq"),
        (good_cot().replace(b'seq="1"', b'seq="x"'), RejectReason.BAD_SEQUENCE, "limes@seq"),
        (good_cot().replace(b'"person"', b'"yeti"'), RejectReason.BAD_CLASS, "limes@class"),
        (good_cot().replace(b'"0.7"', b'"1.7"'), RejectReason.BAD_CONFIDENCE, "confidence"),
        (good_cot().replace(b'group="2"', b'group="0"'), RejectReason.BAD_GROUP_SIZE, "group"),
        (good_cot(sensor="ghost-9"), RejectReason.UNKNOWN_SENSOR, "ghost-9"),
        (good_cot(time=NOW + timedelta(minutes=1)), RejectReason.FUTURE_TIME, "event@time"),
        (good_cot(time=NOW - timedelta(days=2)), RejectReason.TOO_OLD, "event@time"),
        (good_cot().replace(b'how="m-r"', b'how="h-g-i-g-o"'), RejectReason.BAD_UNCERTAINTY, "how"),
        (good_cot().replace(b'how="m-r"', b'how="M R"'), RejectReason.SCHEMA, "event@how"),
        (good_cot().replace(b' how="m-r"', b""), RejectReason.SCHEMA, "event@how: missing"),
        (good_cot().replace(b'Z" start', b'" start'), RejectReason.BAD_TIME, "event@time"),
        (
            good_cot().replace(b' stale="', b' stale="1999-01-01T00:00:00Z" x="'),
            RejectReason.BAD_TIME,
            "stale",
        ),
        (good_cot().replace(b"<point", b"<spot"), RejectReason.SCHEMA, "event/point: missing"),
    ],
)
def test_bad_event_is_rejected_with_its_reason(
    event: bytes, reason: RejectReason, in_detail: str
) -> None:
    r = rejection(event)
    assert r.reason is reason, r.detail
    assert in_detail in r.detail
    assert r.payload == event and r.source.startswith("cot-udp:")


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (b"", RejectReason.MALFORMED),
        (b"garbage", RejectReason.MALFORMED),
        (good_cot()[:-9], RejectReason.MALFORMED),  # truncated
        (good_cot()[:40], RejectReason.MALFORMED),
        (b"<message/>", RejectReason.MALFORMED),
        (good_cot().replace(b"<detail>", b"<detail><x>"), RejectReason.MALFORMED),
        (b"\xff\xfe<\x00e\x00", RejectReason.MALFORMED),
    ],
)
def test_truncated_and_garbage_events_are_malformed(event: bytes, reason: RejectReason) -> None:
    assert rejection(event).reason is reason
    assert isinstance(one(good_cot(2)), Detection)  # and the next good one is taken


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE event [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<event version="2.0" uid="&lol9;" type="a-h-G" how="m-g" time="2025-03-01T20:59:58Z"
 start="2025-03-01T20:59:58Z" stale="2025-03-01T21:05:00Z"><point lat="34.41" lon="41.015"
 hae="0" ce="10" le="10"/><detail><limes sensor="tower-1" seq="1"/><remarks>&lol9;</remarks>
</detail></event>"""


def xxe(target: bytes) -> bytes:
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE event [<!ENTITY xxe SYSTEM "'
        + target
        + b'">]>\n'
        + good_cot().replace(b'class="person"', b'class="&xxe;"')
    )


def test_billion_laughs_is_refused_without_expansion() -> None:
    r = rejection(BILLION_LAUGHS)
    assert r.reason is RejectReason.UNSAFE_XML
    assert b"lollollol" not in r.payload and len(r.detail) < 300


@pytest.mark.parametrize(
    "target", [b"file:///etc/passwd", b"http://127.0.0.1:9/secret", b"/etc/hostname"]
)
def test_external_entities_are_refused(target: bytes) -> None:
    r = rejection(xxe(target))
    assert r.reason is RejectReason.UNSAFE_XML
    assert "root:" not in r.detail


def test_external_dtd_and_parameter_entities_are_refused() -> None:
    external = b'<!DOCTYPE event SYSTEM "http://127.0.0.1:9/cot.dtd">' + good_cot()
    parameter = b'<!DOCTYPE event [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>' + good_cot()
    for event in (external, parameter):
        assert rejection(event).reason is RejectReason.UNSAFE_XML
    # An entity reference without any DTD is simply not well-formed.
    assert rejection(good_cot().replace(b'"person"', b'"&lol9;"')).reason is RejectReason.MALFORMED


def test_fallback_sensor_id_from_callsign_then_uid() -> None:
    base = good_cot(7).replace(b'<limes sensor="tower-1" seq="7" class="person" '
                               b'confidence="0.7" group="2"/>', b"")  # fmt: skip
    assert b"<limes" not in base
    # uid "tower-1.t7": the part before the first '.' names the sensor.
    d = detection(base)
    assert d.sensor_id == "tower-1" and d.target_class is TargetClass.PERSON and d.confidence == 1.0
    with_callsign = base.replace(b"<detail>", b'<detail><contact callsign="radar-2"/>')
    assert detection(with_callsign).sensor_id == "radar-2"
    bad = base.replace(b'uid="tower-1.t7"', b'uid="someone-else"')
    r = rejection(bad)
    assert r.reason is RejectReason.UNKNOWN_SENSOR and "someone-else" in r.detail


def test_fallback_sequence_is_stable_for_a_resent_event_and_differs_between_events() -> None:
    strip = b'<limes sensor="tower-1" seq="1" class="person" confidence="0.7" group="2"/>'
    a = good_cot(1).replace(strip, b"")
    b = a.replace(b'uid="tower-1.t1"', b'uid="tower-1.t2"')
    first, again, other = detection(a), detection(a), detection(b)
    assert first.seq == again.seq != other.seq
    assert 0 <= first.seq < 2**63


def test_event_already_stale_on_arrival_is_late() -> None:
    event = good_cot(time=NOW - timedelta(minutes=6))  # stale 5 min after its time
    assert detection(event).late


def test_event_made_by_the_tak_library_is_accepted() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pytak warns about optional extras it does not need
        import pytak

    event = pytak.gen_cot(
        lat=34.41, lon=41.015, ce=15, hae=250, le=9999999, uid="radar-2.track-17", stale=120,
        cot_type="a-h-G-E-V-C", callsign="radar-2",
    )  # fmt: skip
    assert event is not None and event.startswith(b"<?xml")
    ctx = make_context(now=None)  # pytak stamps events with the wall clock
    d = detection(event, ctx)
    assert (d.sensor_id, d.target_class, d.var_xx) == ("radar-2", TargetClass.VEHICLE, 225.0)
    assert (d.lon, d.lat) == (41.015, 34.41)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600))
def test_fuzz_cot_parser_never_raises_on_bytes(data: bytes) -> None:
    r = rejection(data)
    assert r.reason in {RejectReason.MALFORMED, RejectReason.UNSAFE_XML}


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, 10_000),
    length=st.integers(0, 12),
    insert=st.binary(max_size=12) | st.sampled_from([b"<", b">", b'"', b"&", b"<!--", b"]]>"]),
)
def test_fuzz_cot_parser_on_mutated_events(cut: int, length: int, insert: bytes) -> None:
    event = good_cot()
    cut %= len(event) + 1
    mutated = event[:cut] + insert + event[cut + length :]
    result = one(mutated)
    if isinstance(result, Detection):
        assert result.sensor_id in SENSORS and result.var_xx > 0
    else:
        assert isinstance(result.reason, RejectReason) and result.detail

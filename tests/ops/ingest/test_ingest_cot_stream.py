"""The CoT TCP stream splitter: any cut of the stream gives the same events; bad parts are
skipped, counted and never cost the next good event."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import good_cot

from limes.ops.ingest.cot_stream import CotStreamSplitter

FUZZ_EXAMPLES = int(os.environ.get("LIMES_FUZZ_EXAMPLES", "150"))

EVENTS = [
    good_cot(1, declaration=True),
    good_cot(2),
    good_cot(3, declaration=True).replace(b'how="m-r"', b'how="m-g" remarks="a>b \'/event>\'"'),
    b'<event version="2.0" uid="empty" type="a-u-G"/>',
    good_cot(4).replace(b"</event>", b"</event  >"),
]
SEPARATORS = [b"\n", b"", b"\r\n  ", b"\n", b""]
STREAM = b"".join(e + s for e, s in zip(EVENTS, SEPARATORS, strict=True))


def expected_events() -> list[bytes]:
    """Events as the splitter passes them on: without their XML declarations."""
    return [e[e.index(b"<event") :] for e in EVENTS]


def split_at(data: bytes, cuts: list[int], splitter: CotStreamSplitter) -> list[bytes]:
    out: list[bytes] = []
    edges = [0, *sorted(cuts), len(data)]
    for a, b in itertools.pairwise(edges):
        out += splitter.feed(data[a:b])
    return out + splitter.flush()


def test_whole_stream_in_one_read() -> None:
    s = CotStreamSplitter()
    assert s.feed(STREAM) == expected_events()
    assert (s.events, s.garbage_bytes, s.oversize, s.buffered) == (5, 0, 0, 0)


def test_stream_split_at_every_byte_boundary() -> None:
    for cut in range(len(STREAM) + 1):
        s = CotStreamSplitter()
        assert split_at(STREAM, [cut], s) == expected_events(), cut
        assert s.garbage_bytes == 0


def test_stream_fed_one_byte_at_a_time() -> None:
    s = CotStreamSplitter()
    assert split_at(STREAM, list(range(len(STREAM))), s) == expected_events()
    assert s.garbage_bytes == 0


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(0, len(STREAM)), max_size=40))
def test_stream_split_at_random_places(cuts: list[int]) -> None:
    assert split_at(STREAM, cuts, CotStreamSplitter()) == expected_events()


def test_garbage_between_events_is_skipped_and_counted() -> None:
    junk = [b"hello", b"<html><body>", b"\x00\x01\x02", b"<!DOCTYPE event>", b"<events>"]
    data = b"".join(j + e for j, e in zip(junk, EVENTS, strict=False))
    for cut in range(0, len(data) + 1, 7):
        s = CotStreamSplitter()
        assert split_at(data, [cut], s) == expected_events(), cut
        # White space is not garbage (it separates events), so it is not counted.
        assert s.garbage_bytes == sum(len(j.replace(b" ", b"")) for j in junk)
        assert s.garbage_runs == len(junk)


def test_oversize_event_is_dropped_and_the_stream_resynchronises() -> None:
    heads: list[bytes] = []
    big = good_cot(9).replace(b"<detail>", b"<detail><remarks>" + b"x" * 5000 + b"</remarks>")
    data = EVENTS[1] + big + b"\n" + EVENTS[0] + EVENTS[4]
    for cuts in ([], list(range(0, len(data), 100)), list(range(len(data)))):
        heads.clear()
        s = CotStreamSplitter(2000, on_oversize=heads.append, keep_bytes=64)
        out = split_at(data, cuts, s)
        assert out == [expected_events()[1], expected_events()[0], expected_events()[4]]
        assert s.oversize == 1 and heads == [big[:64]]
        assert s.garbage_bytes == 0
        assert s.buffered == 0


def test_buffer_stays_bounded_under_an_endless_event() -> None:
    s = CotStreamSplitter(1000, on_oversize=lambda head: None)
    s.feed(b"<event uid='x'>")
    for _ in range(200):
        assert s.feed(b"y" * 512) == []
        assert s.buffered <= 1000 + 512
    assert s.oversize >= 1
    assert s.feed(EVENTS[1]) == [expected_events()[1]]


def test_buffer_stays_bounded_under_endless_garbage() -> None:
    s = CotStreamSplitter(1000)
    for _ in range(200):
        s.feed(b"<" + b"z" * 511)  # an unclosed '<' keeps a tail, but never past the cap
        assert s.buffered <= 1000 + 512
    assert s.feed(b">" + EVENTS[1]) == [expected_events()[1]]


@pytest.mark.parametrize("keep", [7, 40, 150, 300, 420])
def test_truncated_event_is_emitted_alone_when_the_next_one_starts(keep: int) -> None:
    # Cut inside the start tag (even inside a quoted value) or inside the content.
    truncated = EVENTS[1][:keep]
    for follower, expected in ((EVENTS[2], expected_events()[2]), (EVENTS[1], EVENTS[1])):
        for cut in range(0, len(truncated) + len(follower), 3):
            s = CotStreamSplitter()
            out = split_at(truncated + follower, [cut], s)
            assert out == [truncated, expected], (keep, cut)


def test_a_cut_before_the_start_tag_is_complete_is_garbage() -> None:
    s = CotStreamSplitter()
    assert split_at(b"<even" + EVENTS[2], [3], s) == [expected_events()[2]]
    assert s.garbage_bytes == 5


def test_unfinished_event_is_flushed_at_close() -> None:
    s = CotStreamSplitter()
    assert s.feed(EVENTS[1][:-3]) == []
    assert s.flush() == [EVENTS[1][:-3]]
    assert s.flush() == []


def test_too_small_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        CotStreamSplitter(4)

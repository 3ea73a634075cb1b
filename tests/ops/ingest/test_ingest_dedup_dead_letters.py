"""Duplicates dropped in bounded memory; dead letters kept, bounded, counted by reason."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_fixtures import NOW

from limes.ops.ingest.dead_letter import (
    DeadLetterSink,
    MemoryDeadLetterSink,
    Rejection,
    RejectReason,
)
from limes.ops.ingest.dedup import Deduplicator


def test_repeat_is_a_duplicate_and_counted() -> None:
    d = Deduplicator()
    assert d.is_new("a", 1) and d.is_new("b", 1) and d.is_new("a", 2)
    assert not d.is_new("a", 1)
    assert (d.accepted, d.duplicates) == (3, 1)


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 40)), max_size=200))
def test_within_the_window_dedup_matches_a_set(keys: list[tuple[str, int]]) -> None:
    d = Deduplicator(window=1000)
    seen: set[tuple[str, int]] = set()
    for key in keys:
        assert d.is_new(*key) == (key not in seen)
        seen.add(key)
    assert d.duplicates == len(keys) - len(seen)


def test_memory_is_bounded_and_old_numbers_are_forgotten() -> None:
    d = Deduplicator(window=100, max_sensors=5)
    for seq in range(10_000):
        d.is_new("a", seq)
    assert len(d._sensors["a"].seen) <= 200
    assert not d.is_new("a", 9_999)  # recent: still a duplicate
    assert d.is_new("a", 0)  # long forgotten: taken as new (numbering may have restarted)
    for i in range(50):
        d.is_new(f"s{i}", 0)
    assert len(d._sensors) == 5
    assert "a" not in d._sensors  # least recently heard sensor went first


def test_forget_lets_a_redelivery_through() -> None:
    d = Deduplicator()
    assert d.is_new("a", 1)
    d.forget([("a", 1)])
    assert d.is_new("a", 1)


def rejection(reason: RejectReason, n: int = 0) -> Rejection:
    return Rejection(reason, f"detail {n}", "http", NOW + timedelta(seconds=n), b"x")


def test_memory_sink_is_bounded_and_counts_by_reason() -> None:
    sink = MemoryDeadLetterSink(capacity=3)
    assert isinstance(sink, DeadLetterSink)
    reasons = [RejectReason.SCHEMA] * 3 + [RejectReason.OVERSIZE] * 2
    for n, reason in enumerate(reasons):
        sink.put(rejection(reason, n))
    assert sink.total == 5 and sink.evicted == 2
    assert sink.counts == {RejectReason.SCHEMA: 3, RejectReason.OVERSIZE: 2}
    assert [r.detail for r in sink.items] == ["detail 2", "detail 3", "detail 4"]
    assert sink.reasons() == [RejectReason.SCHEMA, RejectReason.OVERSIZE, RejectReason.OVERSIZE]


def test_sink_is_callable_as_an_on_rejection_handler() -> None:
    sink = MemoryDeadLetterSink()
    handler = sink  # adapters take any Callable[[Rejection], None]
    handler(rejection(RejectReason.MALFORMED))
    assert sink.counts == {RejectReason.MALFORMED: 1}


def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        MemoryDeadLetterSink(0)
    with pytest.raises(ValueError):
        Deduplicator(window=0)


def test_dedup_is_safe_across_threads() -> None:
    import threading

    d = Deduplicator(window=100_000)
    keys = [("a", i % 500) for i in range(4000)]
    random.Random(1).shuffle(keys)
    threads = [
        threading.Thread(target=lambda ks=keys[i::4]: [d.is_new(*k) for k in ks]) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (d.accepted, d.duplicates) == (500, 3500)

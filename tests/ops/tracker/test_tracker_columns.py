"""Track states as columns: the same records as before, built only when read; batch routing."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tracker_support import T0, MakeDetection, make_detection_factory

from limes.ops.detection import Detection, TargetClass
from limes.ops.tracker import PartitionedTracker, Tracker, TrackerConfig, TrackStatus
from limes.ops.tracker.batch import DetectionBatch
from limes.ops.tracker.lifecycle import TrackDeleter
from limes.ops.tracker.track_batch import TrackBatch


def _crowd(det: MakeDetection, t: float, n: int = 12) -> list[Detection]:
    # Walkers 30 m apart moving 1 m/s north, two sensors, mixed declarations.
    classes = [TargetClass.PERSON, TargetClass.VEHICLE, TargetClass.UNKNOWN]
    return [
        det(t, 30.0 * i - 150.0, 1.0 * t, sensor=f"s{i % 2}", cls=classes[i % 3],
            confidence=0.8, group=(i % 4) or None)
        for i in range(n)
    ]  # fmt: skip


def test_columns_hold_the_same_records_the_list_interface_returns() -> None:
    config = TrackerConfig(reorder_window_s=0.0)
    by_list, by_columns = Tracker(config), Tracker(config)
    make_a, make_b = make_detection_factory(), make_detection_factory()
    for t in range(8):
        listed = by_list.update(_crowd(make_a, t))
        columns = by_columns.update_batch(DetectionBatch.of(_crowd(make_b, t)))
        assert isinstance(columns, TrackBatch)
        assert columns.states() == listed
        assert list(columns) == listed and len(columns) == len(listed)
    assert {s.status for s in listed} == {TrackStatus.CONFIRMED}


def test_records_are_built_once_and_only_when_read(det: MakeDetection) -> None:
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0))
    batch = tracker.update_batch(DetectionBatch.of(_crowd(det, 0)))
    assert batch._states is None  # nothing built yet: the rules read the columns
    first = batch.states()
    assert batch[3] is first[3] and batch.states() is first


def test_records_survive_the_trip_to_columns_and_back(det: MakeDetection) -> None:
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0))
    for t in range(4):
        states = tracker.update(_crowd(det, t))
    fresh = TrackBatch.from_states(list(states))
    fresh._states = None  # force a rebuild from the columns alone
    assert fresh.states() == states


def test_take_and_concat_keep_the_order(det: MakeDetection) -> None:
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0))
    states = tracker.update_batch(DetectionBatch.of(_crowd(det, 0)))
    every = states.states()
    index = np.array([5, 0, 7])
    assert states.take(index).states() == [every[i] for i in index]
    joined = TrackBatch.concat([states.take(index), TrackBatch.empty(), states.take(index[:1])])
    assert joined.states() == [every[5], every[0], every[7], every[5]]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ahead=st.floats(0.0, 60.0))
def test_in_place_staleness_equals_the_check_on_predicted_covariances(
    seed: int, ahead: float
) -> None:
    # Reference: predict every live track with the motion model, then the scan-time check.
    rng = np.random.default_rng(seed)
    config = TrackerConfig(
        reorder_window_s=0.0, max_coast_s=float(rng.uniform(5, 30)),
        max_position_sd_m=float(rng.uniform(20, 200)),
    )  # fmt: skip
    tracker = Tracker(config)
    make = make_detection_factory()
    for t in range(int(rng.integers(1, 6))):
        keep = rng.random(12) < 0.7
        tracker.update([d for d, k in zip(_crowd(make, t), keep, strict=True) if k])
    table = tracker._table
    slots = table.active()
    now = float(table.t[slots].max()) + ahead if slots.size else ahead
    _, p = tracker.predictor.predict(table, slots, now)
    deleter = TrackDeleter(config)
    want = slots[deleter.doomed(table, slots, p, now)]
    got = deleter.stale(table, now, table.class_p @ tracker.predictor.q)
    assert got.tolist() == want.tolist()


def _side(x: float, y: float) -> str:
    return "west" if x < 0 else "east"


def _sides(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(x < 0, "west", "east")


def test_routing_by_keys_by_array_or_per_point_gives_the_same_tracks() -> None:
    config = TrackerConfig(reorder_window_s=0.0)
    per_point = PartitionedTracker(_side, config)
    by_array = PartitionedTracker(_side, config, partitions_of=_sides)
    by_keys = PartitionedTracker(_side, config)
    makers = [make_detection_factory() for _ in range(3)]
    for t in range(6):
        a, b, c = (_crowd(m, t) for m in makers)
        out_a = per_point.update(a)
        out_b = by_array.update(b)
        out_c = by_keys.update(c, partitions=[_side(d.x, d.y) for d in c])
        assert out_a == out_b == out_c
    assert set(by_array.partitions) == {"west", "east"}
    assert per_point.tracks() == by_array.tracks() == by_keys.tracks()


def test_a_wrong_number_of_partition_keys_is_refused(det: MakeDetection) -> None:
    tracker = PartitionedTracker(_side)
    with pytest.raises(ValueError, match="2 partition keys for 12 detections"):
        tracker.update(_crowd(det, 0), partitions=["west", "east"])


def test_a_quiet_partition_deletes_by_age_on_the_shared_clock(det: MakeDetection) -> None:
    tracker = PartitionedTracker(_side, TrackerConfig(reorder_window_s=0.0, max_coast_s=5.0))
    for t in range(3):
        tracker.update([det(t, -100.0 + t, 0.0), det(t, 100.0, 0.0)])
    for t in (4, 6):  # only the east reports; the west's last report is at t = 2
        tracker.update([det(t, 100.0, 0.0)])
    out = tracker.update_batch(DetectionBatch.of([det(8, 100.0, 0.0)]))
    assert {(s.track_id, s.status) for s in out if s.status is TrackStatus.DELETED} == {
        ("west-1", TrackStatus.DELETED)
    }
    assert tracker.advance(T0 + timedelta(seconds=8)) == []

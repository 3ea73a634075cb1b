"""Track life with M-of-N confirmation: coasting, deletion by misses, age and uncertainty.

The score-based existence (the default) has its own tests in test_tracker_existence.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tracker_support import T0, MakeDetection

from limes.ops.tracker import Tracker, TrackerConfig, TrackStatus


def _config(**kw: object) -> TrackerConfig:
    return TrackerConfig(reorder_window_s=0.0, existence="m_of_n", **kw)  # type: ignore[arg-type]


def _walk(det: MakeDetection, t: float, sensor: str = "s1") -> list:
    # One walker at 1 m/s along x plus a far-away second target to keep the sensor scanning.
    return [det(t, 1.0 * t, 0.0, sensor=sensor), det(t, 5000.0, 5000.0 + t, sensor=sensor)]


def test_two_of_three_confirms_on_the_second_hit(det: MakeDetection) -> None:
    tracker = Tracker(_config(confirm_hits=2, confirm_window=3))
    first = tracker.update(_walk(det, 0))
    assert {s.status for s in first} == {TrackStatus.TENTATIVE}
    second = tracker.update(_walk(det, 1))
    assert {s.status for s in second} == {TrackStatus.CONFIRMED}
    assert all(s.hits == 2 and s.misses == 0 for s in second)


def test_m_of_n_confirms_with_a_gap_and_fails_without_enough_hits(det: MakeDetection) -> None:
    tracker = Tracker(_config(confirm_hits=3, confirm_window=4))
    tracker.update(_walk(det, 0))
    tracker.update(_walk(det, 1))
    tracker.update([det(2, 5000.0, 5002.0)])  # the walker is missed once
    out = tracker.update(_walk(det, 3))  # hits 3 of 4 opportunities: confirmed
    walker = [s for s in out if abs(s.y) < 100]
    assert walker[0].status is TrackStatus.CONFIRMED
    assert (walker[0].hits, walker[0].misses) == (3, 1)

    lonely = Tracker(_config(confirm_hits=3, confirm_window=4))
    lonely.update(_walk(det, 0))
    lonely.update(_walk(det, 1))
    lonely.update([det(2, 5000.0, 5002.0)])
    out = lonely.update([det(3, 5000.0, 5003.0)])  # 2 hits in 4 opportunities: deleted
    gone = [s for s in out if abs(s.y) < 100]
    assert [s.status for s in gone] == [TrackStatus.DELETED]


def test_a_missed_confirmed_track_coasts_then_is_deleted_after_max_missed(
    det: MakeDetection,
) -> None:
    tracker = Tracker(_config(max_missed=3, established_hits=3))
    for t in range(3):
        tracker.update(_walk(det, t))
    reported = []
    for t in range(3, 6):
        out = tracker.update([det(t, 5000.0, 5000.0 + t)])
        reported += [s for s in out if abs(s.y) < 100]
    # Only changes are reported: coasting once, then the deletion after the third miss.
    assert [s.status for s in reported] == [TrackStatus.COASTING, TrackStatus.DELETED]
    assert [s.misses for s in reported] == [1, 3]
    assert all(abs(s.y) > 100 for s in tracker.tracks())


def test_a_young_track_is_deleted_after_fewer_misses(det: MakeDetection) -> None:
    tracker = Tracker(_config(max_missed=5, young_max_missed=2, established_hits=4))
    for t in range(3):
        tracker.update(_walk(det, t))  # 3 hits: still young
    out = [s for t in (3, 4) for s in tracker.update([det(t, 5000.0, 5000.0 + t)])]
    walker = [s for s in out if abs(s.y) < 100]
    assert [s.status for s in walker] == [TrackStatus.COASTING, TrackStatus.DELETED]


def test_coasting_track_recovers_on_a_hit(det: MakeDetection) -> None:
    tracker = Tracker(_config())
    for t in range(3):
        tracker.update(_walk(det, t))
    tracker.update([det(3, 5000.0, 5003.0)])
    out = tracker.update(_walk(det, 4))
    walker = next(s for s in out if abs(s.y) < 100)
    assert walker.status is TrackStatus.CONFIRMED
    assert walker.x == pytest.approx(4.0, abs=1.0)


def test_a_track_no_scan_touches_is_deleted_by_age(det: MakeDetection) -> None:
    tracker = Tracker(_config(max_coast_s=10.0))
    for t in range(3):
        tracker.update([det(t, 1.0 * t, 0.0)])
    assert tracker.advance(T0 + timedelta(seconds=9)) == []
    out = tracker.advance(T0 + timedelta(seconds=13))
    assert [s.status for s in out] == [TrackStatus.DELETED]
    assert tracker.tracks() == []


def test_a_track_whose_position_grows_too_uncertain_is_deleted(det: MakeDetection) -> None:
    # Vehicle noise 1 m²/s³: position variance grows ~ t³/3; sd 30 m is passed within 20 s.
    config = _config(max_position_sd_m=30.0, max_coast_s=1000.0)
    tracker = Tracker(config)
    for t in range(3):
        tracker.update([det(t, 10.0 * t, 0.0)])
    assert tracker.advance(T0 + timedelta(seconds=3)) == []
    out = tracker.advance(T0 + timedelta(seconds=40))
    assert [s.status for s in out] == [TrackStatus.DELETED]
    assert out[0].position_sd > 30.0


def test_a_second_sensor_that_never_saw_a_track_does_not_count_misses(
    det: MakeDetection,
) -> None:
    tracker = Tracker(_config(max_missed=2))
    for t in range(3):
        tracker.update([det(t, 1.0 * t, 0.0, sensor="a")])
        tracker.update([det(t + 0.5, 9000.0, 0.0, sensor="b")])  # b sees only something else
    walker = next(s for s in tracker.tracks() if abs(s.x) < 100)
    assert walker.status is TrackStatus.CONFIRMED
    assert walker.misses == 0
    assert walker.sensors == ("a",)

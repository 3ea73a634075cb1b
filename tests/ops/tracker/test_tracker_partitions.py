"""Sector partitions: independent trackers, unique ids, no hand-over at the boundary."""

from __future__ import annotations

from datetime import timedelta

from tracker_support import T0, MakeDetection

from limes.ops.tracker import PartitionedTracker, TrackerConfig, TrackStatus


def _sector(x: float, y: float) -> str:
    return "west" if x < 0 else "east"


def test_each_sector_tracks_its_own_targets_with_unique_ids(det: MakeDetection) -> None:
    tracker = PartitionedTracker(_sector, TrackerConfig(reorder_window_s=0.0))
    for t in range(5):
        tracker.update([det(t, -500.0 + t, 0.0), det(t, 500.0 - t, 0.0)])
    states = tracker.tracks()
    assert sorted(s.track_id for s in states) == ["east-1", "west-1"]
    assert set(tracker.partitions) == {"west", "east"}
    assert all(s.status is TrackStatus.CONFIRMED for s in states)


def test_a_target_crossing_the_boundary_starts_a_new_track_and_the_old_one_dies(
    det: MakeDetection,
) -> None:
    config = TrackerConfig(reorder_window_s=0.0, max_coast_s=4.0)
    tracker = PartitionedTracker(_sector, config)
    for t in range(20):  # from x = -10 to x = +9 at 1 m/s, plus a far target keeping time
        tracker.update([det(t, -10.0 + t, 0.0), det(t, 900.0, 900.0 + t)])
    ids = {s.track_id for s in tracker.tracks() if abs(s.y) < 100}
    assert ids == {"east-2"}  # east-1 is the far target; the west track has been deleted


def test_a_quiet_sector_moves_on_with_the_shared_clock(det: MakeDetection) -> None:
    tracker = PartitionedTracker(_sector, TrackerConfig(reorder_window_s=0.0, max_coast_s=5.0))
    for t in range(3):
        tracker.update([det(t, -100.0 + t, 0.0)])
    assert [s.track_id for s in tracker.tracks()] == ["west-1"]
    out = tracker.update([det(10, 300.0, 0.0)])  # only the east sector hears anything
    assert ("west-1", TrackStatus.DELETED) in {(s.track_id, s.status) for s in out}
    assert tracker.advance(T0 + timedelta(seconds=11)) == []

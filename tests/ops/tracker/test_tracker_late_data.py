"""Out-of-sequence detections: reordered inside the window, rejected (and reported) beyond it."""

from __future__ import annotations

import random
from datetime import timedelta

from tracker_support import T0, MakeDetection

from limes.ops.tracker import Tracker, TrackerConfig
from limes.ops.tracker.synthetic import SyntheticScenario, SyntheticSensor, generate


def _final(tracker: Tracker) -> list[tuple[float, float, float, float, int]]:
    return sorted(
        (round(s.x, 6), round(s.y, 6), round(s.vx, 6), round(s.vy, 6), s.hits)
        for s in tracker.tracks()
    )


def test_shuffling_inside_the_window_gives_the_in_order_result() -> None:
    sensors = (SyntheticSensor("a"), SyntheticSensor("b", time_offset_s=0.5))
    run = generate(SyntheticScenario(n_walkers=3, n_vehicles=3, duration_s=20, sensors=sensors), 5)
    config = TrackerConfig(reorder_window_s=3.0)
    in_order = Tracker(config)
    for scan in run.scans():
        in_order.update(scan)
    in_order.flush()

    # Deliver in chunks of 2 s of detections, each chunk shuffled: at most 2 s out of order.
    shuffled = Tracker(config)
    rng = random.Random(1)
    chunks: dict[int, list] = {}
    for d in run.detections:
        chunks.setdefault(int((d.time - T0 - timedelta(hours=0)).total_seconds() // 2), []).append(
            d
        )
    for key in sorted(chunks):
        chunk = chunks[key]
        rng.shuffle(chunk)
        for d in chunk:
            shuffled.update([d])
    shuffled.flush()
    assert shuffled.take_rejected() == []
    assert _final(shuffled) == _final(in_order)


def test_detections_wait_for_the_window_and_advance_releases_them(det: MakeDetection) -> None:
    tracker = Tracker(TrackerConfig(reorder_window_s=2.0))
    assert tracker.update([det(0, 0.0, 0.0)]) == []
    assert tracker.pending == 1
    assert tracker.update([det(1, 1.0, 0.0)]) == []
    out = tracker.update([det(2, 2.0, 0.0)])  # watermark 0: the first is released
    assert len(out) == 1 and out[0].hits == 1
    out = tracker.advance(T0 + timedelta(seconds=4))
    assert [s.hits for s in out] == [2, 3]
    assert tracker.pending == 0


def test_too_late_detections_are_rejected_and_reported(det: MakeDetection) -> None:
    tracker = Tracker(TrackerConfig(reorder_window_s=1.0))
    for t in range(10):
        tracker.update([det(t, 1.0 * t, 0.0)])
    late = det(3.5, 3.5, 0.0)
    assert tracker.update([late]) == []
    rejected = tracker.take_rejected()
    assert [r.detection for r in rejected] == [late]
    assert "too late" in rejected[0].reason
    assert tracker.take_rejected() == []


def test_invalid_detections_are_rejected_with_the_reason(det: MakeDetection) -> None:
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0))
    bad = det(0, float("nan"), 0.0)
    flat = det(0, 1.0, 0.0, var=0.0)
    good = det(0, 10.0, 0.0)
    out = tracker.update([bad, flat, good])
    assert len(out) == 1
    reasons = {r.detection.key: r.reason for r in tracker.take_rejected()}
    assert set(reasons) == {bad.key, flat.key}
    assert all("invalid" in r for r in reasons.values())

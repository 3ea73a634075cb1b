"""Class fusion (Bayes through the confusion model), group size and the sensors of a track."""

from __future__ import annotations

import numpy as np
from tracker_support import MakeDetection

from limes.ops.detection import TargetClass
from limes.ops.tracker import Tracker, TrackerConfig

P, V, A, U = TargetClass.PERSON, TargetClass.VEHICLE, TargetClass.ANIMAL, TargetClass.UNKNOWN
CONFUSION = {
    P: {P: 0.7, V: 0.1, A: 0.1, U: 0.1},
    V: {P: 0.1, V: 0.7, A: 0.1, U: 0.1},
    A: {P: 0.3, V: 0.1, A: 0.5, U: 0.1},
}


def _track(det: MakeDetection, reports: list[tuple[TargetClass, float]], **kw: object) -> object:
    config = TrackerConfig(reorder_window_s=0.0, confusion=CONFUSION, class_mixing=0.0, **kw)  # type: ignore[arg-type]
    tracker = Tracker(config)
    for t, (cls, conf) in enumerate(reports):
        tracker.update([det(t, 0.5 * t, 0.0, cls=cls, confidence=conf)])
    (state,) = tracker.tracks()
    return state


def test_confident_reports_multiply_the_confusion_columns(det: MakeDetection) -> None:
    state = _track(det, [(P, 1.0), (P, 1.0), (A, 1.0)])
    # Uniform prior × P(person|h)² × P(animal|h), h in (person, vehicle, animal).
    raw = np.array([0.7 * 0.7 * 0.1, 0.1 * 0.1 * 0.1, 0.3 * 0.3 * 0.5])
    expected = raw / raw.sum()
    got = [state.class_probabilities[c.value] for c in (P, V, A)]  # type: ignore[attr-defined]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert state.target_class is P  # type: ignore[attr-defined]


def test_confidence_blends_the_declaration_with_no_information(det: MakeDetection) -> None:
    state = _track(det, [(V, 0.5)])
    # Likelihood = 0.5·P(vehicle|h) + 0.5·(1/4 declarable classes).
    raw = 0.5 * np.array([0.1, 0.7, 0.1]) + 0.5 * 0.25
    got = [state.class_probabilities[c.value] for c in (P, V, A)]  # type: ignore[attr-defined]
    np.testing.assert_allclose(got, raw / raw.sum(), rtol=1e-12)


def test_unknown_or_unconfident_reports_leave_the_class_unknown(det: MakeDetection) -> None:
    for reports in ([(U, 1.0)] * 3, [(P, 0.0)] * 3):
        state = _track(det, reports)
        got = [state.class_probabilities[c.value] for c in (P, V, A)]  # type: ignore[attr-defined]
        np.testing.assert_allclose(got, [1 / 3] * 3)
        assert state.target_class is U  # type: ignore[attr-defined]


def test_mixing_lets_a_track_change_class(det: MakeDetection) -> None:
    config = TrackerConfig(reorder_window_s=0.0, class_mixing=0.2)
    tracker = Tracker(config)
    for t in range(20):
        cls = P if t < 5 else V
        tracker.update([det(t, 0.5 * t, 0.0, cls=cls, confidence=0.9)])
    (state,) = tracker.tracks()
    assert state.target_class is V


def test_group_size_is_a_running_blend_of_reports(det: MakeDetection) -> None:
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0, group_size_smoothing=0.5))
    tracker.update([det(0, 0.0, 0.0, group=3)])
    tracker.update([det(1, 1.0, 0.0)])  # no report: estimate kept
    assert tracker.tracks()[0].group_size == 3
    tracker.update([det(2, 2.0, 0.0, group=6)])
    # 0.5·3 + 0.5·6 = 4.5, reported rounded (banker's rounding gives 4).
    assert tracker.tracks()[0].group_size == round(4.5)


def test_two_sensors_on_one_target_make_one_track_seen_by_both(det: MakeDetection) -> None:
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0))
    rng = np.random.default_rng(3)
    for t in range(10):
        for sensor, offset in (("radar", 0.0), ("camera", 0.5)):
            tt = t + offset
            x, y = 1.2 * tt + rng.normal(0, 2), 0.8 * tt + rng.normal(0, 2)
            tracker.update([det(tt, x, y, sensor=sensor, cls=P, confidence=0.8)])
    (state,) = tracker.tracks()
    assert set(state.sensors) == {"radar", "camera"}
    assert state.hits == 20
    # Within three standard deviations the filter itself reports.
    assert abs(state.vx - 1.2) < 3 * state.covariance[10] ** 0.5
    assert abs(state.vy - 0.8) < 3 * state.covariance[15] ** 0.5
    assert state.target_class is P
    assert state.last_detection == ("camera", 10)

"""Track existence by Blackman's score: hand-computed scores, Wald's thresholds, sensor laws."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from tracker_support import T0

from limes.ops.detection import Detection
from limes.ops.tracker import Tracker, TrackerConfig, TrackStatus
from limes.ops.tracker.config import SensorLaw
from limes.ops.tracker.existence import position_log_likelihood
from limes.ops.tracker.settings import SettingsError, load_settings
from limes.ops.tracker.synthetic import SyntheticScenario, SyntheticSensor, generate


def _det(sensor: str, seq: int, t: float, x: float, y: float, sd: float = 5.0) -> Detection:
    return Detection(sensor, seq, T0 + timedelta(seconds=t), 0.0, 0.0, x, y, sd**2, 0.0, sd**2)


def test_position_likelihood_is_the_gaussian_density_of_the_innovation() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 10, (5, 4))
    a = rng.normal(0, 3, (5, 4, 4))
    p = a @ a.transpose(0, 2, 1) + np.eye(4)
    z = rng.normal(0, 10, (5, 2))
    r = np.column_stack([np.full(5, 9.0), np.full(5, 1.0), np.full(5, 16.0)])
    got = position_log_likelihood(x, p, z, r)
    for i in range(5):
        s = p[i, :2, :2] + np.array([[r[i, 0], r[i, 1]], [r[i, 1], r[i, 2]]])
        assert got[i] == pytest.approx(multivariate_normal(x[i, :2], s).logpdf(z[i]), rel=1e-9)


def test_wald_thresholds() -> None:
    cfg = TrackerConfig(false_track_probability=1e-3, missed_track_probability=0.1)
    assert cfg.confirm_score == pytest.approx(math.log(0.9 / 1e-3))
    assert cfg.reject_score == pytest.approx(math.log(0.1 / (1 - 1e-3)))


def test_a_scanning_sensor_confirms_a_steady_target_and_rejects_lone_clutter() -> None:
    law = SensorLaw(p_detect=0.9, clutter_per_m2=1e-6)
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0, sensors={"r": law}))
    statuses = []
    for k in range(4):
        # One walker along x; one clutter report far off at the first scan only.
        scan = [_det("r", 2 * k + 1, k, 1.0 * k, 0.0)]
        if k == 0:
            scan.append(_det("r", 2, 0, 5000.0, 5000.0))
        tracker.update(scan)
        statuses.append({s.track_id: s.status for s in tracker.tracks()})
    walker = next(iter(statuses[0]))
    assert statuses[-1][walker] is TrackStatus.CONFIRMED
    # The lone report: two misses at Pd 0.9 cost 2 log 0.1 < log(β/(1 − α)): deleted.
    assert len(statuses[-1]) == 1


def test_the_score_after_two_hits_is_the_sum_of_the_hand_computed_terms() -> None:
    law = SensorLaw(p_detect=0.8, clutter_per_m2=1e-5)
    cfg = TrackerConfig(reorder_window_s=0.0, sensors={"r": law})
    tracker = Tracker(cfg)
    tracker.update([_det("r", 1, 0.0, 0.0, 0.0)])
    table = tracker._table
    slot = int(table.active()[0])
    x_pred, p_pred = tracker.predictor.predict(table, np.array([slot]), T0.timestamp() + 1.0)
    expected = (
        cfg.birth_score
        + math.log(0.8 / 1e-5)
        + float(
            position_log_likelihood(
                x_pred, p_pred, np.array([[1.0, 0.5]]), np.array([[25.0, 0, 25.0]])
            )[0]
        )
    )
    tracker.update([_det("r", 2, 1.0, 1.0, 0.5)])
    assert table.score[slot] == pytest.approx(expected, rel=1e-9)


def test_declared_confidence_adds_its_log_odds_at_birth_and_with_each_hit() -> None:
    law = SensorLaw(p_detect=0.8, clutter_per_m2=1e-5)
    scores = {}
    for conf in (1.0, 0.9, 0.3):  # 1.0: what a report without a confidence is given
        tracker = Tracker(TrackerConfig(reorder_window_s=0.0, sensors={"r": law}))
        tracker.update([replace(_det("r", 1, 0.0, 0.0, 0.0), confidence=conf)])
        tracker.update([replace(_det("r", 2, 1.0, 1.0, 0.5), confidence=conf)])
        scores[conf] = float(tracker._table.score[tracker._table.active()[0]])
    assert scores[0.9] - scores[1.0] == pytest.approx(2 * math.log(0.9 / 0.1), rel=1e-9)
    assert scores[0.3] - scores[1.0] == pytest.approx(2 * math.log(0.3 / 0.7), rel=1e-9)


def test_an_event_sensor_keeps_a_track_through_long_silences_and_lets_it_fade() -> None:
    # A camera that sees a walker about once a minute, with rare false reports: three reports
    # a minute apart confirm a track, and after silence worth many expected reports it goes.
    cam = SensorLaw(hazard_per_s=1 / 60, clutter_per_m2=1e-11)
    quiet = {c: 0.001 for c in TrackerConfig().process_noise}  # steady walkers
    cfg = TrackerConfig(reorder_window_s=0.0, sensors={"cam": cam}, process_noise=quiet)
    tracker = Tracker(cfg)
    for k in range(3):
        tracker.update([_det("cam", k + 1, 60.0 * k, 1.2 * 60 * k, 0.0, sd=20.0)])
    (state,) = tracker.tracks()
    assert state.status is TrackStatus.CONFIRMED
    # Silence of 4 expected reports costs 4 < delete_drop: kept; 10 costs 10: deleted.
    assert tracker.advance(T0 + timedelta(seconds=120 + 240)) == []
    gone = tracker.advance(T0 + timedelta(seconds=120 + 600))
    assert [s.status for s in gone] == [TrackStatus.DELETED]


def test_score_beats_two_of_three_in_dense_clutter() -> None:
    # Pd 0.7 and 40 false reports per scan: 2-of-3 lets clutter confirm, the score does not.
    sensor = SyntheticSensor("r", 5.0, p_detect=0.7, clutter_per_scan=40.0)
    sc = SyntheticScenario(n_walkers=3, n_vehicles=3, duration_s=30, sensors=(sensor,))
    run = generate(sc, 11)
    law = SensorLaw(p_detect=0.7, clutter_per_m2=40.0 / sc.area_m**2)
    confirmed = {}
    for existence in ("score", "m_of_n"):
        tracker = Tracker(
            TrackerConfig(reorder_window_s=0.0, existence=existence, sensors={"r": law})
        )
        ids = set()
        for scan in run.scans():
            ids |= {s.track_id for s in tracker.update(scan) if s.status is TrackStatus.CONFIRMED}
        confirmed[existence] = len(ids)
    assert confirmed["score"] < confirmed["m_of_n"]
    assert confirmed["score"] >= 6


def test_settings_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.yaml"
    path.write_text(
        "existence: score\ndelete_drop: 5\n"
        "process_noise: {person: 0.01, vehicle: 0.1, animal: 0.05}\n"
        "sensors:\n  cam: {hazard_per_s: 0.01, clutter_per_m2: 1.0e-11}\n",
        encoding="utf-8",
    )
    cfg = load_settings(path)
    assert cfg.delete_drop == 5 and cfg.sensor_law("cam").event
    assert cfg.sensor_law("other") == cfg.default_sensor
    path.write_text("sensors:\n  cam: {p_detect: 1.5}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"sensors\.cam.*p_detect"):
        load_settings(path)
    path.write_text("confirm_hitz: 3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown keys"):
        load_settings(path)


def test_settings_numbers_as_json_and_yaml_write_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # JSON writes 1e-05 without a dot, which YAML 1.1 reads as text; YAML users write 1e-5.
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps({"sensors": {"radar-1": {"p_detect": 0.7, "clutter_per_m2": 1e-05}}})
    )
    assert load_settings(path).sensor_law("radar-1").clutter_per_m2 == 1e-05
    path = tmp_path / "s.yaml"
    path.write_text("sensors:\n  radar-1: {p_detect: 0.7, clutter_per_m2: 1e-5}\n")
    assert load_settings(path).sensor_law("radar-1").clutter_per_m2 == 1e-05
    path.write_text("sensors:\n  radar-1: {p_detect: lots}\n")
    with pytest.raises(
        SettingsError, match=r"sensors\.radar-1\.p_detect: expected a number, got 'lots'"
    ):
        load_settings(path)

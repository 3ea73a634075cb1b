"""The tracker on generated scenarios: GOSPA stays under a bound that a broken tracker exceeds."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from tracking_metrics import mean_gospa

from limes.ops.tracker import Tracker, TrackerConfig, TrackStatus
from limes.ops.tracker.synthetic import SyntheticScenario, SyntheticSensor, generate

C = 50.0
# Mean GOSPA per true target (c = 50 m, p = 1). Missing a target costs c/2 = 25 per scan; a
# working tracker scores 5–9 on these scenarios (5 m detection noise, P_d 0.9, clutter).
BOUND = 12.0

TWO_SENSORS = (
    SyntheticSensor("radar", clutter_per_scan=3.0),
    SyntheticSensor(
        "camera", position_sd_m=8.0, p_detect=0.8, clutter_per_scan=3.0, time_offset_s=0.5
    ),
)
SCENARIOS = {
    "walkers": SyntheticScenario(n_walkers=6, n_vehicles=0, duration_s=40),
    "vehicles": SyntheticScenario(n_walkers=0, n_vehicles=6, duration_s=40),
    "crossing": SyntheticScenario(n_walkers=4, n_vehicles=4, layout="crossing", duration_s=40),
    "parallel": SyntheticScenario(n_walkers=6, n_vehicles=0, layout="parallel", duration_s=40),
    "two sensors": SyntheticScenario(n_walkers=3, n_vehicles=3, duration_s=40, sensors=TWO_SENSORS),
    "missed and clutter": SyntheticScenario(
        n_walkers=3,
        n_vehicles=3,
        duration_s=40,
        sensors=(SyntheticSensor("radar", p_detect=0.75, clutter_per_scan=8.0),),
    ),
}


def gospa_per_target(scenario: SyntheticScenario, config: TrackerConfig, seed: int) -> float:
    run = generate(scenario, seed)
    tracker = Tracker(config)
    estimates = []
    for when, scan in zip(run.times.tolist(), run.scans(), strict=True):
        tracker.update(scan)
        live = tracker.tracks(datetime.fromtimestamp(when, UTC))
        points = [[s.x, s.y] for s in live if s.status is not TrackStatus.TENTATIVE]
        estimates.append(np.array(points).reshape(-1, 2))
    g = mean_gospa(list(run.truth[:, :, :2]), estimates, c=C)
    return g.distance / run.truth.shape[1]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_gospa_stays_under_the_bound(name: str) -> None:
    score = gospa_per_target(SCENARIOS[name], TrackerConfig(reorder_window_s=0.0), seed=1)
    assert score < BOUND


@pytest.mark.parametrize("name", ["walkers", "crossing", "two sensors"])
def test_a_tracker_without_association_exceeds_the_bound(name: str) -> None:
    # A gate of probability 1e-9 admits no detection: every detection starts a new track.
    broken = TrackerConfig(reorder_window_s=0.0, gate_probability=1e-9)
    assert gospa_per_target(SCENARIOS[name], broken, seed=1) > BOUND


def test_a_tracker_with_no_motion_noise_exceeds_the_bound() -> None:
    # Process noise 0 with a tiny velocity prior: vehicles leave their gates and are lost.
    still = {c: 0.0 for c in TrackerConfig().process_noise}
    slow = {c: 0.01 for c in TrackerConfig().initial_speed_sd}
    broken = TrackerConfig(reorder_window_s=0.0, process_noise=still, initial_speed_sd=slow)
    assert gospa_per_target(SCENARIOS["vehicles"], broken, seed=1) > BOUND


def test_two_sensors_on_the_same_targets_do_not_double_the_tracks() -> None:
    run = generate(SCENARIOS["two sensors"], 2)
    tracker = Tracker(TrackerConfig(reorder_window_s=0.0))
    for scan in run.scans():
        tracker.update(scan)
    confirmed = [s for s in tracker.tracks() if s.status is TrackStatus.CONFIRMED]
    both = [s for s in confirmed if set(s.sensors) == {"radar", "camera"}]
    assert len(both) >= run.truth.shape[1] - 1
    assert len(confirmed) <= run.truth.shape[1] + 2

"""limes' tracker against Stone Soup's GNN tracker on the same seeded detections.

For 10, 50 and 200 targets (half walkers, half vehicles, random headings, uniform clutter;
the area grows with the target count so that target and clutter densities stay the same),
both trackers get the same detections scan by scan. Printed per size: detections per second
(CPU time of this process spent inside the trackers, so that other work on the machine does
not skew the ratio; scoring excluded; both warmed up first), mean GOSPA over scans (c = 50 m,
p = 1, α = 2, on confirmed tracks at each scan time, scored by `limes.ops.tracking_metrics`),
the number of tracks at the end and of confirmed tracks ever, and the throughput ratio.
The last line is one JSON object with all figures.

    python benchmarks/tracking.py [--quick] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limes.ops.tracker import Tracker, TrackerConfig, TrackStatus
from limes.ops.tracker.synthetic import SyntheticRun, SyntheticScenario, SyntheticSensor, generate
from limes.ops.tracking_metrics import mean_gospa

GOSPA_C = 50.0
GOSPA_P = 1.0
POSITION_SD = 5.0
# Stone Soup has one motion model for all targets: its noise sits between walker and vehicle.
STONESOUP_Q = 0.5
STONESOUP_SPEED_SD = 10.0
GATE = 0.999


@dataclass
class Result:
    seconds: float
    detections: int
    gospa: float
    localisation: float
    missed: float
    false: float
    tracks_end: int
    tracks_confirmed: int

    @property
    def rate(self) -> float:
        return self.detections / self.seconds

    def figures(self) -> dict[str, float]:
        return {
            "detections_per_s": round(self.rate, 1),
            "gospa": round(self.gospa, 3),
            "gospa_localisation": round(self.localisation, 3),
            "gospa_missed": round(self.missed, 3),
            "gospa_false": round(self.false, 3),
            "tracks_end": self.tracks_end,
            "tracks_confirmed": self.tracks_confirmed,
        }


def scenario(n_targets: int, duration_s: float) -> SyntheticScenario:
    scale = math.sqrt(n_targets / 10)
    sensor = SyntheticSensor(
        "radar-1", position_sd_m=POSITION_SD, p_detect=0.9, clutter_per_scan=5.0 * scale**2
    )
    return SyntheticScenario(
        n_walkers=n_targets // 2,
        n_vehicles=n_targets - n_targets // 2,
        area_m=2000.0 * scale,
        duration_s=duration_s,
        sensors=(sensor,),
    )


def score(run: SyntheticRun, estimates: list[NDArray[np.float64]]) -> Any:
    return mean_gospa(list(run.truth[:, :, :2]), estimates, c=GOSPA_C, p=GOSPA_P)


def run_limes(run: SyntheticRun) -> Result:
    # No reorder lag here: the anchor processes each scan as it comes, so do we.
    config = TrackerConfig(reorder_window_s=0.0, gate_probability=GATE)
    tracker = Tracker(config)
    estimates = []
    confirmed: set[str] = set()
    elapsed = 0.0
    for when, scan in zip(run.datetimes(), run.scans(), strict=True):
        start = time.process_time()
        tracker.update(scan)
        elapsed += time.process_time() - start
        live = [s for s in tracker.tracks(when) if s.status is not TrackStatus.TENTATIVE]
        confirmed.update(s.track_id for s in live)
        estimates.append(np.array([[s.x, s.y] for s in live]).reshape(-1, 2))
    g = score(run, estimates)
    return Result(
        elapsed, len(run.detections), g.distance, g.localisation, g.missed, g.false,
        len(estimates[-1]), len(confirmed),
    )  # fmt: skip


def run_stonesoup(run: SyntheticRun) -> Result:
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.detection import Detection as SSDetection
    from stonesoup.types.state import GaussianState, StateVector
    from stonesoup.updater.kalman import KalmanUpdater

    transition = CombinedLinearGaussianTransitionModel(
        [ConstantVelocity(STONESOUP_Q), ConstantVelocity(STONESOUP_Q)]
    )
    measurement = LinearGaussian(
        ndim_state=4, mapping=(0, 2), noise_covar=np.diag([POSITION_SD**2] * 2)
    )
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(measurement)
    gate = math.sqrt(TrackerConfig(gate_probability=GATE).gate_threshold)

    def associator() -> GNNWith2DAssignment:
        hypothesiser = DistanceHypothesiser(
            predictor, updater, measure=Mahalanobis(), missed_distance=gate
        )
        return GNNWith2DAssignment(hypothesiser)

    speed_var = STONESOUP_SPEED_SD**2
    initiator = MultiMeasurementInitiator(
        prior_state=GaussianState(StateVector([0, 0, 0, 0]), np.diag([0, speed_var, 0, speed_var])),
        measurement_model=measurement,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=2),
        data_associator=associator(),
        updater=updater,
        min_points=2,
    )
    feed = []
    for when, scan in zip(run.datetimes(), run.scans(), strict=True):
        dets = {
            SSDetection(StateVector([d.x, d.y]), timestamp=when, measurement_model=measurement)
            for d in scan
        }
        feed.append((when, dets))
    tracker = MultiTargetTracker(
        initiator=initiator,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=5),
        detector=feed,
        data_associator=associator(),
        updater=updater,
    )
    estimates = []
    confirmed: set[int] = set()
    elapsed = 0.0
    iterator = iter(tracker)
    for _ in feed:
        start = time.process_time()
        _, tracks = next(iterator)
        elapsed += time.process_time() - start
        confirmed.update(id(t) for t in tracks)
        estimates.append(np.array([[t.state_vector[0], t.state_vector[2]] for t in tracks]))
    estimates = [e.reshape(-1, 2).astype(float) for e in estimates]
    g = score(run, estimates)
    return Result(
        elapsed, len(run.detections), g.distance, g.localisation, g.missed, g.false,
        len(estimates[-1]), len(confirmed),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (under a minute)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    durations = {10: 20.0, 50: 12.0, 200: 6.0} if args.quick else {10: 120.0, 50: 60.0, 200: 30.0}
    figures: dict[str, Any] = {"quick": args.quick, "seed": args.seed, "sizes": {}}
    print(f"{'targets':>7} {'tracker':>10} {'det/s':>10} {'GOSPA':>8} {'loc':>8} "
          f"{'missed':>8} {'false':>8} {'tracks':>7} {'confirmed':>9}")  # fmt: skip
    # Warm both up (numba's compiled kernels load, Stone Soup's lazy imports run) untimed.
    warm = generate(scenario(10, 5.0), seed=args.seed)
    run_limes(warm)
    run_stonesoup(warm)
    for n, duration in durations.items():
        run = generate(scenario(n, duration), seed=args.seed + n)
        ours = run_limes(run)
        theirs = run_stonesoup(run)
        for name, r in (("limes", ours), ("stonesoup", theirs)):
            print(
                f"{n:>7} {name:>10} {r.rate:>10.0f} {r.gospa:>8.2f} {r.localisation:>8.2f} "
                f"{r.missed:>8.2f} {r.false:>8.2f} {r.tracks_end:>7} {r.tracks_confirmed:>9}"
            )
        ratio = ours.rate / theirs.rate
        print(f"{n:>7} {'ratio':>10} {ratio:>10.1f}x  GOSPA limes/stonesoup "
              f"{ours.gospa / theirs.gospa:.3f}")  # fmt: skip
        figures["sizes"][str(n)] = {
            "targets": n,
            "scans": len(run.times),
            "detections": len(run.detections),
            "limes": ours.figures(),
            "stonesoup": theirs.figures(),
            "throughput_ratio": round(ratio, 2),
            "gospa_ratio": round(ours.gospa / theirs.gospa, 4),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

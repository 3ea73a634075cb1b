"""limes' tracker against Stone Soup's GNN and JPDA trackers at their best usual settings.

Scenarios (all seeded, made by `limes.ops.tracker.synthetic`):

- `sizes`: 10, 50 and 200 targets (half walkers, half vehicles, random headings, uniform
  clutter; the area grows with the target count so densities stay the same), one 5 m sensor.
- `scenarios.manoeuvre_crossing`: pairs of walkers and vehicles whose paths cross mid-run,
  each turning sharply twice, Pd 0.7, dense clutter (40 false reports per scan over 4 km²).
- `scenarios.births_mixed_two_sensors`: walkers and vehicles each alive for half the run
  (born and dying at random times), seen by a 5 m sensor every second and a 40 m sensor
  every 2 s (Pd 0.9 / 0.8).
- `scenarios.parallel_columns`: a column of walkers abreast 30 m apart, Pd 0.8.

The anchor is Stone Soup as its users configure it (`support/stonesoup_anchor.py`): Kalman
filter with a nearly-constant-velocity model whose noise is matched to the truth (the fastest
class's acceleration noise; on manoeuvring targets, also ten times that, the better of the two
kept), each detection with its own sensor's measurement noise, a `MultiMeasurementInitiator`
confirming on 3 hits, tracks deleted after 5 scans without an update; associated either by
GNN (Mahalanobis hypothesiser, 2-D assignment) or by JPDA (`PDAHypothesiser` with each
sensor's detection probability and clutter density, the same gate probability, the GNN's
kept noise). Stone Soup's `JPDA` enumerates every joint hypothesis of all tracks, so its cost
explodes with tracks and clutter; its `JPDAwithEHM` computes the same association
probabilities exactly by Efficient Hypothesis Management, and is run too. Each runs in its own
process with `--jpda-cpu-s` CPU seconds per scenario (15 quick, 600 full) or three times the
GNN's tracking time on it, whichever is more; where one does not finish, the figures say "not
run in time", how far it got and why. The best Stone Soup configuration per scenario is the
best GOSPA of the three (of equal GOSPA, the faster).
limes runs with the scenario's sensor laws (each sensor's detection probability and clutter
density, as a live deployment reads them from its scenario), the same truth-matched noise per
class (walkers' and vehicles' own), and otherwise its default settings.

Accuracy: mean over scan times of GOSPA (cut-off c = 50 m, p = 1, α = 2) between the
targets alive and the confirmed tracks at that time, by tests/ops/tracker/tracking_metrics.py.
This is the one cut-off used for tracking figures in this project.

Speed: detections per second of CPU time spent inside each tracker (scoring excluded, all
warmed up first), and the whole `limes track` process (start-up, reading the JSON-lines
file, tracking, writing confirmed tracks) in CPU time (`process_ratio`; on its wall clock,
which on a shared machine also counts other work's turns, `process_ratio_wall`), against
Stone Soup's GNN tracker-only CPU time (which flatters the anchor: no start-up, no file). The
last line is one JSON object with all figures: per
scenario `stonesoup` and the ratios `throughput_ratio`, `gospa_ratio` and `process_ratio` are
against the GNN (as before JPDA was added); `stonesoup_jpda` and `stonesoup_jpda_ehm` hold
JPDA's figures or why it did not run (with `gospa_ratio_*` and `throughput_ratio_*` where it
ran), `stonesoup_best` names the best anchor and `gospa_ratio_best` / `throughput_ratio_best`
are limes against it.

    python benchmarks/tracking.py [--quick] [--seed N] [--jpda-cpu-s S]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limes.ops.detection import TargetClass
from limes.ops.tracker import Tracker, TrackerConfig, TrackStatus
from limes.ops.tracker.config import SensorLaw
from limes.ops.tracker.synthetic import SyntheticRun, SyntheticScenario, SyntheticSensor, generate
from limes.ops.tracker.tracker import warm_up as tracker_warm_up

# The metric lives with the tests that check it against Stone Soup's.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ops" / "tracker"))
from tracking_metrics import mean_gospa

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
from stonesoup_anchor import AnchorRun, NotInTime, run_gnn, within_budget

GOSPA_C = 50.0
GOSPA_P = 1.0
GATE = 0.999
ROOT = Path(__file__).resolve().parent.parent


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
    note: str = ""

    @property
    def rate(self) -> float:
        return self.detections / max(self.seconds, 1e-9)

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "detections_per_s": round(self.rate, 1),
            "gospa": round(self.gospa, 3),
            "gospa_localisation": round(self.localisation, 3),
            "gospa_missed": round(self.missed, 3),
            "gospa_false": round(self.false, 3),
            "tracks_end": self.tracks_end,
            "tracks_confirmed": self.tracks_confirmed,
        }
        if self.note:
            out["configuration"] = self.note
        return out


def sized(n_targets: int, duration_s: float) -> SyntheticScenario:
    scale = math.sqrt(n_targets / 10)
    sensor = SyntheticSensor(
        "radar-1", position_sd_m=5.0, p_detect=0.9, clutter_per_scan=5.0 * scale**2
    )
    return SyntheticScenario(
        n_walkers=n_targets // 2,
        n_vehicles=n_targets - n_targets // 2,
        area_m=2000.0 * scale,
        duration_s=duration_s,
        sensors=(sensor,),
    )


def others(duration_s: float) -> dict[str, SyntheticScenario]:
    return {
        "manoeuvre_crossing": SyntheticScenario(
            n_walkers=10, n_vehicles=10, layout="crossing", turns=2, duration_s=duration_s,
            sensors=(SyntheticSensor("radar-1", 5.0, p_detect=0.7, clutter_per_scan=40.0),),
        ),
        "births_mixed_two_sensors": SyntheticScenario(
            n_walkers=15, n_vehicles=15, lifetime_fraction=0.5, duration_s=duration_s,
            sensors=(
                SyntheticSensor("radar-1", 5.0, p_detect=0.9, clutter_per_scan=5.0),
                SyntheticSensor(
                    "camera-1", 40.0, p_detect=0.8, clutter_per_scan=3.0, scan_period_s=2.0,
                    time_offset_s=0.5,
                ),
            ),
        ),
        "parallel_columns": SyntheticScenario(
            n_walkers=8, n_vehicles=0, layout="parallel", duration_s=duration_s,
            sensors=(SyntheticSensor("radar-1", 5.0, p_detect=0.8, clutter_per_scan=10.0),),
        ),
    }  # fmt: skip


def sensor_laws(sc: SyntheticScenario) -> dict[str, SensorLaw]:
    """Each sensor's law as its scenario states it: Pd per scan, clutter per m² per scan."""
    area = sc.area_m**2
    return {
        s.sensor_id: SensorLaw(p_detect=s.p_detect, clutter_per_m2=s.clutter_per_scan / area)
        for s in sc.sensors
    }


EXISTENCE = "score"


def limes_config(sc: SyntheticScenario) -> TrackerConfig:
    # No reorder lag: the anchor processes each scan as it comes, so do we.
    return TrackerConfig(
        reorder_window_s=0.0, gate_probability=GATE, sensors=sensor_laws(sc), existence=EXISTENCE,
        process_noise=process_noise(sc),
    )  # fmt: skip


def process_noise(sc: SyntheticScenario) -> dict[TargetClass, float]:
    """The truth's acceleration noise per class (m²/s³), as the anchor gets it matched."""
    return {
        TargetClass.PERSON: sc.walker_noise, TargetClass.VEHICLE: sc.vehicle_noise,
        TargetClass.ANIMAL: sc.walker_noise,
    }  # fmt: skip


def truth_q(sc: SyntheticScenario) -> float:
    return sc.vehicle_noise if sc.n_vehicles else sc.walker_noise


def score(run: SyntheticRun, estimates: list[NDArray[np.float64]]) -> Any:
    truth = [run.truth_at(k) for k in range(run.times.size)]
    return mean_gospa(truth, estimates, c=GOSPA_C, p=GOSPA_P)


def run_limes(run: SyntheticRun, config: TrackerConfig) -> Result:
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


def scored(run: SyntheticRun, anchor: AnchorRun) -> Result:
    g = score(run, anchor.estimates)
    return Result(
        anchor.seconds, len(run.detections), g.distance, g.localisation, g.missed, g.false,
        len(anchor.estimates[-1]), anchor.confirmed, note=anchor.note,
    )  # fmt: skip


def run_stonesoup(run: SyntheticRun, q: float) -> Result:
    return scored(run, run_gnn(run, q, GATE))


def best_stonesoup(run: SyntheticRun, sweep: bool) -> tuple[float, Result]:
    """Stone Soup's GNN with the truth's noise; on manoeuvring targets also 10× it, the better
    kept. Returns the noise kept with the result."""
    q = truth_q(run.scenario)
    results = [(q, run_stonesoup(run, q))]
    if sweep and run.scenario.turns:
        results.append((10 * q, run_stonesoup(run, 10 * q)))
    return min(results, key=lambda r: r[1].gospa)


def run_jpda(
    warm: SyntheticRun, run: SyntheticRun, q: float, cpu_s: float, ehm: bool
) -> Result | NotInTime:
    """Stone Soup's JPDA (by EHM if `ehm`) with the GNN's noise, within `cpu_s` CPU seconds."""
    got = within_budget(
        warm, run, q, GATE, sensor_laws(run.scenario), sensor_laws(warm.scenario), ehm, cpu_s
    )  # fmt: skip
    return got if isinstance(got, NotInTime) else scored(run, got)


def write_detections(run: SyntheticRun, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for d in run.detections:
            out.write(json.dumps({
                "time": d.time.isoformat(), "sensor_id": d.sensor_id, "seq": d.seq,
                "x": d.x, "y": d.y, "sd_m": math.sqrt(d.var_xx),
                "target_class": d.target_class.value, "confidence": d.confidence,
            }) + "\n")  # fmt: skip


def write_settings(sc: SyntheticScenario, path: Path) -> None:
    laws = sensor_laws(sc)
    settings = {
        "existence": EXISTENCE,
        "process_noise": {k.value: v for k, v in process_noise(sc).items()},
        "sensors": {k: {"p_detect": v.p_detect, "clutter_per_m2": v.clutter_per_m2}
                    for k, v in laws.items()},
    }  # fmt: skip
    path.write_text(json.dumps(settings), encoding="utf-8")


def whole_process(run: SyntheticRun) -> tuple[float, float]:
    """(CPU, wall) seconds of one `limes track` process on the run's detections, start to exit.

    CPU time (user + system of the child) is what is set against Stone Soup's CPU time: on a
    shared machine the wall clock also counts the time other work held the cores."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, cfg = Path(tmp, "d.jsonl"), Path(tmp, "t.jsonl"), Path(tmp, "s.json")
        write_detections(run, src)
        write_settings(run.scenario, cfg)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "limes.cli", "track", str(src), "-o", str(dst),
             "--settings", str(cfg)],
            check=True, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return cpu, wall


def row(name: str, who: str, r: Result) -> str:
    return (
        f"{name:>24} {who:>10} {r.rate:>10.0f} {r.gospa:>8.2f} {r.localisation:>8.2f} "
        f"{r.missed:>8.2f} {r.false:>8.2f} {r.tracks_end:>7} {r.tracks_confirmed:>9}"
    )


def compare(
    name: str, run: SyntheticRun, sweep: bool, process: bool, warm: SyntheticRun, jpda_s: float
) -> dict[str, Any]:
    ours = run_limes(run, limes_config(run.scenario))
    q, theirs = best_stonesoup(run, sweep)
    print(row(name, "limes", ours))
    print(row(name, "ss gnn", theirs))
    ratio = ours.rate / theirs.rate
    out: dict[str, Any] = {
        "scans": len(run.times),
        "detections": len(run.detections),
        "limes": ours.figures(),
        "stonesoup": theirs.figures(),
        "throughput_ratio": round(ratio, 2),
        "gospa_ratio": round(ours.gospa / theirs.gospa, 4),
    }
    anchors = {"gnn": theirs}
    # JPDA may take the budget or three times the GNN's time on this run, whichever is more.
    budget = round(max(jpda_s, 3 * theirs.seconds), 1)
    for key, ehm in (("jpda", False), ("jpda_ehm", True)):
        label = "ss " + key.replace("_", " ")
        got = run_jpda(warm, run, q, budget, ehm)
        if isinstance(got, NotInTime):
            print(f"{name:>24} {label:>10} {got}")
            out[f"stonesoup_{key}"] = {
                "ran": False, "cpu_budget_s": budget, "why": str(got), "scans_done": got.scans_done,
            }  # fmt: skip
            continue
        print(row(name, label, got))
        out[f"stonesoup_{key}"] = {"ran": True, "cpu_budget_s": budget, **got.figures()}
        out[f"throughput_ratio_{key}"] = round(ours.rate / got.rate, 2)
        out[f"gospa_ratio_{key}"] = round(ours.gospa / got.gospa, 4)
        anchors[key] = got
    # JPDA and its EHM give the same tracks: of equal GOSPA, the faster is the anchor.
    best_name = min(anchors, key=lambda k: (round(anchors[k].gospa, 3), -anchors[k].rate))
    best = anchors[best_name]
    out["stonesoup_best"] = best_name
    out["gospa_best"] = round(best.gospa, 3)
    out["gospa_ratio_best"] = round(ours.gospa / best.gospa, 4)
    out["throughput_ratio_best"] = round(ours.rate / best.rate, 2)
    line = (
        f"{name:>24} {'ratio':>10} {ratio:>10.1f}x  GOSPA limes/gnn {out['gospa_ratio']:.3f}"
        f"  limes/best ({best_name}) {out['gospa_ratio_best']:.3f}"
    )
    if process:
        cpu, wall = whole_process(run)
        out["process_cpu_s"] = round(cpu, 3)
        out["process_s"] = round(wall, 3)
        out["process_ratio"] = round(len(run.detections) / cpu / theirs.rate, 2)
        out["process_ratio_wall"] = round(len(run.detections) / wall / theirs.rate, 2)
        line += (
            f"  whole limes track process {out['process_ratio']:.1f}x ({cpu:.2f} s CPU; "
            f"{out['process_ratio_wall']:.1f}x on its {wall:.2f} s wall)"
        )
    print(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a few minutes)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--m-of-n", action="store_true", help="limes with the former 2-of-3 confirmation"
    )
    parser.add_argument(
        "--jpda-cpu-s", type=float, default=None,
        help="CPU seconds Stone Soup's JPDA may track each scenario for, or three times the "
        "GNN's, whichever is more (15 quick, 600 full)",
    )  # fmt: skip
    args = parser.parse_args()
    jpda_s = args.jpda_cpu_s or (15.0 if args.quick else 600.0)
    global EXISTENCE
    EXISTENCE = "m_of_n" if args.m_of_n else "score"
    durations = {10: 30.0, 50: 20.0, 200: 8.0} if args.quick else {10: 300.0, 50: 180.0, 200: 60.0}
    other_s = 40.0 if args.quick else 180.0
    figures: dict[str, Any] = {
        "existence": EXISTENCE,
        "quick": args.quick, "seed": args.seed, "gospa_c_m": GOSPA_C, "jpda_cpu_s": jpda_s,
        "sizes": {}, "scenarios": {},
    }  # fmt: skip
    print(f"{'scenario':>24} {'tracker':>10} {'det/s':>10} {'GOSPA':>8} {'loc':>8} "
          f"{'missed':>8} {'false':>8} {'tracks':>7} {'confirmed':>9}")  # fmt: skip
    # Warm both up (numba's compiled kernels load, Stone Soup's lazy imports run) untimed.
    tracker_warm_up()  # limes at its best: the compiled kernels, as the service runs them
    warm = generate(sized(10, 5.0), seed=args.seed)
    run_limes(warm, limes_config(warm.scenario))
    run_stonesoup(warm, 0.1)
    for n, duration in durations.items():
        run = generate(sized(n, duration), seed=args.seed + n)
        process = n >= 50 or not args.quick
        entry = compare(f"{n} targets", run, not args.quick, process, warm, jpda_s)
        figures["sizes"][str(n)] = {"targets": n, **entry}
    for k, (name, sc) in enumerate(others(other_s).items()):
        run = generate(sc, seed=args.seed + 1000 + k)
        figures["scenarios"][name] = compare(
            name, run, not args.quick, not args.quick, warm, jpda_s
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

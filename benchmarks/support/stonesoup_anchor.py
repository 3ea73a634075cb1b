"""Stone Soup as its users configure it, the anchor of the tracking benchmark: GNN and JPDA.

Both trackers share the Kalman predictor and updater (nearly-constant-velocity model with the
given acceleration noise, each detection with its own sensor's measurement model), the
`MultiMeasurementInitiator` confirming on 3 hits and the deleter (5 scans without an update).
They differ in association:

- GNN: Mahalanobis `DistanceHypothesiser` gated at the benchmark's gate, 2-D assignment,
  Stone Soup's `MultiTargetTracker`.
- JPDA: `PDAHypothesiser` with the scanning sensor's detection probability and clutter
  spatial density (false reports per m² per scan), as Stone Soup's JPDA tutorial sets it up,
  and the same gate probability as the GNN's (the tutorial keeps the default 0.95, which
  did worse here: mean GOSPA 76.9 against 37.2 on the parallel columns, 19.4 of it false
  tracks, 13 confirmed for 8 walkers); Stone Soup's `JPDA` associator
  and its `MultiTargetMixtureTracker`, which reduces each track's mixture over the joint
  hypotheses to one Gaussian.

Stone Soup's `JPDA` enumerates every joint hypothesis over all tracks at once, so its cost
grows exponentially with tracks and clutter. Its `JPDAwithEHM` (Efficient Hypothesis
Management, in the same module) computes the same marginal association probabilities
exactly, cluster by cluster, so it gives the same tracks at a fraction of the cost; both are
run. `within_budget` runs either in a separate process with a CPU-time and a memory limit and
reports how far it got when it does not finish.
"""

from __future__ import annotations

import math
import multiprocessing
import resource
import signal
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from numpy.typing import NDArray
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.dataassociator.probability import JPDA, JPDAwithEHM
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.hypothesiser.probability import PDAHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.tracker.simple import MultiTargetMixtureTracker, MultiTargetTracker
from stonesoup.types.detection import Detection as SSDetection
from stonesoup.types.state import GaussianState, StateVector
from stonesoup.updater.kalman import KalmanUpdater

from limes.ops.tracker.config import SensorLaw
from limes.ops.tracker.synthetic import SyntheticRun

#: Prior speed spread of a new track (m/s), both axes.
SPEED_SD = 10.0
#: More joint hypotheses per microsecond than Stone Soup's JPDA goes through (its validity check
#: alone manages about 0.7 at 16 tracks, fewer with more): a scan needing more than the CPU
#: budget allows at this rate cannot finish in time, so the run stops there and says so.
JOINT_PER_US = 1.0
#: Memory a JPDA run may take beyond what its process holds at the start.
JPDA_MEMORY_BYTES = 3 << 30


@dataclass
class AnchorRun:
    """One Stone Soup run: tracker CPU time and the confirmed tracks' positions at each scan."""

    seconds: float
    estimates: list[NDArray[np.float64]]
    confirmed: int
    note: str


@dataclass
class NotInTime:
    """A JPDA run stopped at its budget: why, and how many scans it had finished."""

    why: str
    scans_done: int
    scans: int

    def __str__(self) -> str:
        return f"not run in time: {self.why} ({self.scans_done} of {self.scans} scans done)"


class TooManyJointHypotheses(Exception):
    """One scan needs more joint hypotheses than the budget can enumerate."""


def _limited_jpda(max_joint: float) -> type[Any]:
    """Stone Soup's `JPDA`, unchanged, except that it refuses a scan it cannot finish in time."""

    class LimitedJPDA(JPDA):  # type: ignore[misc]  # Stone Soup has no type information
        @classmethod
        def enumerate_JPDA_hypotheses(cls, tracks: Any, multihypths: Any) -> Any:
            joint = math.prod(len(multihypths[t]) for t in tracks)
            if joint > max_joint:
                raise TooManyJointHypotheses(
                    f"one scan's {len(tracks)} tracks make {joint:.3g} joint hypotheses"
                )
            return super().enumerate_JPDA_hypotheses(tracks, multihypths)

    return LimitedJPDA


def _models(run: SyntheticRun) -> dict[str, Any]:
    return {
        s.sensor_id: LinearGaussian(
            ndim_state=4, mapping=(0, 2), noise_covar=np.diag([s.position_sd_m**2] * 2)
        )
        for s in run.scenario.sensors
    }


def _scans(run: SyntheticRun, models: Mapping[str, Any]) -> list[tuple[datetime, set[Any], str]]:
    """Each scan as Stone Soup detections, with the sensor that made it (one per scan here)."""
    out = []
    last = run.scenario.sensors[0].sensor_id
    for when, scan in zip(run.datetimes(), run.scans(), strict=True):
        dets = {
            SSDetection(
                StateVector([d.x, d.y]), timestamp=when, measurement_model=models[d.sensor_id]
            )
            for d in scan
        }
        sensors = {d.sensor_id for d in scan}
        assert len(sensors) <= 1, "a scan mixes sensors"
        last = sensors.pop() if sensors else last
        out.append((when, dets, last))
    return out


def _run(
    run: SyntheticRun, q: float, gate_p: float, laws: Mapping[str, SensorLaw] | None,
    ehm: bool = False, max_joint: float = math.inf, progress: Any = None,
) -> AnchorRun:  # fmt: skip
    """GNN when `laws` is None, else JPDA with each scan's sensor law (its marginals by EHM
    if `ehm`, else by enumerating every joint hypothesis); all gate at `gate_p`."""
    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(q), ConstantVelocity(q)])
    models = _models(run)
    default_model = next(iter(models.values()))
    gate = math.sqrt(-2.0 * math.log1p(-gate_p))  # the χ² (2 d.o.f.) quantile's square root
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(default_model)

    def gnn() -> GNNWith2DAssignment:
        hypothesiser = DistanceHypothesiser(
            predictor, updater, measure=Mahalanobis(), missed_distance=gate
        )
        return GNNWith2DAssignment(hypothesiser)

    speed_var = SPEED_SD**2
    initiator = MultiMeasurementInitiator(
        prior_state=GaussianState(StateVector([0, 0, 0, 0]), np.diag([0, speed_var, 0, speed_var])),
        measurement_model=default_model,
        deleter=UpdateTimeStepsDeleter(time_steps_since_update=2),
        data_associator=gnn(),
        updater=updater,
        min_points=3,
    )
    scans = _scans(run, models)
    deleter = UpdateTimeStepsDeleter(time_steps_since_update=5)
    tracker: Any
    if laws is None:
        feed: Any = [(when, dets) for when, dets, _ in scans]
        tracker = MultiTargetTracker(
            initiator=initiator, deleter=deleter, detector=feed, data_associator=gnn(),
            updater=updater,
        )  # fmt: skip
        note = f"GNN, q={q:g} m²/s³, 3-hit initiation"
    else:
        first = laws[scans[0][2]]
        hypothesiser = PDAHypothesiser(
            predictor=predictor, updater=updater, prob_detect=first.p_detect,
            clutter_spatial_density=first.clutter_per_m2,
            prob_gate=gate_p,
        )  # fmt: skip

        def per_sensor() -> Iterator[tuple[datetime, set[Any]]]:
            # The hypothesiser takes the law of the sensor whose scan comes next.
            for when, dets, sensor in scans:
                hypothesiser.prob_detect = laws[sensor].p_detect
                hypothesiser.clutter_spatial_density = laws[sensor].clutter_per_m2
                yield when, dets

        jpda = JPDAwithEHM if ehm else _limited_jpda(max_joint)
        tracker = MultiTargetMixtureTracker(
            initiator=initiator, deleter=deleter, detector=per_sensor(),
            data_associator=jpda(hypothesiser), updater=updater,
        )  # fmt: skip
        note = (
            f"JPDA{' (EHM)' if ehm else ''}, q={q:g} m²/s³, 3-hit initiation, "
            f"P_G {float(hypothesiser.prob_gate):g}"
        )
    estimates = []
    confirmed: set[int] = set()
    elapsed = 0.0
    iterator = iter(tracker)
    for _ in scans:
        start = time.process_time()
        _, tracks = next(iterator)
        elapsed += time.process_time() - start
        confirmed.update(id(t) for t in tracks)
        estimates.append(
            np.array([[t.state_vector[0], t.state_vector[2]] for t in tracks], dtype=float)
            .reshape(-1, 2)
        )  # fmt: skip
        if progress is not None:
            progress.value += 1
    return AnchorRun(elapsed, estimates, len(confirmed), note)


def run_gnn(run: SyntheticRun, q: float, gate_p: float) -> AnchorRun:
    """Stone Soup's GNN tracker on `run`, in this process."""
    return _run(run, q, gate_p, None)


def run_jpda(
    run: SyntheticRun, q: float, gate_p: float, laws: Mapping[str, SensorLaw], ehm: bool = False
) -> AnchorRun:
    """Stone Soup's JPDA tracker on `run`, in this process, with no limit."""
    return _run(run, q, gate_p, laws, ehm)


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _jpda_child(
    conn: Connection, warm: SyntheticRun, run: SyntheticRun, q: float, gate_p: float,
    laws: Mapping[str, SensorLaw], warm_laws: Mapping[str, SensorLaw], ehm: bool, cpu_s: float,
    progress: Any,
) -> None:  # fmt: skip
    _run(warm, 0.1, gate_p, warm_laws, ehm)  # Stone Soup's lazy imports and caches, untimed
    soft = math.ceil(_cpu_used() + cpu_s)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))
    with open("/proc/self/statm") as f:
        held = int(f.read().split()[0]) * resource.getpagesize()
    limit = held + JPDA_MEMORY_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    try:
        result: AnchorRun | str = _run(
            run, q, gate_p, laws, ehm, cpu_s * 1e6 * JOINT_PER_US, progress
        )
    except TooManyJointHypotheses as e:
        result = str(e)
    except MemoryError:
        result = f"over {JPDA_MEMORY_BYTES >> 30} GiB of memory"
    conn.send(result)
    conn.close()


def within_budget(
    warm: SyntheticRun, run: SyntheticRun, q: float, gate_p: float,
    laws: Mapping[str, SensorLaw], warm_laws: Mapping[str, SensorLaw], ehm: bool, cpu_s: float,
) -> AnchorRun | NotInTime:  # fmt: skip
    """Stone Soup's JPDA (by EHM if `ehm`) on `run` within `cpu_s` CPU seconds of tracking
    (and 3x that in wall time), in a fresh process so that a run over budget can be stopped
    mid-scan."""
    ctx = multiprocessing.get_context("spawn")
    progress = ctx.Value("i", 0)
    ours, theirs = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_jpda_child,
        args=(theirs, warm, run, q, gate_p, laws, warm_laws, ehm, cpu_s, progress),
    )
    child.start()
    theirs.close()
    scans = len(run.times)
    wall_s = 3 * cpu_s + 30  # + start-up and warm-up
    got: AnchorRun | str | None = None
    if ours.poll(wall_s):
        try:
            got = ours.recv()
        except EOFError:
            got = None
    if child.is_alive() and got is None:
        child.kill()
    child.join()
    done = progress.value
    if isinstance(got, AnchorRun):
        return got
    if isinstance(got, str):
        return NotInTime(got, done, scans)
    if child.exitcode == -signal.SIGXCPU:
        return NotInTime(f"over {cpu_s:g} s of CPU", done, scans)
    if child.exitcode == -signal.SIGKILL:
        return NotInTime(f"over {wall_s:g} s of wall time", done, scans)
    return NotInTime(f"stopped with exit code {child.exitcode}", done, scans)

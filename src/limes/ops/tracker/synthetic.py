"""Seeded ground truth and detections for testing and benchmarking trackers.

Walkers and vehicles move with nearly-constant velocity (white acceleration noise, sampled
exactly between truth times); sensors report each target with probability `p_detect` and
Gaussian position noise, and add uniform clutter over the area. Layouts: random headings,
pairs of targets whose paths cross at the same place and time, or columns moving side by
side on parallel paths. Targets may manoeuvre (sharp turns at random times) and may be born
and die during the run (each lives over a random part of it); a sensor reports only targets
alive at its scan. Positions are in a local metric frame centred on `origin_lonlat`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from limes.geo.frame import Frame
from limes.ops.detection import Detection, TargetClass

Layout = Literal["random", "crossing", "parallel"]


@dataclass(frozen=True)
class SyntheticSensor:
    """A sensor that sees the whole area: noise, detection probability, clutter, cadence."""

    sensor_id: str
    position_sd_m: float = 5.0
    p_detect: float = 0.9
    clutter_per_scan: float = 5.0
    scan_period_s: float = 1.0
    time_offset_s: float = 0.0
    #: Probability that a target detection declares the true class (else "unknown").
    class_accuracy: float = 0.8
    confidence: float = 0.8


@dataclass(frozen=True)
class SyntheticScenario:
    """What to generate: how many targets of each kind, how they move, who watches."""

    n_walkers: int = 5
    n_vehicles: int = 5
    layout: Layout = "random"
    area_m: float = 2000.0
    duration_s: float = 60.0
    walker_speed: float = 1.4
    vehicle_speed: float = 10.0
    #: Acceleration noise power spectral density of the true motion (m²/s³).
    walker_noise: float = 0.01
    vehicle_noise: float = 0.1
    parallel_spacing_m: float = 30.0
    max_group_size: int = 5
    #: Sharp turns per target over the run (45–135°, left or right, at random times).
    turns: int = 0
    #: Fraction of the run each target lives (its start random); 1: all live throughout.
    lifetime_fraction: float = 1.0
    sensors: tuple[SyntheticSensor, ...] = (SyntheticSensor("s1"),)
    start: datetime = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    origin_lonlat: tuple[float, float] = (41.0, 34.4)


@dataclass(frozen=True)
class SyntheticRun:
    """Truth at every scan time of any sensor, and the detections generated from it."""

    scenario: SyntheticScenario
    frame: Frame
    times: NDArray[np.float64]  # (K,) POSIX seconds
    truth: NDArray[np.float64]  # (K, N, 4) x, y, vx, vy
    alive: NDArray[np.bool_] = field(repr=False)  # (K, N) target exists at that time
    classes: tuple[TargetClass, ...]  # (N,)
    group_sizes: tuple[int, ...]
    detections: list[Detection] = field(repr=False)
    is_clutter: NDArray[np.bool_] = field(repr=False)  # aligned with detections
    target_of: NDArray[np.intp] = field(repr=False)  # source target per detection, -1 clutter

    def truth_at(self, k: int) -> NDArray[np.float64]:
        """Positions (n, 2) of the targets alive at truth time `k`."""
        out: NDArray[np.float64] = self.truth[k, self.alive[k], :2]
        return out

    def datetimes(self) -> list[datetime]:
        """`times` as UTC datetimes."""
        return [datetime.fromtimestamp(t, UTC) for t in self.times.tolist()]

    def scans(self) -> list[list[Detection]]:
        """Detections grouped by truth time, in time order (empty lists included)."""
        out: list[list[Detection]] = [[] for _ in self.times]
        stamps = np.array([d.time.timestamp() for d in self.detections])
        # Datetimes hold microseconds: match each detection to the nearest truth time.
        k = np.clip(np.searchsorted(self.times, stamps), 1, max(self.times.size - 1, 1))
        k = np.where(np.abs(self.times[k - 1] - stamps) <= np.abs(self.times[k] - stamps), k - 1, k)
        for d, i in zip(self.detections, k.tolist(), strict=True):
            out[i].append(d)
        return out


def _initial_states(
    sc: SyntheticScenario, speeds: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.float64]:
    n = speeds.size
    half = sc.area_m / 2
    if sc.layout == "random":
        pos = rng.uniform(-0.6 * half, 0.6 * half, (n, 2))
        heading = rng.uniform(0, 2 * np.pi, n)
        return np.column_stack([pos, speeds * np.cos(heading), speeds * np.sin(heading)])
    if sc.layout == "crossing":
        # Pairs meet at a shared point at mid-run, at least 45° apart.
        meet = rng.uniform(-0.3 * half, 0.3 * half, ((n + 1) // 2, 2)).repeat(2, axis=0)[:n]
        base = rng.uniform(0, 2 * np.pi, (n + 1) // 2).repeat(2)[:n]
        turn = np.where(np.arange(n) % 2 == 1, rng.uniform(np.pi / 4, 3 * np.pi / 4, n), 0.0)
        heading = base + turn
        vel = np.column_stack([speeds * np.cos(heading), speeds * np.sin(heading)])
        return np.column_stack([meet - vel * sc.duration_s / 2, vel])
    if sc.layout == "parallel":
        # One column per class, abreast, all on the same heading, centred at mid-run.
        course = rng.uniform(0, 2 * np.pi)
        along = np.array([np.cos(course), np.sin(course)])
        across = np.array([-along[1], along[0]])
        rank = np.arange(n) - (n - 1) / 2
        mid = (
            rng.uniform(-0.2 * half, 0.2 * half, 2) + rank[:, None] * sc.parallel_spacing_m * across
        )
        vel = speeds[:, None] * along
        return np.column_stack([mid - vel * sc.duration_s / 2, vel])
    raise ValueError(f"unknown layout {sc.layout!r} (random, crossing, parallel)")


def _truth_times(sc: SyntheticScenario) -> NDArray[np.float64]:
    t0 = sc.start.timestamp()
    per_sensor = [
        t0 + s.time_offset_s + np.arange(0.0, sc.duration_s, s.scan_period_s) for s in sc.sensors
    ]
    return np.unique(np.concatenate(per_sensor))


def _turn_steps(
    times: NDArray[np.float64], n: int, turns: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """(K, N) turn angle (radians) applied at each truth step, zero where none."""
    out = np.zeros((times.size, n))
    if turns <= 0 or times.size < 3:
        return out
    for j in range(n):
        steps = rng.integers(1, times.size, turns)
        angle = rng.uniform(np.pi / 4, 3 * np.pi / 4, turns) * rng.choice([-1.0, 1.0], turns)
        out[steps, j] += angle
    return out


def _move(
    x0: NDArray[np.float64],
    times: NDArray[np.float64],
    q: NDArray[np.float64],
    rng: np.random.Generator,
    turns: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    out = np.empty((times.size, *x0.shape))
    out[0] = x0
    for k in range(1, times.size):
        dt = times[k] - times[k - 1]
        # Exact discretisation of white acceleration per axis: correlated (position, velocity).
        cov = np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
        chol = np.linalg.cholesky(cov)
        w = rng.standard_normal((x0.shape[0], 2, 2)) @ chol.T * np.sqrt(q)[:, None, None]
        prev = out[k - 1]
        out[k, :, :2] = prev[:, :2] + dt * prev[:, 2:] + w[:, :, 0]
        out[k, :, 2:] = prev[:, 2:] + w[:, :, 1]
        if turns is not None and turns[k].any():
            c, s = np.cos(turns[k]), np.sin(turns[k])
            vx, vy = out[k, :, 2].copy(), out[k, :, 3].copy()
            out[k, :, 2], out[k, :, 3] = c * vx - s * vy, s * vx + c * vy
    return out


def _lifetimes(
    sc: SyntheticScenario, times: NDArray[np.float64], n: int, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """(K, N) whether each target exists at each truth time."""
    if sc.lifetime_fraction >= 1.0:
        return np.ones((times.size, n), dtype=bool)
    life = sc.lifetime_fraction * sc.duration_s
    born = times[0] + rng.uniform(0.0, sc.duration_s - life, n)
    return (times[:, None] >= born[None, :]) & (times[:, None] < born[None, :] + life)


def generate(scenario: SyntheticScenario, seed: int) -> SyntheticRun:
    """Truth and detections for `scenario`, identical for identical `seed`."""
    sc = scenario
    rng = np.random.default_rng(seed)
    n = sc.n_walkers + sc.n_vehicles
    classes = (TargetClass.PERSON,) * sc.n_walkers + (TargetClass.VEHICLE,) * sc.n_vehicles
    is_vehicle = np.array([c is TargetClass.VEHICLE for c in classes], dtype=bool)
    speeds = np.where(is_vehicle, sc.vehicle_speed, sc.walker_speed) * rng.uniform(0.8, 1.2, n)
    q = np.where(is_vehicle, sc.vehicle_noise, sc.walker_noise)
    groups = tuple(
        1 if v else int(g)
        for v, g in zip(is_vehicle, rng.integers(1, sc.max_group_size + 1, n), strict=True)
    )
    times = _truth_times(sc)
    turns = _turn_steps(times, n, sc.turns, rng) if sc.turns else None
    truth = (
        _move(_initial_states(sc, speeds, rng), times, q, rng, turns)
        if n
        else np.zeros((times.size, 0, 4))
    )
    alive = _lifetimes(sc, times, n, rng)
    frame = Frame.transverse_mercator(*sc.origin_lonlat)
    t0 = sc.start.timestamp()

    rows: list[tuple[float, str, float, float, float, int, TargetClass, float, int | None]] = []
    for s in sc.sensors:
        scan_times = t0 + s.time_offset_s + np.arange(0.0, sc.duration_s, s.scan_period_s)
        ks = np.searchsorted(times, scan_times)
        for t, k in zip(scan_times.tolist(), ks.tolist(), strict=True):
            seen = np.flatnonzero((rng.random(n) < s.p_detect) & alive[k])
            pos = truth[k, seen, :2] + rng.normal(0.0, s.position_sd_m, (seen.size, 2))
            right = rng.random(seen.size) < s.class_accuracy
            for j, (px, py), ok in zip(seen.tolist(), pos.tolist(), right.tolist(), strict=True):
                cls = classes[j] if ok else TargetClass.UNKNOWN
                rows.append(
                    (t, s.sensor_id, px, py, s.position_sd_m, j, cls, s.confidence, groups[j])
                )
            n_clutter = rng.poisson(s.clutter_per_scan)
            clutter = rng.uniform(-sc.area_m / 2, sc.area_m / 2, (n_clutter, 2))
            for px, py in clutter.tolist():
                rows.append(
                    (t, s.sensor_id, px, py, s.position_sd_m, -1, TargetClass.UNKNOWN, 0.3, None)
                )
    rows.sort(key=lambda r: r[0])
    xy = np.array([(r[2], r[3]) for r in rows]).reshape(-1, 2)
    lon, lat = frame.to_lonlat(xy[:, 0], xy[:, 1])
    seq: dict[str, int] = {}
    detections = []
    for r, lo, la in zip(rows, lon.tolist(), lat.tolist(), strict=True):
        seq[r[1]] = seq.get(r[1], 0) + 1
        var = r[4] ** 2
        detections.append(
            Detection(
                sensor_id=r[1],
                seq=seq[r[1]],
                time=datetime.fromtimestamp(r[0], UTC),
                lon=lo,
                lat=la,
                x=r[2],
                y=r[3],
                var_xx=var,
                var_xy=0.0,
                var_yy=var,
                target_class=r[6],
                confidence=r[7],
                group_size=r[8],
            )
        )
    target_of = np.array([r[5] for r in rows], dtype=np.intp)
    return SyntheticRun(
        scenario=sc,
        frame=frame,
        times=times,
        truth=truth,
        alive=alive,
        classes=classes,
        group_sizes=groups,
        detections=detections,
        is_clutter=target_of < 0,
        target_of=target_of,
    )


def start_plus(scenario: SyntheticScenario, seconds: float) -> datetime:
    """The scenario's start moved by `seconds` (handy for building late detections in tests)."""
    return scenario.start + timedelta(seconds=seconds)

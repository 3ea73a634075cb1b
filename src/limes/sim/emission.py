"""Simulated sensors: detections drawn from the shared sensor model, false alarms, reports.

For every sensor and every step of every group (position at the middle of the step), the
hazard is the sensor model's law at that range (`sensing.detection_law.hazard_at`), for the
group's target class in the light at the sensor at that moment, where the sensor sees the
group (`sensing.line_of_sight.visible_points`, the same sight model the analysis uses; ground
sensors need no sight); the group is reported in the step with probability 1 − exp(−h·dt)
(`sensing.detection_law.p_detect`), or, for a sensor whose `report_interval_s` τ is longer
than the step, (1 − exp(−h·τ))·dt/τ: one report per interval at most, the rate the tracker's
law expects (`sensing.detection_law.report_rate`). Each hit becomes a report: position with
the law's `position_sd_m` of Gaussian noise on each axis, class (right with `class_accuracy`, else
unknown; nuisance groups are often taken for animals), confidence, and a group size estimate
(log-normal error). False alarms come at each law's `false_alarm_per_h`, uniform over the
law's range within the field of view. Each report leaves after the model's latency (normal,
never negative); outages silence a sensor or hold its reports; every sensor numbers its
reports in the order it sends them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from limes.geo.terrain import Dem
from limes.scenario.model import Scenario
from limes.scenario.schema import DetectionLaw, Light, Spread, TargetClassName
from limes.sensing.coverage import SensorPlace, in_view, sensor_places
from limes.sensing.detection_law import hazard_at, p_detect, target_class
from limes.sensing.line_of_sight import Observer, Sightline, visible_points
from limes.sim.actors import Actor
from limes.sim.config import Outage, SimConfig
from limes.sim.daylight import is_day

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CLASSES: tuple[TargetClassName, ...] = (TargetClassName.PERSON, TargetClassName.VEHICLE)
REPORTED = ("person", "vehicle", "animal", "unknown")
_ANIMAL, _UNKNOWN = 2, 3


@dataclass(frozen=True)
class SimSensor:
    """A standing sensor as the simulator uses it: place, laws, latency, light longitude."""

    index: int
    place: SensorPlace
    lon: float
    lat: float
    latency: Spread

    @property
    def id(self) -> str:
        return self.place.id


def sim_sensors(scenario: Scenario) -> list[SimSensor]:
    """The scenario's standing sensors, in file order (the order of every random draw)."""
    out = []
    by_id = scenario.sensors
    for i, place in enumerate(sensor_places(scenario)):
        lon, lat = scenario.frame.to_lonlat(place.x, place.y)
        model = scenario.model_of(by_id[place.id])
        out.append(SimSensor(i, place, float(lon), float(lat), model.latency))
    return out


@dataclass(frozen=True)
class Samples:
    """Every group at the middle of every step it moves in: time, frame position, class."""

    actor: IntArray
    t_s: FloatArray
    x: FloatArray
    y: FloatArray
    cls: IntArray  # index into CLASSES

    def __len__(self) -> int:
        return len(self.t_s)


def sample_actors(actors: Sequence[Actor], step_s: float, horizon_s: float) -> Samples:
    """Positions of the groups at the middle of each step of the run's step grid."""
    parts: list[tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray]] = []  # columns
    for a in actors:
        end = min(a.end_s, horizon_s)
        k0 = math.floor(a.start_s / step_s - 0.5)
        k1 = math.ceil(end / step_s)
        t = (np.arange(k0, k1 + 1, dtype=np.float64) + 0.5) * step_s
        t = t[(t >= a.start_s) & (t < end)]
        x, y = a.position(t)
        cls = CLASSES.index(target_class(a.mode))
        n = len(t)
        ids = np.full(n, a.index, np.int64)
        parts.append((ids, t.astype(np.float64), x, y, np.full(n, cls, np.int64)))
    if not parts:
        e = np.zeros(0)
        ei = np.zeros(0, np.int64)
        return Samples(ei, e, e, e, ei)
    return Samples(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        np.concatenate([p[3] for p in parts]),
        np.concatenate([p[4] for p in parts]),
    )


@dataclass(frozen=True)
class Hits:
    """Which samples each sensor detected, with the position sd of the law that saw them."""

    sample: IntArray
    sensor: IntArray
    sd_m: FloatArray


def detect(
    scenario: Scenario,
    dem: Dem,
    sensors: Sequence[SimSensor],
    samples: Samples,
    cfg: SimConfig,
    rng: np.random.Generator,
) -> Hits:
    """Draw every sensor's detections of every sample (vectorised over samples per sensor)."""
    cc = 1.0 - scenario.spec.response.refraction_k
    heights = scenario.spec.response.target_heights_m
    out_sample: list[IntArray] = []
    out_sensor: list[IntArray] = []
    out_sd: list[FloatArray] = []
    for sensor in sensors:
        place = sensor.place
        for ci, cls in enumerate(CLASSES):
            laws = {li: place.laws.get((cls, li)) for li in Light}
            reach = max((law.range_m for law in laws.values() if law is not None), default=0.0)
            if reach <= 0 or cls not in heights:
                continue
            idx = np.flatnonzero(
                (samples.cls == ci)
                & (np.abs(samples.x - place.x) <= reach)
                & (np.abs(samples.y - place.y) <= reach)
            )
            if idx.size == 0:
                continue
            x, y = samples.x[idx], samples.y[idx]
            r = np.hypot(x - place.x, y - place.y)
            near = r <= reach
            idx, x, y, r = idx[near], x[near], y[near], r[near]
            if idx.size == 0:
                continue
            if place.needs_sight:
                obs = Observer(place.x, place.y, place.mast_height_m, reach,
                               fov_deg=place.fov_deg, heading_deg=place.heading_deg)  # fmt: skip
                seen = visible_points(
                    dem.elevation, dem.grid.transform, obs, np.column_stack([x, y]),
                    Sightline(heights[cls], cc),
                )  # fmt: skip
            else:
                seen = in_view(place, x, y)
            day = is_day(cfg.start, samples.t_s[idx], sensor.lon, cfg.day_start_h, cfg.day_end_h)
            h = np.zeros(idx.size)
            sd = np.zeros(idx.size)
            for li, mask in ((Light.DAY, day), (Light.NIGHT, ~day)):
                law = laws[li]
                if law is None:
                    continue
                m = mask & seen
                h[m] = hazard_at(law, r[m])
                sd[m] = law.position_sd_m
            # One report per report interval at most (`detection_law.report_rate`): an
            # interval of τ ≥ step fires with 1 − exp(−h·τ), spread evenly over its steps.
            tau = max(cfg.step_s, place.report_interval_s)
            hit = rng.random(idx.size) < p_detect(h, tau) * (cfg.step_s / tau)
            out_sample.append(idx[hit])
            out_sensor.append(np.full(int(hit.sum()), sensor.index, np.int64))
            out_sd.append(sd[hit])
    if not out_sample:
        return Hits(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    return Hits(np.concatenate(out_sample), np.concatenate(out_sensor), np.concatenate(out_sd))


@dataclass
class Reports:
    """Reports as columns: who, when seen, where (frame, noisy), what, and when sent."""

    sensor: IntArray
    time_s: FloatArray
    x: FloatArray
    y: FloatArray
    sd_m: FloatArray
    cls: IntArray  # index into REPORTED
    confidence: FloatArray
    group: IntArray  # 0: no estimate
    actor: IntArray  # -1: false alarm
    send_s: FloatArray

    def __len__(self) -> int:
        return len(self.time_s)

    def take(self, keep: NDArray[np.bool_] | IntArray) -> Reports:
        """The reports selected by a mask or an index array, in that order."""
        return Reports(*(getattr(self, f)[keep] for f in _FIELDS))

    @staticmethod
    def concat(parts: Sequence[Reports]) -> Reports:
        return Reports(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS = ("sensor", "time_s", "x", "y", "sd_m", "cls", "confidence", "group", "actor", "send_s")


def hit_reports(
    hits: Hits,
    samples: Samples,
    actors: Sequence[Actor],
    cfg: SimConfig,
    rng: np.random.Generator,
) -> Reports:
    """Reports of true detections: noisy position, class with confusion, confidence, size."""
    n = len(hits.sample)
    s = hits.sample
    actor = samples.actor[s]
    x = samples.x[s] + rng.normal(0.0, 1.0, n) * hits.sd_m
    y = samples.y[s] + rng.normal(0.0, 1.0, n) * hits.sd_m
    cls = samples.cls[s].copy()
    nuisance = np.array([not actors[i].crossing for i in actor], dtype=bool)
    cls[nuisance & (rng.random(n) < cfg.nuisance_as_animal)] = _ANIMAL
    cls[rng.random(n) >= cfg.class_accuracy] = _UNKNOWN
    conf = rng.uniform(*cfg.confidence_hit, n)
    sizes = np.array([actors[i].group_size for i in actor], dtype=float)
    est = np.maximum(1, np.rint(sizes * np.exp(rng.normal(0.0, cfg.group_size_error, n))))
    zero = np.zeros(n)
    return Reports(hits.sensor, samples.t_s[s], x, y, hits.sd_m, cls, conf,
                   est.astype(np.int64), actor.astype(np.int64), zero)  # fmt: skip


def false_alarms(
    scenario: Scenario,
    sensors: Sequence[SimSensor],
    horizon_s: float,
    cfg: SimConfig,
    rng: np.random.Generator,
) -> Reports:
    """Each law's false alarms over the run: Poisson in time, uniform over range and view."""
    parts: list[Reports] = []
    limit = scenario.spec.strip.max_sensor_distance_m
    for sensor in sensors:
        place = sensor.place
        for ci, cls in enumerate(CLASSES):
            laws: dict[Light, DetectionLaw | None] = {li: place.laws.get((cls, li)) for li in Light}
            rates = {
                li: (law.false_alarm_per_h / 3600.0 if law else 0.0) for li, law in laws.items()
            }
            top = max(rates.values())
            if top <= 0:
                continue
            # Thinning: draw at the higher rate, keep each at its own light's share of it.
            n = int(rng.poisson(top * horizon_s))
            t = np.sort(rng.uniform(0.0, horizon_s, n))
            day = is_day(cfg.start, t, sensor.lon, cfg.day_start_h, cfg.day_end_h)
            rate = np.where(day, rates[Light.DAY], rates[Light.NIGHT])
            u_keep = rng.random(n)
            u_r = rng.random(n)
            u_b = rng.random(n)
            rng_m = np.array([_law_attr(laws, d, "range_m") for d in day])
            sd = np.array([_law_attr(laws, d, "position_sd_m") for d in day])
            fov = min(place.fov_deg, 360.0)
            bearing = np.radians(place.heading_deg + (u_b - 0.5) * fov)
            r = rng_m * np.sqrt(u_r)
            x = place.x + r * np.sin(bearing)
            y = place.y + r * np.cos(bearing)
            _, off = scenario.locate(x, y) if n else (np.zeros(0), np.zeros(0))
            keep = (u_keep * top < rate) & (np.abs(off) <= limit)
            m = int(keep.sum())
            conf = rng.uniform(*cfg.confidence_false, n)
            shown = np.where(rng.random(n) < cfg.class_accuracy, ci, _UNKNOWN)
            parts.append(
                Reports(
                    np.full(m, sensor.index, np.int64), t[keep], x[keep], y[keep], sd[keep],
                    shown[keep].astype(np.int64), conf[keep], np.ones(m, np.int64),
                    np.full(m, -1, np.int64), np.zeros(m),
                )
            )  # fmt: skip
    if not parts:
        return _empty()
    return Reports.concat(parts)


def _law_attr(laws: dict[Light, DetectionLaw | None], day: bool, name: str) -> float:
    law = laws[Light.DAY if day else Light.NIGHT]
    return float(getattr(law, name)) if law is not None else 0.0


def _empty() -> Reports:
    e, ei = np.zeros(0), np.zeros(0, np.int64)
    return Reports(ei, e, e, e, e, ei, e, ei, ei, e)


def random_outages(
    sensors: Sequence[SimSensor], horizon_s: float, cfg: SimConfig, rng: np.random.Generator
) -> list[Outage]:
    """Outages (`down`) drawn at `outages_per_sensor_day`, exponential durations."""
    out: list[Outage] = []
    if cfg.outages_per_sensor_day <= 0:
        return out
    for sensor in sensors:
        n = int(rng.poisson(cfg.outages_per_sensor_day * horizon_s / 86_400.0))
        starts = np.sort(rng.uniform(0.0, horizon_s, n))
        lengths = rng.exponential(cfg.outage_mean_s, n)
        for s0, dur in zip(starts, lengths, strict=True):
            out.append(Outage(sensor.id, float(s0), float(s0 + max(dur, 1.0))))
    return out


def deliver(
    reports: Reports,
    sensors: Sequence[SimSensor],
    outages: Sequence[Outage],
    rng: np.random.Generator,
) -> Reports:
    """Latency, outages and order: when each report leaves; reports in sending order."""
    lat_mean = np.array([s.latency.mean_s for s in sensors])[reports.sensor]
    lat_sd = np.array([s.latency.sd_s for s in sensors])[reports.sensor]
    send = reports.time_s + np.maximum(0.0, lat_mean + lat_sd * rng.standard_normal(len(reports)))
    keep = np.ones(len(reports), dtype=bool)
    index = {s.id: s.index for s in sensors}
    for o in outages:
        if o.sensor_id not in index:
            raise ValueError(f"outage names sensor {o.sensor_id!r}, which is not a standing sensor")
        mine = reports.sensor == index[o.sensor_id]
        if o.kind == "down":
            keep &= ~(mine & (reports.time_s >= o.start_s) & (reports.time_s < o.end_s))
        else:
            held = mine & (send >= o.start_s) & (send < o.end_s)
            send = np.where(held, o.end_s, send)
    # Whole milliseconds, as the messages carry them, so order and text agree.
    out = reports.take(keep)
    out.send_s = np.round(send[keep], 3)
    out.time_s = np.round(out.time_s, 3)
    order = np.lexsort((out.actor, out.time_s, out.sensor, out.send_s))
    return out.take(order)


@dataclass(frozen=True, slots=True)
class Emission:
    """One report as it leaves a simulated sensor: its message bytes and what it stands for."""

    sensor_id: str
    seq: int
    send_s: float
    time_s: float
    time: datetime
    lon: float
    lat: float
    position_sd_m: float
    target_class: str
    confidence: float
    group_size: int | None
    actor_id: str | None
    payload: bytes

    def message(self) -> dict[str, object]:
        """The report as the JSON detection format's object (docs/protocols.md)."""
        out: dict[str, object] = json.loads(self.payload)
        return out


def iso_ms(t: datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, the form every message carries."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def emissions(
    reports: Reports,
    scenario: Scenario,
    sensors: Sequence[SimSensor],
    actors: Sequence[Actor],
    start: datetime,
    seq_start: int,
) -> list[Emission]:
    """Number each sensor's reports in sending order and write their JSON messages."""
    lon, lat = scenario.frame.to_lonlat(reports.x, reports.y)
    counters = [seq_start] * len(sensors)
    out: list[Emission] = []
    for i in range(len(reports)):
        si = int(reports.sensor[i])
        seq = counters[si]
        counters[si] += 1
        ms = round(float(reports.time_s[i]) * 1000.0)
        when = start + timedelta(milliseconds=ms)
        group = int(reports.group[i])
        a = int(reports.actor[i])
        msg: dict[str, object] = {
            "sensor_id": sensors[si].id,
            "seq": seq,
            "time": iso_ms(when),
            "lon": round(float(lon[i]), 7),
            "lat": round(float(lat[i]), 7),
            "position_sd_m": round(float(reports.sd_m[i]), 2),
            "class": REPORTED[int(reports.cls[i])],
            "confidence": round(float(reports.confidence[i]), 2),
        }
        if group > 0:
            msg["group_size"] = group
        payload = json.dumps(msg, separators=(",", ":")).encode()
        out.append(
            Emission(
                sensors[si].id, seq, float(reports.send_s[i]), ms / 1000.0, when,
                float(msg["lon"]), float(msg["lat"]), float(msg["position_sd_m"]),  # type: ignore[arg-type]
                str(msg["class"]), float(msg["confidence"]), group or None,  # type: ignore[arg-type]
                actors[a].id if a >= 0 else None, payload,
            )
        )  # fmt: skip
    return out

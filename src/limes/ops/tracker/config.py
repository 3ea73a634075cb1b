"""The tracker's tunable numbers, in one dataclass with documented defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from limes.ops.detection import TargetClass

#: The classes a track can really be; a sensor may also declare "unknown".
HIDDEN_CLASSES: tuple[TargetClass, ...] = (
    TargetClass.PERSON,
    TargetClass.VEHICLE,
    TargetClass.ANIMAL,
)
#: The classes a detection can declare, in the column order of the confusion matrix.
DECLARED_CLASSES: tuple[TargetClass, ...] = (*HIDDEN_CLASSES, TargetClass.UNKNOWN)


def _default_confusion() -> dict[TargetClass, dict[TargetClass, float]]:
    # Rows: what the object really is; columns: what a fully confident sensor declares.
    # Persons and animals are confused more often than either with vehicles.
    return {
        TargetClass.PERSON: {
            TargetClass.PERSON: 0.80,
            TargetClass.VEHICLE: 0.03,
            TargetClass.ANIMAL: 0.12,
            TargetClass.UNKNOWN: 0.05,
        },
        TargetClass.VEHICLE: {
            TargetClass.PERSON: 0.03,
            TargetClass.VEHICLE: 0.90,
            TargetClass.ANIMAL: 0.02,
            TargetClass.UNKNOWN: 0.05,
        },
        TargetClass.ANIMAL: {
            TargetClass.PERSON: 0.15,
            TargetClass.VEHICLE: 0.02,
            TargetClass.ANIMAL: 0.78,
            TargetClass.UNKNOWN: 0.05,
        },
    }


@dataclass(frozen=True)
class SensorLaw:
    """What the tracker knows of one sensor's reports, from the scenario's sensor model.

    A *scanning* sensor (radar, a camera reporting every frame) looks at everything in its
    coverage each scan: `p_detect` is the probability a target in view is reported in one
    scan, `clutter_per_m2` the false reports per square metre per scan. An *event* sensor
    (a camera operator, a ground sensor, an observation post) reports when it happens to
    detect: `hazard_per_s` is its detection rate for a target in view (detections per
    second, `limes.sensing.detection_law`), and `clutter_per_m2` is then false reports per
    square metre per second.
    """

    p_detect: float = 0.9
    clutter_per_m2: float = 1e-6
    hazard_per_s: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.p_detect < 1.0:
            raise ValueError(f"p_detect must be in (0, 1), got {self.p_detect}")
        if not self.clutter_per_m2 > 0.0:
            raise ValueError(f"clutter_per_m2 must be positive, got {self.clutter_per_m2}")
        if self.hazard_per_s is not None and not self.hazard_per_s > 0.0:
            raise ValueError(f"hazard_per_s must be positive, got {self.hazard_per_s}")

    @property
    def event(self) -> bool:
        """Whether the sensor reports events (a rate) rather than scans (a probability)."""
        return self.hazard_per_s is not None

    def hit_log_ratio(self) -> float:
        """log(P(report | target) / clutter density), before the position likelihood."""
        rate = self.hazard_per_s if self.hazard_per_s is not None else self.p_detect
        return float(np.log(rate) - np.log(self.clutter_per_m2))

    def miss_log_ratio(self) -> float:
        """Score added when a scan that could have seen the track missed it (scans only)."""
        return 0.0 if self.event else float(np.log1p(-self.p_detect))


def _by_class(person: float, vehicle: float, animal: float) -> dict[TargetClass, float]:
    return {TargetClass.PERSON: person, TargetClass.VEHICLE: vehicle, TargetClass.ANIMAL: animal}


@dataclass(frozen=True)
class TrackerConfig:
    """Everything the tracker needs to know about targets, sensors and track management.

    Motion: nearly-constant velocity in the scenario's metric frame, white-noise acceleration
    with power spectral density `process_noise[class]` (m²/s³). A track's noise is the
    class-probability-weighted mean over the classes, so it sharpens as the class firms up.

    Initiation: one detection starts a tentative track at the detected position with zero
    velocity and a velocity variance of `initial_speed_sd[class]²` (m²/s²); the second
    detection then fixes the velocity (a Kalman update from a wide prior is the two-point
    difference, weighted by both positions' uncertainties).

    Existence (`existence = "score"`, the default): each track carries a sequential
    log-likelihood ratio (Blackman & Popoli, *Design and Analysis of Modern Tracking
    Systems*, 6.2), target against false reports, built from each report's sensor law
    (`sensors`, else `default_sensor`): a hit adds log(Pd · N(ν; S) / clutter density) for a
    scanning sensor and log(hazard · N(ν; S) / false-report density) for an event sensor; a
    scanning sensor that saw the track before and missed it adds log(1 − Pd); time without
    reports from event sensors that saw the track costs their hazard times the time. A
    track starts at `birth_score`, is confirmed once its score reaches
    log((1 − β) / α) (α = `false_track_probability`, β = `missed_track_probability`); a
    tentative track is deleted below log(β / (1 − α)), an established one once its score falls
    `delete_drop` below its peak. The time caps below apply only where set.

    Confirmation (`existence = "m_of_n"`): M-of-N over the track's *opportunities* (scans
    of a sensor that has seen the track before, or that hit it): `confirm_hits` hits within
    the last `confirm_window` opportunities confirm it; a tentative track that can no longer
    reach that is deleted.

    Deletion: a confirmed track that missed its latest opportunity is *coasting*; it is
    deleted after `max_missed` opportunities in a row without a hit, or after
    `young_max_missed` if it has fewer than `established_hits` hits (clutter that happened to
    confirm dies fast, a track with a history is kept through a fade). Any track is deleted
    `max_coast_s` after its last update, or once its predicted position standard deviation
    exceeds `max_position_sd_m`; a tentative track after `tentative_max_coast_s` without one.

    Scans and late data: detections wait `reorder_window_s` (event time) in a reorder buffer
    and are released in time order; those older than the last processed scan are rejected as
    too late. Released detections are cut into time bins of `scan_window_s`; inside a bin, each
    sensor's detections form one scan, processed in time order.
    """

    process_noise: dict[TargetClass, float] = field(
        default_factory=lambda: _by_class(person=0.01, vehicle=0.1, animal=0.05)
    )
    initial_speed_sd: dict[TargetClass, float] = field(
        default_factory=lambda: _by_class(person=2.0, vehicle=15.0, animal=4.0)
    )
    #: P(a detection of the track falls inside the gate); 2 degrees of freedom.
    gate_probability: float = 0.999
    existence: str = "score"
    sensors: dict[str, SensorLaw] = field(default_factory=dict)
    default_sensor: SensorLaw = field(default_factory=SensorLaw)
    false_track_probability: float = 1e-3
    missed_track_probability: float = 0.1
    birth_score: float = 0.0
    #: Whether a report's declared confidence adds its log-odds to the track score.
    use_confidence: bool = True
    delete_drop: float = 6.0
    confirm_hits: int = 2
    confirm_window: int = 3
    max_missed: int = 5
    young_max_missed: int = 2
    established_hits: int = 5
    #: Time caps (s) since a track's last update; None: 5 / 15 s with M-of-N, none with scores.
    tentative_max_coast_s: float | None = None
    max_coast_s: float | None = None
    max_position_sd_m: float = 2000.0
    reorder_window_s: float = 1.0
    scan_window_s: float = 0.5
    #: Rows: true class, columns: declared class (including unknown); rows are normalised.
    confusion: dict[TargetClass, dict[TargetClass, float]] = field(
        default_factory=_default_confusion
    )
    #: Per-scan probability that the class belief drifts back towards uniform, so that one
    #: wrong early declaration cannot lock a track's class for ever.
    class_mixing: float = 0.01
    #: Below this top class probability a track's reported class is "unknown".
    class_decision_threshold: float = 0.5
    #: Weight of the newest reported group size in the running group-size estimate.
    group_size_smoothing: float = 0.3
    #: Confirmed tracks are associated before tentative ones, so that clutter-born tentative
    #: tracks cannot steal detections from established tracks.
    confirmed_first: bool = True
    #: Whether `update` also returns tentative tracks (the live map may want to hide them).
    report_tentative: bool = True
    #: How new tracks are named after the partition prefix: "sequence" counts 1, 2, 3...;
    #: "detection" uses the initiating detection's key ("<sensor_id>:<seq>"), so replaying the
    #: same detections after a restart gives every track the id it had before.
    track_ids: str = "sequence"

    def __post_init__(self) -> None:
        if not 0.0 < self.gate_probability < 1.0:
            raise ValueError(f"gate_probability must be in (0, 1), got {self.gate_probability}")
        if not 1 <= self.confirm_hits <= self.confirm_window <= 32:
            raise ValueError(
                "need 1 <= confirm_hits <= confirm_window <= 32, got "
                f"{self.confirm_hits} of {self.confirm_window}"
            )
        for name in ("process_noise", "initial_speed_sd"):
            values = getattr(self, name)
            missing = [c.value for c in HIDDEN_CLASSES if c not in values]
            if missing:
                raise ValueError(f"{name} lacks classes {missing}")
            if any(values[c] < 0 for c in HIDDEN_CLASSES):
                raise ValueError(f"{name} must be non-negative")
        if not 1 <= self.young_max_missed <= self.max_missed:
            raise ValueError(
                f"need 1 <= young_max_missed <= max_missed, got {self.young_max_missed}, "
                f"{self.max_missed}"
            )
        for name in ("tentative_max_coast_s", "max_coast_s", "max_position_sd_m"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive")
        if self.existence not in ("score", "m_of_n"):
            raise ValueError(f"existence must be 'score' or 'm_of_n', got {self.existence!r}")
        for name in ("false_track_probability", "missed_track_probability"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise ValueError(f"{name} must be in (0, 0.5), got {getattr(self, name)}")
        if not self.delete_drop > 0:
            raise ValueError(f"delete_drop must be positive, got {self.delete_drop}")
        for name in ("reorder_window_s", "scan_window_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative")
        matrix = self.confusion_matrix()
        if np.any(matrix < 0) or np.any(matrix.sum(axis=1) <= 0):
            raise ValueError("confusion rows must be non-negative with a positive sum")
        if not 0.0 <= self.class_mixing < 1.0:
            raise ValueError(f"class_mixing must be in [0, 1), got {self.class_mixing}")
        if not 0.0 < self.group_size_smoothing <= 1.0:
            raise ValueError("group_size_smoothing must be in (0, 1]")
        if self.track_ids not in ("sequence", "detection"):
            raise ValueError(f"track_ids must be 'sequence' or 'detection', got {self.track_ids!r}")

    def sensor_law(self, sensor_id: str) -> SensorLaw:
        """The law of `sensor_id`'s reports (`default_sensor` for a sensor not listed)."""
        return self.sensors.get(sensor_id, self.default_sensor)

    @property
    def confirm_score(self) -> float:
        """Score at which a tentative track is confirmed: log((1 − β) / α)."""
        a, b = self.false_track_probability, self.missed_track_probability
        return float(np.log((1 - b) / a))

    @property
    def reject_score(self) -> float:
        """Score below which a tentative track is deleted: log(β / (1 − α))."""
        a, b = self.false_track_probability, self.missed_track_probability
        return float(np.log(b / (1 - a)))

    def coast_caps(self) -> tuple[float, float]:
        """(tentative, established) time caps in seconds, inf where there is none."""
        mofn = self.existence == "m_of_n"
        tent = self.tentative_max_coast_s
        est = self.max_coast_s
        return (
            tent if tent is not None else (5.0 if mofn else np.inf),
            est if est is not None else (15.0 if mofn else np.inf),
        )

    @property
    def gate_threshold(self) -> float:
        """The squared Mahalanobis distance inside which a detection may update a track.

        The χ² quantile with 2 degrees of freedom (position is 2-D), in closed form: its CDF
        is 1 − exp(−x/2), so the p-quantile is −2 ln(1 − p).
        """
        return -2.0 * math.log1p(-self.gate_probability)

    def process_noise_vector(self) -> NDArray[np.float64]:
        """Process noise per hidden class, in `HIDDEN_CLASSES` order."""
        return np.array([self.process_noise[c] for c in HIDDEN_CLASSES], dtype=float)

    def initial_velocity_var_vector(self) -> NDArray[np.float64]:
        """Initial velocity variance per hidden class, in `HIDDEN_CLASSES` order."""
        return np.array([self.initial_speed_sd[c] ** 2 for c in HIDDEN_CLASSES], dtype=float)

    def confusion_matrix(self) -> NDArray[np.float64]:
        """P(declared | true), hidden classes × declared classes, rows normalised."""
        rows = []
        for true in HIDDEN_CLASSES:
            row = self.confusion.get(true)
            if row is None:
                raise ValueError(f"confusion lacks a row for {true.value!r}")
            rows.append([float(row.get(declared, 0.0)) for declared in DECLARED_CLASSES])
        matrix = np.array(rows, dtype=float)
        sums = matrix.sum(axis=1, keepdims=True)
        return matrix / np.where(sums > 0, sums, 1.0)

"""Detection laws: how a sensor's detection hazard falls with range, and what it makes of time.

A law (`scenario.schema.DetectionLaw`) gives a hazard `h0 = hazard_per_s` (detections per second
of exposure) at the sensor and a range `R = range_m`. At range r the hazard is

    h(r) = h0 · f(r / R)   for r ≤ R,   0 beyond R,

with the fall-off f chosen by `falloff`:

    constant   f(u) = 1
    linear     f(u) = 1 − u
    quadratic  f(u) = 1 − u²

A target exposed for t seconds to a constant hazard h is detected with probability
1 − exp(−h·t) (a Poisson process of detection opportunities). Hazards of several sensors add.
A sensor with no law for a target class or light contributes nothing (a day camera at night).
The analysis, the simulator and the live pipeline all use these functions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from limes.scenario.schema import DetectionLaw, Light, Mode, SensorModel, TargetClassName

FloatArray = NDArray[np.float64]

FALLOFFS = ("constant", "linear", "quadratic")


def falloff(u: ArrayLike, kind: str) -> FloatArray:
    """The fall-off factor f(u) at relative range u = r / R: in [0, 1], zero for u > 1."""
    x = np.asarray(u, dtype=float)
    if kind == "constant":
        f = np.ones_like(x)
    elif kind == "linear":
        f = 1.0 - x
    elif kind == "quadratic":
        f = 1.0 - x * x
    else:
        raise ValueError(f"unknown fall-off {kind!r} (known: {', '.join(FALLOFFS)})")
    return np.where((x >= 0.0) & (x <= 1.0), f, 0.0)


def hazard_at(law: DetectionLaw, range_m: ArrayLike) -> FloatArray:
    """Detection hazard (per second) of one law at the given ranges in metres."""
    r = np.asarray(range_m, dtype=float)
    return law.hazard_per_s * falloff(r / law.range_m, law.falloff)


def report_rate(hazard_per_s: ArrayLike, interval_s: float) -> FloatArray:
    """Reports per second of one target from a sensor that reports at most once per interval.

    Each interval of `interval_s` brings a report when the hazard fires in it at least once,
    (1 − exp(−h·τ)) / τ: the hazard itself while h·τ ≪ 1, 1/τ at most. The simulator reports
    this way, so the tracker expects of a sensor exactly the reports it will get.
    """
    out: FloatArray = p_detect(hazard_per_s, interval_s) / interval_s
    return out


def p_detect(hazard_per_s: ArrayLike, exposure_s: ArrayLike) -> FloatArray:
    """Probability of at least one detection in `exposure_s` seconds at a constant hazard."""
    h = np.asarray(hazard_per_s, dtype=float)
    t = np.asarray(exposure_s, dtype=float)
    return -np.expm1(-h * t)


def target_class(mode: Mode) -> TargetClassName:
    """The target class sensors see an adversary of a given mode as."""
    return TargetClassName.PERSON if mode is Mode.FOOT else TargetClassName.VEHICLE


def law_for(model: SensorModel, cls: TargetClassName, light: Light) -> DetectionLaw | None:
    """The law a sensor model applies to one class in one light, or None when it is blind."""
    return model.laws.get(cls, {}).get(light)

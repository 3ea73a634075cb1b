"""How fast people and vehicles move over the ground: Tobler on foot, slope limits for vehicles.

Speeds are km/h, slopes are rise over run (tan of the slope angle). Foot speed follows Tobler's
hiking function, W(s) = 6·exp(−3.5·|s + 0.05|) km/h, rescaled so that flat ground (s = 0) gives
the scenario's `movement.foot_flat_kmh`. For a cell crossed in an unknown direction the analysis
uses the mean of walking up and down the cell's steepest slope (`foot_speed_isotropic_kmh`),
which is also exactly `foot_flat_kmh` on flat ground. Vehicles drive at the off-road speed,
slowed linearly with slope to `VehicleSlope.speed_at_max` of it at the maximum slope, and cannot
climb beyond that; on roads they drive at the road speed whatever the slope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from limes.scenario.schema import Movement

FloatArray = NDArray[np.float64]

# Tobler (1993): 6 km/h peak at a 5 % downhill grade, decaying 3.5 per unit of grade.
_TOBLER_DECAY = 3.5
_TOBLER_PEAK_GRADE = 0.05
KMH_TO_MPS = 1000.0 / 3600.0


@dataclass(frozen=True)
class VehicleSlope:
    """How slope slows a vehicle off road: fraction of the off-road speed left at the limit.

    The scenario sets it (`movement.vehicle_speed_at_max_slope`); `adversary_speed_kmh` builds
    it from there, so analysis and simulator slow vehicles alike.
    """

    speed_at_max: float = 0.5


def tobler_kmh(grade: ArrayLike, flat_kmh: float) -> FloatArray:
    """Walking speed on a signed grade (rise/run, + uphill), scaled so flat ground is `flat_kmh`."""
    s = np.asarray(grade, dtype=float)
    return flat_kmh * np.exp(-_TOBLER_DECAY * (np.abs(s + _TOBLER_PEAK_GRADE) - _TOBLER_PEAK_GRADE))


def foot_speed_isotropic_kmh(slope: ArrayLike, flat_kmh: float) -> FloatArray:
    """Walking speed over a cell of slope magnitude `slope`: the mean of uphill and downhill."""
    s = np.abs(np.asarray(slope, dtype=float))
    return 0.5 * (tobler_kmh(s, flat_kmh) + tobler_kmh(-s, flat_kmh))


def vehicle_speed_kmh(
    slope: ArrayLike,
    off_road_kmh: float,
    max_slope_deg: float,
    shape: VehicleSlope = VehicleSlope(),
) -> FloatArray:
    """Off-road vehicle speed on a slope magnitude (rise/run); 0 where too steep to climb."""
    deg = np.degrees(np.arctan(np.abs(np.asarray(slope, dtype=float))))
    frac = 1.0 - (1.0 - shape.speed_at_max) * deg / max_slope_deg
    return np.where(deg <= max_slope_deg, off_road_kmh * frac, 0.0)


def slope_magnitude(elevation: ArrayLike, cell_m: float) -> FloatArray:
    """Steepest slope (rise/run) of each cell from central differences; NaN stays NaN."""
    z = np.asarray(elevation, dtype=float)
    if min(z.shape) < 2:
        return np.zeros_like(z)
    gy, gx = np.gradient(z, cell_m)
    return np.asarray(np.hypot(gx, gy), dtype=float)


def pace_s_per_m(speed_kmh: ArrayLike) -> FloatArray:
    """Seconds per metre at a speed in km/h; infinite where the speed is zero (impassable)."""
    v = np.asarray(speed_kmh, dtype=float) * KMH_TO_MPS
    with np.errstate(divide="ignore"):
        return np.where(v > 0, 1.0 / np.where(v > 0, v, 1.0), np.inf)


def adversary_speed_kmh(
    mode: str,
    slope: ArrayLike,
    on_road: ArrayLike,
    movement: Movement,
    vehicle_slope: VehicleSlope | None = None,
) -> FloatArray:
    """An adversary's speed per cell by mode ("foot" or "vehicle"), slope and road cells."""
    road = np.asarray(on_road, dtype=bool)
    if vehicle_slope is None:
        vehicle_slope = VehicleSlope(movement.vehicle_speed_at_max_slope)
    if mode == "foot":
        return foot_speed_isotropic_kmh(slope, movement.foot_flat_kmh)
    if mode == "vehicle":
        off = vehicle_speed_kmh(
            slope, movement.vehicle_off_road_kmh, movement.vehicle_max_slope_deg, vehicle_slope
        )
        return np.where(road, movement.vehicle_road_kmh, off)
    raise ValueError(f"unknown adversary mode {mode!r}")

"""What an assessment produces: per-km P(interruption), worst paths and raster layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from limes.geo.grid import Grid
from limes.scenario.schema import Light, Mode


class Weakness(StrEnum):
    """Why a kilometre is weak, in the words a commander uses."""

    NOT_SEEN = "not seen"
    SEEN_TOO_LATE = "seen too late"
    TOO_FAST_TO_STOP = "too fast to stop"
    HELD = "held"


@dataclass(frozen=True)
class Raster:
    """One layer over a north-up grid in the scenario frame; NaN outside the analysed strip."""

    name: str
    units: str
    grid: Grid
    data: NDArray[np.float32]


@dataclass(frozen=True)
class CrossingPath:
    """An adversary's best crossing from one start, with the checks along it.

    `xy` are frame metres, `lonlat` WGS84; `time_s` the adversary's cumulative time to each vertex;
    `p_detect` the detection probability in each step, `p_timely` the chance a detection there
    is still in time. `p_interruption` is the exact EASI value along the path; `p_monte_carlo`
    and `mc_interval` the simulated estimate and its 95 % interval.
    """

    start_chainage_km: float
    xy: NDArray[np.float64]
    lonlat: NDArray[np.float64]
    time_s: NDArray[np.float64]
    p_detect: NDArray[np.float64]
    p_timely: NDArray[np.float64]
    p_interruption: float
    critical_index: int
    p_monte_carlo: float | None = None
    mc_interval: tuple[float, float] | None = None
    # Per step (cell) of the path, for re-checking it: mean seconds spent in the step, the sd of
    # its barrier delay, and the mean and spread of the response chosen there.
    step_time_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    delay_sd_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    response_mean_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    response_sd_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    p_detection: float = 0.0


@dataclass(frozen=True)
class KmResult:
    """The weakest crossing starting in one kilometre of chainage."""

    chainage_km: float
    p_interruption: float
    sector: str
    reason: Weakness
    p_detection: float
    coverage: float
    # Exact EASI along this km's best path (`p_interruption` is the field's 1 − exp(−cost)).
    p_easi: float | None = None
    crossing_time_s: float | None = None
    response_time_s: float | None = None


@dataclass(frozen=True)
class Run:
    """One adversary mode under one light condition."""

    mode: Mode
    light: Light
    per_km: list[KmResult]
    worst_paths: list[CrossingPath]
    rasters: dict[str, Raster] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    """Everything `limes assess` found for one scenario."""

    scenario: str
    resolution_m: float
    runs: list[Run]
    timings_s: dict[str, float] = field(default_factory=dict)
    output_cell_m: float | None = None
    cells: int = 0

    def run(self, mode: Mode, light: Light) -> Run:
        """The run for one mode and light; KeyError when it was not assessed."""
        for r in self.runs:
            if r.mode is mode and r.light is light:
                return r
        raise KeyError(f"no run for {mode.value} at {light.value}")

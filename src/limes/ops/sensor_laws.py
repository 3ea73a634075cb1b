"""The tracker's sensor laws, read from the scenario's sensor models through `limes.sensing`.

Every sensor of a scenario reports as an *event* sensor (a detection whenever its Poisson
hazard fires, `limes.sensing.detection_law`), so the tracker's law for it is:

- `hazard_per_s`: the rate at which it reports a target in view, averaged over its coverage
  (the disc of its range inside its field of view, each point weighted by area: ∫₀¹ ρ(u)·2u du
  with ρ(u) = `report_rate(h·f(u), τ)`, the hazard at that range saturated by the model's
  report interval τ, since one target is reported at most once an interval), and over the
  target classes and lights it describes;
- `clutter_per_m2`: its false reports per second (`false_alarm_per_h`, which the simulator
  draws uniformly over range and view, and so does the world in this model) divided by
  that coverage area, averaged the same way.

These are the same laws the plan's detection fields and the simulator's reports come from,
so what the tracker expects of a sensor is what the plan assumes and the exercise produces.
A sensor the scenario does not list is tracked with `TrackerConfig.default_sensor`.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from limes.ops.tracker.config import SensorLaw, TrackerConfig
from limes.scenario.model import Scenario
from limes.scenario.schema import DetectionLaw
from limes.sensing.coverage import sensor_places
from limes.sensing.detection_law import falloff, report_rate

_U = (np.arange(2000) + 0.5) / 2000.0  # midpoints of relative range for the area average


def mean_report_rate(law: DetectionLaw, interval_s: float) -> float:
    """Area-weighted mean report rate over the coverage disc: ∫₀¹ report_rate(h f(u)) 2u du."""
    rate = report_rate(law.hazard_per_s * falloff(_U, law.falloff), interval_s)
    return float(np.mean(rate * 2.0 * _U))


def _coverage_m2(law: DetectionLaw, fov_deg: float) -> float:
    return math.pi * law.range_m**2 * min(fov_deg, 360.0) / 360.0


def sensor_laws(scenario: Scenario) -> dict[str, SensorLaw]:
    """One tracker law per standing sensor of `scenario` (event sensors, see the module)."""
    out: dict[str, SensorLaw] = {}
    for place in sensor_places(scenario):
        laws = [law for law in place.laws.values() if law.hazard_per_s > 0]
        if not laws:
            continue
        hazard = float(np.mean([mean_report_rate(law, place.report_interval_s) for law in laws]))
        clutter = float(
            np.mean([
                law.false_alarm_per_h / 3600.0 / _coverage_m2(law, place.fov_deg) for law in laws
            ])
        )  # fmt: skip
        # A sensor with no false alarms at all still gets a floor: one a year over its area.
        floor = 1.0 / (365.0 * 86400.0) / max(_coverage_m2(law, place.fov_deg) for law in laws)
        out[place.id] = SensorLaw(hazard_per_s=hazard, clutter_per_m2=max(clutter, floor))
    return out


def with_scenario_laws(config: TrackerConfig, scenario: Scenario) -> TrackerConfig:
    """`config` with the scenario's sensor laws for the sensors it does not already list."""
    laws = sensor_laws(scenario)
    laws.update(config.sensors)
    return replace(config, sensors=laws)

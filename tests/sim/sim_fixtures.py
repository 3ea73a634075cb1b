"""A small border for exercise tests: 10 km of straight line, flat ground, two towers, one QRF."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario

# Invented positions and figures, for tests only.
LAW = {
    "range_m": 3000.0,
    "hazard_per_s": 0.02,
    "falloff": "quadratic",
    "false_alarm_per_h": 2.0,
    "position_sd_m": 20.0,
}
VEHICLE_LAW = {**LAW, "range_m": 5000.0, "hazard_per_s": 0.05}

SMALL: dict[str, Any] = {
    "name": "sim-small",
    "title": "Straight test border (invented positions)",
    "demonstration_note": "Every position and figure is invented for tests.",
    "border": {"line": [[41.0, 34.0], [41.11, 34.0]], "inside": "right"},
    "strip": {"outside_m": 2000.0, "inside_m": 2000.0, "max_sensor_distance_m": 10000.0},
    "terrain": {
        "synthetic": {"seed": 1, "roughness_m": 0.0, "octaves": 0},
        "resolution_m": 50.0,
    },
    "controllers": [{"name": "far", "channel": "liaison"}],
    "sectors": [
        {"name": "west", "command": "Command W", "far_side": "far", "from_km": 0, "to_km": 5},
        {"name": "east", "command": "Command E", "far_side": "far", "from_km": 5, "to_km": 10.1},
    ],
    "barriers": [
        {"id": "trench", "kind": "trench", "from_km": 0, "to_km": 10.1, "offset_m": 200,
         "delay": {"foot": {"mean_s": 240.0, "sd_s": 90.0}}},
    ],
    "sensor_models": [
        {"name": "tower", "kind": "thermal_camera", "mast_height_m": 15,
         "latency": {"mean_s": 3.0, "sd_s": 1.0},
         "laws": {"person": {"day": LAW, "night": LAW},
                  "vehicle": {"day": VEHICLE_LAW, "night": VEHICLE_LAW}}},
    ],
    "sensors": [
        {"id": "T1", "model": "tower", "position": {"chainage_km": 3.0, "offset_m": 500}},
        {"id": "T2", "model": "tower", "position": {"chainage_km": 7.0, "offset_m": 500}},
    ],
    "units": [
        {"id": "QRF", "kind": "qrf", "base": {"chainage_km": 5.0, "offset_m": 4000},
         "readiness": {"mean_s": 300.0, "sd_s": 60.0},
         "speeds": {"road_kmh": 60.0, "off_road_kmh": 30.0}},
    ],
    "threats": [
        {"name": "cell", "mode": "foot", "stance": "hostile", "speed_kmh": 5.0,
         "group_size": [2, 6], "light_preference": "night", "knowledge": "partial", "share": 3},
        {"name": "smugglers", "mode": "vehicle", "stance": "suspect", "speed_kmh": 30.0,
         "group_size": [1, 2], "knowledge": "none", "share": 1},
        {"name": "family", "mode": "foot", "stance": "humanitarian", "speed_kmh": 2.5,
         "group_size": [3, 8], "light_preference": "day", "share": 1},
        {"name": "herders", "mode": "foot", "stance": "nuisance", "speed_kmh": 2.0,
         "group_size": [1, 3], "light_preference": "day", "share": 1},
    ],
    "movement": {"foot_flat_kmh": 5.0, "vehicle_off_road_kmh": 30.0, "vehicle_road_kmh": 60.0},
    "response": {"alert_handling": {"mean_s": 60.0, "sd_s": 30.0}},
}  # fmt: skip


def small_data(**changes: Any) -> dict[str, Any]:
    """The small scenario as YAML would give it, with top-level fields replaced."""
    data = deepcopy(SMALL)
    data.update(deepcopy(changes))
    return data


def small_scenario(**changes: Any) -> Scenario:
    """The small scenario, loaded and checked."""
    return scenario_from_data(small_data(**changes))


def calibration_scenario() -> Scenario:
    """The small scenario with instant reports, so nothing but the plan's model is in play.

    Its quick-reaction force is slower to move than the exercise scenario's, so that a timely
    detection is a matter of chance and the plan's P spans weak, middling and strong km.
    """
    model = deepcopy(SMALL["sensor_models"][0])
    model["latency"] = {"mean_s": 0.0, "sd_s": 0.0}
    unit = deepcopy(SMALL["units"][0])
    unit["readiness"] = {"mean_s": 2700.0, "sd_s": 600.0}
    return small_scenario(sensor_models=[model], units=[unit])

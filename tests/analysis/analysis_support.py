"""Small scenarios and ground for the analysis tests (line of sight is the library's own)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limes.geo.grid import Grid
from limes.geo.terrain import Dem
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario

# A straight north-running line of ~11.1 km; inside is to the west (left walking north).
BASE: dict[str, Any] = {
    "name": "test-line",
    "title": "Test line",
    "border": {"line": [[42.0, 35.0], [42.0, 35.1]], "inside": "left"},
    "strip": {"outside_m": 1000.0, "inside_m": 1000.0},
    "terrain": {"synthetic": {"roughness_m": 0.0}},
    "controllers": [{"name": "far", "channel": "radio"}],
    "sectors": [
        {"name": "south", "command": "c", "far_side": "far", "from_km": 0.0, "to_km": 5.0},
        {"name": "north", "command": "c", "far_side": "far", "from_km": 5.0, "to_km": 11.0},
    ],
    "sensor_models": [
        {
            "name": "tower",
            "kind": "thermal_camera",
            "mast_height_m": 10.0,
            "laws": {
                "person": {
                    "night": {"range_m": 1500.0, "hazard_per_s": 0.02, "falloff": "linear"},
                    "day": {"range_m": 2000.0, "hazard_per_s": 0.03, "falloff": "linear"},
                },
                "vehicle": {"night": {"range_m": 2500.0, "hazard_per_s": 0.05}},
            },
        },
        {
            "name": "daycam",
            "kind": "day_camera",
            "mast_height_m": 10.0,
            "laws": {"person": {"day": {"range_m": 2000.0, "hazard_per_s": 0.05}}},
        },
    ],
    "response": {"alert_handling": {"mean_s": 60.0, "sd_s": 30.0}},
    "movement": {"foot_flat_kmh": 4.0},
}


def scenario(**changes: Any) -> Scenario:
    """The base scenario with top-level fields replaced."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return scenario_from_data(data)


def tower(sid: str, km: float, offset_m: float, model: str = "tower", **kw: Any) -> dict[str, Any]:
    return {"id": sid, "model": model, "position": {"chainage_km": km, "offset_m": offset_m}, **kw}


def unit(uid: str, km: float, offset_m: float, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": uid,
        "kind": "qrf",
        "base": {"chainage_km": km, "offset_m": offset_m},
        "readiness": {"mean_s": 120.0, "sd_s": 60.0},
        "speeds": {"off_road_kmh": 30.0},
    }
    out.update(kw)
    return out


def barrier(bid: str, km0: float, km1: float, offset_m: float = 0.0, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": bid,
        "kind": "fence",
        "from_km": km0,
        "to_km": km1,
        "offset_m": offset_m,
        "delay": {"foot": {"mean_s": 300.0, "sd_s": 60.0}},
    }
    out.update(kw)
    return out


@dataclass(frozen=True)
class Ground:
    """Terrain given by a function of frame x/y: resampled exactly onto any grid."""

    height: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]

    def resample(self, grid: Grid) -> Dem:
        x, y = grid.cell_centres()
        return Dem(grid, np.asarray(self.height(x, y), dtype=np.float32))


FLAT = Ground(lambda x, y: np.zeros_like(x))

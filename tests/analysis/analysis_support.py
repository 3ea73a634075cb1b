"""Small scenarios, ground and a brute-force line of sight for the analysis tests."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from limes.geo.grid import Grid
from limes.geo.terrain import Dem
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario

EARTH_RADIUS_M = 6_371_000.0

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


def brute_sight(
    dem: Dem,
    x: float,
    y: float,
    eye: float,
    target: float,
    range_m: float,
    cc: float,
    heading: float,
    fov: float,
) -> NDArray[np.bool_]:
    """Line of sight by marching every ray at a quarter cell (bilinear ground), with curvature."""
    gx, gy = dem.grid.cell_centres()
    d = np.hypot(gx - x, gy - y)
    z_eye = float(dem.sample(x, y)) + eye
    out = np.zeros(dem.grid.shape, dtype=bool)
    cand = np.flatnonzero(d.ravel() <= range_m)
    tx, ty, td = gx.ravel()[cand], gy.ravel()[cand], d.ravel()[cand]
    drop = cc / (2.0 * EARTH_RADIUS_M)
    z_t = dem.sample(tx, ty) + target - drop * td**2
    n = max(2, math.ceil(range_m / (dem.grid.cell_m / 4.0)))
    f = (np.arange(1, n) / n)[None, :]
    sx = x + f * (tx - x)[:, None]
    sy = y + f * (ty - y)[:, None]
    sd = f * td[:, None]
    zs = dem.sample(sx, sy) - drop * sd**2
    line = z_eye + f * (z_t - z_eye)[:, None]
    # Only samples strictly between the eye and the target's own cell can hide it.
    between = sd < (td[:, None] - dem.grid.cell_m / 2.0)
    hidden = np.any((zs > line) & between, axis=1)
    out.ravel()[cand] = ~hidden
    return out


def sight_under_test() -> Any:
    """The real line-of-sight kernel when it is present, else the brute-force stand-in."""
    try:
        import limes.sensing.line_of_sight  # noqa: F401
    except ImportError:
        return brute_sight
    return None

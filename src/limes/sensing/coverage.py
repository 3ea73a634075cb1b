"""Detection hazard over the ground: line of sight from each sensor combined with its laws.

For one target class and light, the hazard at a place is the sum over the sensors that see it
(line of sight to a target `target_height` above the ground, within the field of view, within
the law's range) of the law's hazard at that range (`sensing.detection_law`). Line of sight is
computed once per sensor and target class on a north-up window around the sensor, at the
analysis resolution, and then read (nearest cell) wherever the hazard is wanted; it does not
depend on the light, so day and night reuse it. Ground sensors (seismic, magnetic) need no line
of sight: their range disc is their coverage.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from limes.geo.grid import Grid
from limes.scenario.schema import BarrierStatus, DetectionLaw, Light, SensorKind, TargetClassName
from limes.sensing.detection_law import hazard_at, law_for

if TYPE_CHECKING:
    from limes.geo.terrain import Dem
    from limes.scenario.model import Scenario

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# sight(dem, x, y, eye_height_m, target_height_m, range_m, cc, heading_deg, fov_deg) -> visible
Sight = Callable[["Dem", float, float, float, float, float, float, float, float], BoolArray]


@dataclass(frozen=True)
class SensorPlace:
    """Where a sensor stands and how it looks, in the frame; `laws` by (class, light)."""

    id: str
    x: float
    y: float
    mast_height_m: float
    heading_deg: float
    fov_deg: float
    needs_sight: bool
    laws: dict[tuple[TargetClassName, Light], DetectionLaw]
    report_interval_s: float = 5.0

    def reach_m(self, cls: TargetClassName, lights: Iterable[Light]) -> float:
        """The longest range of its laws for a class over some lights (0 when blind)."""
        return max(
            (self.laws[cls, li].range_m for li in lights if (cls, li) in self.laws), default=0.0
        )


def sensor_places(scenario: Scenario) -> list[SensorPlace]:
    """The sensors that stand today (built), placed in the frame with their laws."""
    out = []
    for s in scenario.spec.sensors:
        if s.status is not BarrierStatus.BUILT:
            continue
        model = scenario.model_of(s)
        x, y = scenario.position_xy(s.position)
        laws = {
            (cls, light): law
            for cls in TargetClassName
            for light in Light
            if (law := law_for(model, cls, light)) is not None
        }
        out.append(
            SensorPlace(
                s.id,
                x,
                y,
                scenario.mast_height_m(s),
                s.heading_deg,
                scenario.fov_deg(s),
                model.kind is not SensorKind.GROUND_SENSOR,
                laws,
                model.report_interval_s,
            )
        )
    return out


def in_view(place: SensorPlace, x: FloatArray, y: FloatArray) -> BoolArray:
    """Whether points lie within the sensor's field of view (heading clockwise from grid north)."""
    if place.fov_deg >= 360.0:
        return np.ones(np.shape(x), dtype=bool)
    bearing = np.degrees(np.arctan2(x - place.x, y - place.y))
    diff = (bearing - place.heading_deg + 180.0) % 360.0 - 180.0
    at_sensor = (x == place.x) & (y == place.y)
    return (np.abs(diff) <= place.fov_deg / 2.0) | at_sensor


@dataclass(frozen=True)
class Visibility:
    """What one sensor sees of targets of one height: a window grid and its visible cells."""

    grid: Grid
    visible: BoolArray

    def at(self, x: FloatArray, y: FloatArray) -> BoolArray:
        """Visibility at frame points (nearest window cell); False off the window."""
        r, c = self.grid.rowcol(x, y)
        ri, ci = np.floor(r).astype(np.intp), np.floor(c).astype(np.intp)
        on = (ri >= 0) & (ri < self.grid.height) & (ci >= 0) & (ci < self.grid.width)
        out = np.zeros(np.shape(x), dtype=bool)
        out[on] = self.visible[ri[on], ci[on]]
        return out


def visibility(
    terrain: Dem,
    place: SensorPlace,
    target_height_m: float,
    range_m: float,
    cell_m: float,
    refraction_k: float,
    sight: Sight | None = None,
) -> Visibility:
    """Line of sight from a sensor to targets of a height, on a window of `range_m` around it."""
    # Window aligned to whole cells around the sensor, one cell of slack on each side.
    half = math.ceil(range_m / cell_m) + 1
    x0 = math.floor(place.x / cell_m) * cell_m - half * cell_m
    y0 = math.floor(place.y / cell_m) * cell_m - half * cell_m
    size = (2 * half + 1) * cell_m
    grid = Grid.north_up(x0, y0, x0 + size, y0 + size, cell_m)
    if not place.needs_sight:
        return Visibility(grid, np.ones(grid.shape, dtype=bool))
    dem = terrain.resample(grid)
    see = sight or default_sight()
    cc = 1.0 - refraction_k
    vis = see(
        dem,
        place.x,
        place.y,
        place.mast_height_m,
        target_height_m,
        range_m,
        cc,
        place.heading_deg,
        place.fov_deg,
    )
    return Visibility(grid, np.asarray(vis, dtype=bool))


def sensor_hazard(
    place: SensorPlace, law: DetectionLaw, vis: Visibility, x: FloatArray, y: FloatArray
) -> FloatArray:
    """One sensor's hazard (per s) at frame points: law at range where seen and in view."""
    r = np.hypot(x - place.x, y - place.y)
    near = r <= law.range_m
    h = np.zeros(np.shape(x))
    if not near.any():
        return h
    xs, ys = x[near], y[near]
    seen = vis.at(xs, ys) & in_view(place, xs, ys)
    h[near] = np.where(seen, hazard_at(law, r[near]), 0.0)
    return h


def hazard_field(
    scenario: Scenario,
    terrain: Dem,
    grid: Grid,
    cls: TargetClassName,
    light: Light,
    sight: Sight | None = None,
) -> FloatArray:
    """Total detection hazard (per s) at every cell of a grid for one class in one light."""
    x, y = grid.cell_centres()
    total = np.zeros(grid.shape)
    height = scenario.spec.response.target_heights_m.get(cls)
    if height is None:
        raise ValueError(f"response.target_heights_m has no height for {cls.value!r}")
    for place in sensor_places(scenario):
        law = place.laws.get((cls, light))
        if law is None:
            continue
        vis = visibility(
            terrain,
            place,
            height,
            law.range_m,
            grid.cell_m,
            scenario.spec.response.refraction_k,
            sight,
        )
        total += sensor_hazard(place, law, vis, x, y)
    return total


def default_sight() -> Sight:
    """The line-of-sight kernel of `sensing.line_of_sight`, adapted to the `Sight` signature."""
    from limes.sensing import line_of_sight as los

    def see(
        dem: Dem,
        x: float,
        y: float,
        eye: float,
        target: float,
        range_m: float,
        cc: float,
        heading: float,
        fov: float,
    ) -> BoolArray:
        obs = los.Observer(x, y, eye, range_m, fov_deg=fov, heading_deg=heading)
        window = los.viewshed(dem.elevation, dem.grid.transform, obs, los.Sightline(target, cc))
        return window.paste(dem.grid.shape)

    return see

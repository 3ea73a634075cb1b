"""The loaded scenario: the validated file plus its geometry in the local frame."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from limes.geo.border import BorderLine
from limes.geo.frame import Frame
from limes.scenario.schema import (
    Controller,
    Position,
    ScenarioSpec,
    Sector,
    Sensor,
    SensorModel,
    Unit,
)

if TYPE_CHECKING:
    from limes.geo.terrain import Dem


@dataclass
class Scenario:
    """One border: the spec as written, its frame, its line, and derived lookups.

    Everything downstream (analysis, simulator, live pipeline) reads this object; it holds no
    numbers of its own beyond what the file says.
    """

    spec: ScenarioSpec
    frame: Frame
    border: BorderLine
    base_dir: Path | None = None
    source: str | None = None
    _terrain: Dem | None = field(default=None, init=False, repr=False)

    # --- lookups ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def length_km(self) -> float:
        """Length of the border line in km (measured in the frame)."""
        return self.border.length_m / 1000.0

    @cached_property
    def controllers(self) -> Mapping[str, Controller]:
        return {c.name: c for c in self.spec.controllers}

    @cached_property
    def sensor_models(self) -> Mapping[str, SensorModel]:
        return {m.name: m for m in self.spec.sensor_models}

    @cached_property
    def sensors(self) -> Mapping[str, Sensor]:
        return {s.id: s for s in self.spec.sensors}

    @cached_property
    def units(self) -> Mapping[str, Unit]:
        return {u.id: u for u in self.spec.units}

    def model_of(self, sensor: Sensor) -> SensorModel:
        """The sensor model a sensor is an instance of."""
        return self.sensor_models[sensor.model]

    def mast_height_m(self, sensor: Sensor) -> float:
        """The sensor's own mast height, or its model's."""
        if sensor.mast_height_m is not None:
            return sensor.mast_height_m
        return self.model_of(sensor).mast_height_m

    def fov_deg(self, sensor: Sensor) -> float:
        """The sensor's own field of view, or its model's."""
        return sensor.fov_deg if sensor.fov_deg is not None else self.model_of(sensor).fov_deg

    # --- positions ----------------------------------------------------------------------------

    def position_xy(self, pos: Position) -> tuple[float, float]:
        """Frame x/y of a scenario position, whichever form it was written in."""
        if pos.lon is not None and pos.lat is not None:
            x, y = self.frame.to_xy(pos.lon, pos.lat)
        else:
            assert pos.chainage_km is not None
            x, y = self.border.point_at(pos.chainage_km * 1000.0, pos.offset_m or 0.0)
        return float(x), float(y)

    def position_lonlat(self, pos: Position) -> tuple[float, float]:
        """WGS84 lon/lat of a scenario position."""
        if pos.lon is not None and pos.lat is not None:
            return pos.lon, pos.lat
        lon, lat = self.frame.to_lonlat(*self.position_xy(pos))
        return float(lon), float(lat)

    def locate(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Chainage (m) and signed offset (m, + inside) of frame points."""
        return self.border.locate(x, y)

    # --- sectors ------------------------------------------------------------------------------

    @cached_property
    def _sector_starts_m(self) -> NDArray[np.float64]:
        return np.array([s.from_km * 1000.0 for s in self.spec.sectors])

    def sector_index(self, chainage_m: ArrayLike) -> NDArray[np.intp]:
        """Index into `spec.sectors` of the sector holding each chainage (clamped to the ends)."""
        s = np.asarray(chainage_m, dtype=float)
        idx = np.searchsorted(self._sector_starts_m, s, side="right") - 1
        return np.clip(idx, 0, len(self.spec.sectors) - 1)

    def sector_at(self, chainage_km: float) -> Sector:
        """The sector holding a chainage."""
        return self.spec.sectors[int(self.sector_index(chainage_km * 1000.0))]

    def channel_of(self, sector: Sector) -> str:
        """The coordination channel to the far side of a sector."""
        return sector.channel or self.controllers[sector.far_side].channel

    # --- areas --------------------------------------------------------------------------------

    def strip_polygon(
        self, outside_m: float | None = None, inside_m: float | None = None
    ) -> shapely.Polygon:
        """The analysed strip around the line, in the frame (flat-capped buffer)."""
        out = self.spec.strip.outside_m if outside_m is None else outside_m
        ins = self.spec.strip.inside_m if inside_m is None else inside_m
        line = self.border.line
        # Buffer each side separately so the strip can be asymmetric.
        left = line.buffer(
            out if not self.border.inside_left else ins, cap_style="flat", single_sided=True
        )
        right = line.buffer(
            -(ins if not self.border.inside_left else out), cap_style="flat", single_sided=True
        )
        return shapely.union(left, right)

    def area_lonlat(self, margin_m: float | None = None) -> shapely.Polygon:
        """The area of interest in lon/lat: the line buffered by the sensor distance limit."""
        d = self.spec.strip.max_sensor_distance_m if margin_m is None else margin_m
        poly = self.border.line.buffer(d)
        x, y = np.asarray(poly.exterior.coords).T
        lon, lat = self.frame.to_lonlat(x, y)
        return shapely.Polygon(np.column_stack([lon, lat]))

    # --- terrain ------------------------------------------------------------------------------

    def terrain(self) -> Dem:
        """The terrain over the area of interest, in the frame (built once, then cached)."""
        if self._terrain is None:
            from limes.scenario.terrain import build_terrain

            self._terrain = build_terrain(self)
        return self._terrain

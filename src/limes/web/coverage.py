"""Sensor coverage for the map: each sensor's range for a target class and light, clipped to its
field of view and, where it needs one, to its line of sight over the scenario terrain.

The same sensing model the analysis uses (`sensing.coverage`: sensor places, laws, field of
view, the line-of-sight kernel) on a window around each sensor at the map's coverage cell size;
the visible cells are traced into polygons and sent in lon/lat. Line of sight does not depend on
the light, so it is computed once per sensor and class and reused for day and night.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import rasterio.features
import shapely
from shapely.geometry import shape

from limes.scenario.model import Scenario
from limes.scenario.schema import Light, TargetClassName
from limes.sensing.coverage import Visibility, in_view, sensor_places, visibility


class CoverageLayers:
    """Coverage polygons per (class, light), computed on first use and cached."""

    def __init__(self, scenario: Scenario, cell_m: float | None = None) -> None:
        self.scenario = scenario
        # Coarser than the analysis: a map outline at 1:250 000 needs no finer cells.
        self.cell_m = cell_m or max(scenario.spec.terrain.resolution_m, 100.0)
        self._sight: dict[tuple[str, TargetClassName], Visibility] = {}
        self._layers: dict[tuple[TargetClassName, Light], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def geojson(self, cls: TargetClassName, light: Light) -> dict[str, Any]:
        """A FeatureCollection: one (Multi)Polygon per sensor with a law for `cls` in `light`."""
        with self._lock:
            found = self._layers.get((cls, light))
            if found is None:
                found = self._layers[cls, light] = self._build(cls, light)
            return found

    def _build(self, cls: TargetClassName, light: Light) -> dict[str, Any]:
        sc = self.scenario
        kinds = {s.id: sc.model_of(s).kind.value for s in sc.spec.sensors}
        height = sc.spec.response.target_heights_m.get(cls, 1.7)
        reach = {p.id: p.reach_m(cls, list(Light)) for p in sensor_places(sc)}
        terrain = sc.terrain() if any(p.needs_sight for p in sensor_places(sc)) else None
        features = []
        for place in sensor_places(sc):
            law = place.laws.get((cls, light))
            if law is None:
                continue
            key = (place.id, cls)
            vis = self._sight.get(key)
            if vis is None:
                assert terrain is not None or not place.needs_sight
                vis = visibility(
                    terrain,  # type: ignore[arg-type]  # unused for sensors without sight
                    place,
                    height,
                    reach[place.id],
                    self.cell_m,
                    sc.spec.response.refraction_k,
                )
                self._sight[key] = vis
            x, y = vis.grid.cell_centres()
            seen = (
                vis.visible
                & (np.hypot(x - place.x, y - place.y) <= law.range_m)
                & in_view(place, x, y)
            )
            if not seen.any():
                continue
            polys = [
                shape(geom)
                for geom, _ in rasterio.features.shapes(
                    seen.astype(np.uint8), mask=seen, connectivity=4, transform=vis.grid.transform
                )
            ]
            merged = shapely.simplify(shapely.union_all(polys), self.cell_m / 2)

            def to_lonlat(xy: Any) -> Any:
                lon, lat = sc.frame.to_lonlat(xy[:, 0], xy[:, 1])
                return np.round(np.column_stack([lon, lat]), 6)

            geom = shapely.transform(merged, to_lonlat)
            features.append(
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(geom),
                    "properties": {
                        "id": place.id,
                        "kind": kinds.get(place.id),
                        "range_m": law.range_m,
                        "class": cls.value,
                        "light": light.value,
                        "line_of_sight": place.needs_sight,
                    },
                }
            )
        return {"type": "FeatureCollection", "features": features}

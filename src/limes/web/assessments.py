"""Assessments for the planner view: the folders `limes assess` wrote, read back for the map.

An assessment folder holds summary.json, worst_paths.geojson, weak_stretches.geojson and one
GeoTIFF per run and layer (docs/assess-output.md). The map gets the summary with each km placed
on the line (lon/lat of its middle), the two GeoJSON layers, and per run the P(interruption)
layer as a heat image warped to Web Mercator with its lon/lat bounds (so it lies exactly on the
map's tiles).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.warp import Resampling, calculate_default_transform, reproject

from limes.analysis.summary_file import (
    AssessmentFileError,
    AssessmentSummary,
    load_assessment,
)
from limes.errors import WebError
from limes.scenario.model import Scenario
from limes.web.png import encode_png

# Heat colours by P(interruption): red where a crossing gets through, green where it is stopped.
_RAMP_P = np.array([0.0, 0.3, 0.5, 0.8, 1.0])
_RAMP_RGB = np.array(
    [[200, 20, 30], [240, 90, 30], [250, 200, 40], [120, 200, 80], [30, 150, 70]], dtype=float
)


class AssessmentError(WebError):
    """An assessment folder that cannot be served; the message names the file and why."""


@dataclass(frozen=True)
class Heat:
    """A run's P(interruption) as a Web Mercator PNG and its lon/lat bounds (W, S, E, N)."""

    png: bytes
    bounds: tuple[float, float, float, float]


def heat_rgba(p: NDArray[np.floating], alpha: int = 170) -> NDArray[np.uint8]:
    """RGBA of P values on the red–green ramp; NaN transparent."""
    known = np.isfinite(p)
    q = np.clip(np.nan_to_num(p), 0.0, 1.0)
    out = np.zeros((*p.shape, 4), dtype=np.uint8)
    for k in range(3):
        out[..., k] = np.interp(q, _RAMP_P, _RAMP_RGB[:, k]).astype(np.uint8)
    out[..., 3] = np.where(known, alpha, 0)
    return out


def heat_image(tif: Path, max_px: int = 2048) -> Heat:
    """Warp a P(interruption) GeoTIFF to Web Mercator (nearest cell) and colour it."""
    try:
        with rasterio.open(tif) as src:
            transform, width, height = calculate_default_transform(
                src.crs, "EPSG:3857", src.width, src.height, *src.bounds
            )
            scale = max(1.0, max(width, height) / max_px)
            width, height = math.ceil(width / scale), math.ceil(height / scale)
            transform = transform * transform.scale(scale, scale)
            out = np.full((height, width), np.nan, dtype=np.float32)
            reproject(
                rasterio.band(src, 1),
                out,
                dst_transform=transform,
                dst_crs="EPSG:3857",
                dst_nodata=np.nan,
                resampling=Resampling.nearest,
            )
    except rasterio.errors.RasterioIOError as exc:
        raise AssessmentError(f"{tif}: cannot read the P(interruption) layer ({exc})") from None
    west, north = transform * (0, 0)
    east, south = transform * (width, height)
    r = 6378137.0
    lon = (math.degrees(west / r), math.degrees(east / r))
    lat = tuple(math.degrees(2 * math.atan(math.exp(v / r)) - math.pi / 2) for v in (south, north))
    return Heat(encode_png(heat_rgba(out)), (lon[0], lat[0], lon[1], lat[1]))


class AssessmentStore:
    """The assessment folders the map may show, by name (the folder's name unless given)."""

    def __init__(self, scenario: Scenario | None, folders: dict[str, Path]) -> None:
        self.scenario = scenario
        self.folders = folders
        self._heat: dict[tuple[str, str], Heat] = {}
        self._lock = threading.Lock()
        for name, folder in folders.items():
            if not (folder / "summary.json").is_file():
                raise AssessmentError(f"assessment {name!r}: no summary.json in {folder}")

    def summary(self, name: str) -> AssessmentSummary:
        """An assessment's summary.json, through the file's one reader."""
        try:
            return load_assessment(self.folders[name])
        except AssessmentFileError as exc:
            raise AssessmentError(str(exc)) from None

    def _summary(self, name: str) -> dict[str, Any]:
        return self.summary(name).model_dump(mode="json")

    def _read(self, name: str, file: str) -> Any:
        path = self.folders[name] / file
        if not path.is_file():
            return {"type": "FeatureCollection", "features": []} if file.endswith("json") else None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AssessmentError(f"{path}: not readable JSON ({exc})") from None

    def listing(self) -> list[dict[str, Any]]:
        """Name, title and runs of every assessment."""
        out = []
        for name in self.folders:
            s = self._summary(name)
            runs = [f"{r['mode']}-{r['light']}" for r in s.get("runs", [])]
            out.append({"name": name, "title": s.get("title", name), "runs": runs})
        return out

    def document(self, name: str, base_url: str) -> dict[str, Any]:
        """What the planner view shows of one assessment (see `web/src/api.ts: Assessment`)."""
        s = self._summary(name)
        runs = []
        for run in s.get("runs", []):
            label = f"{run['mode']}-{run['light']}"
            per_km = [dict(k) for k in run.get("per_km", [])]
            self._place(per_km, float(s.get("length_km") or 0.0))
            has_heat = "p_interruption" in run.get("rasters", {})
            heat = None
            if has_heat:
                bounds = self.heat(name, label).bounds
                heat = {"url": f"{base_url}/{label}/heat.png", "bounds": list(bounds)}
            runs.append(
                {
                    "mode": run["mode"],
                    "light": run["light"],
                    "label": label,
                    "per_km": per_km,
                    "overall": run.get("overall", {}),
                    "heat": heat,
                }
            )
        return {
            "name": name,
            "title": s.get("title", name),
            "weak_below": s.get("weak_below", 0.5),
            "runs": runs,
            "worst_paths": self._read(name, "worst_paths.geojson"),
            "weak_stretches": self._read(name, "weak_stretches.geojson"),
        }

    def _place(self, per_km: list[dict[str, Any]], length_km: float) -> None:
        """Give each km record the lon/lat of its middle on the line."""
        sc = self.scenario
        if sc is None or not per_km:
            for k in per_km:
                k["lon"] = k["lat"] = None
            return
        end = sc.border.length_m
        mid = np.array([min(k["chainage_km"] * 1000.0 + 500.0, end) for k in per_km])
        x, y = sc.border.point_at(mid, 0.0)
        lon, lat = sc.frame.to_lonlat(x, y)
        for k, lo, la in zip(per_km, np.atleast_1d(lon), np.atleast_1d(lat), strict=True):
            k["lon"], k["lat"] = float(lo), float(la)

    def heat(self, name: str, run: str) -> Heat:
        """The heat image of one run (computed once)."""
        key = (name, run)
        with self._lock:
            found = self._heat.get(key)
        if found is None:
            found = heat_image(self.folders[name] / f"{run}-p_interruption.tif")
            with self._lock:
                self._heat[key] = found
        return found

"""The files `limes assess` leaves behind: summary.json, GeoJSON layers and GeoTIFF rasters.

Everything here reads the result records of `analysis.result` and the scenario, nothing of the
analysis internals. Vectors go out in WGS84 lon/lat (GeoJSON order), rasters in the scenario's
frame CRS with their own transform, so GIS tools overlay them without a reprojection step.

A km result stands for the kilometre of chainage that starts at its `chainage_km`; the length of
that piece is the spacing of the results (1 km), clipped to the end of the line.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import shapely
from numpy.typing import NDArray
from rasterio.crs import CRS as RioCRS
from shapely.geometry import shape
from shapely.ops import substring

from limes.analysis.explain import stretch_why
from limes.analysis.places import Gazetteer, latlon_ref, mgrs_ref
from limes.analysis.result import Assessment, CrossingPath, KmResult, Raster, Run, Weakness
from limes.scenario.model import Scenario

# "Weak" is a reporting convention: a crossing more likely to succeed than to be interrupted.
WEAK_BELOW = 0.5
# GeoJSON coordinates to 1e-7 degrees (~1 cm): finer is noise, coarser loses cell edges.
LONLAT_DECIMALS = 7


# --- digests of one run -----------------------------------------------------------------------


@dataclass(frozen=True)
class SectorStats:
    """How one sector fares in one run."""

    name: str
    command: str
    from_km: float
    to_km: float
    km: int
    worst_p: float | None
    worst_km: float | None
    mean_p: float | None
    km_below: int
    coverage_pct: float | None
    dominant_reason: Weakness | None


@dataclass(frozen=True)
class Stretch:
    """Contiguous km whose P(interruption) is below the weak threshold."""

    from_km: float
    to_km: float
    km: list[KmResult]

    @property
    def min_p(self) -> float:
        return min(k.p_interruption for k in self.km)

    @property
    def mean_p(self) -> float:
        return float(np.mean([k.p_interruption for k in self.km]))

    @property
    def dominant_reason(self) -> Weakness:
        return dominant_reason(self.km)

    @property
    def sectors(self) -> list[str]:
        return list(dict.fromkeys(k.sector for k in self.km))

    @property
    def length_km(self) -> float:
        return self.to_km - self.from_km

    @property
    def cost_km(self) -> float:
        """What the stretch costs the defence: its length × (1 − mean P), in km.

        A km the adversary crosses unhindered costs 1, a km held at P = 0.7 costs 0.3; so a
        114 km gap at P = 0 outranks a 2 km one at P = 0, and ties at P = 0 are decided by
        how much of the line is open, never by chainage order.
        """
        return self.length_km * (1.0 - self.mean_p)

    @property
    def reasons(self) -> dict[str, int]:
        """How many of its km are weak for each reason, most frequent first."""
        counts = Counter(k.reason.value for k in self.km)
        return dict(counts.most_common())

    def weakest(self) -> KmResult:
        """Its weakest km: lowest P, then the adversary's smallest time margin."""
        return min(self.km, key=km_rank_key)


def run_label(run: Run) -> str:
    """The short name of a run, as used in file names: `foot-night`."""
    return f"{run.mode.value}-{run.light.value}"


def km_step(per_km: Sequence[KmResult]) -> float:
    """Spacing of the km results (1 km unless the analysis chose otherwise)."""
    ch = np.sort([k.chainage_km for k in per_km])
    if len(ch) < 2:
        return 1.0
    return float(np.median(np.diff(ch)))


def dominant_reason(km: Iterable[KmResult]) -> Weakness:
    """The most frequent reason; ties go to the reason of the weakest km among them."""
    items = sorted(km, key=lambda k: k.p_interruption)
    counts = Counter(k.reason for k in items)
    top = max(counts.values())
    return next(k.reason for k in items if counts[k.reason] == top)


def time_margin_s(km: KmResult) -> float:
    """The adversary's time margin on a km's best path: crossing time − response time, s.

    Negative: the adversary is through before a unit sent at the likeliest detection could
    arrive. Infinite (last in a weakest-first order) when either time is unknown.
    """
    if km.crossing_time_s is None or km.response_time_s is None:
        return math.inf
    m = km.crossing_time_s - km.response_time_s
    return m if math.isfinite(m) else (-math.inf if math.isinf(km.response_time_s) else math.inf)


def km_rank_key(km: KmResult) -> tuple[float, float, float]:
    """Weakest first: lowest P, then the smallest time margin, then chainage."""
    return (km.p_interruption, time_margin_s(km), km.chainage_km)


def weakest_km(run: Run, n: int = 10) -> list[KmResult]:
    """The `n` km with the lowest P(interruption), weakest first.

    Ties (typically the many km at P = 0) are broken by the adversary's time margin, so the
    km where a response is furthest behind come first, not the first km of the line.
    """
    finite = [k for k in run.per_km if math.isfinite(k.p_interruption)]
    return sorted(finite, key=km_rank_key)[:n]


def sector_stats(run: Run, scenario: Scenario, weak_below: float = WEAK_BELOW) -> list[SectorStats]:
    """Worst and mean P, weak km and coverage for each sector, in the scenario's order.

    A km result names its sector; names the scenario does not know (a result from an older
    scenario file) still get a row, after the known ones.
    """
    groups: dict[str, list[KmResult]] = {s.name: [] for s in scenario.spec.sectors}
    for k in run.per_km:
        groups.setdefault(k.sector, []).append(k)
    spec = {s.name: s for s in scenario.spec.sectors}
    out = []
    for name, km in groups.items():
        p = np.array([k.p_interruption for k in km], dtype=float)
        ok = np.isfinite(p)
        cov = np.array([k.coverage for k in km], dtype=float)
        worst = int(np.argmin(np.where(ok, p, np.inf))) if ok.any() else None
        weak = [k for k in km if k.p_interruption < weak_below]
        sec = spec.get(name)
        out.append(
            SectorStats(
                name=name,
                command=sec.command if sec else "",
                from_km=sec.from_km if sec else min((k.chainage_km for k in km), default=0.0),
                to_km=sec.to_km if sec else max((k.chainage_km for k in km), default=0.0),
                km=len(km),
                worst_p=float(p[worst]) if worst is not None else None,
                worst_km=km[worst].chainage_km if worst is not None else None,
                mean_p=float(p[ok].mean()) if ok.any() else None,
                km_below=len(weak),
                coverage_pct=float(np.nanmean(cov) * 100) if np.isfinite(cov).any() else None,
                dominant_reason=dominant_reason(weak) if weak else None,
            )
        )
    return out


def weak_stretches(run: Run, scenario: Scenario, weak_below: float = WEAK_BELOW) -> list[Stretch]:
    """Runs of consecutive km below the threshold, with the chainage interval they cover."""
    return stretches_of(run.per_km, scenario.length_km, weak_below)


def ranked_stretches(run: Run, scenario: Scenario, weak_below: float = WEAK_BELOW) -> list[Stretch]:
    """The weak stretches, the costliest to the defence first (`Stretch.cost_km`)."""
    return rank_stretches(weak_stretches(run, scenario, weak_below))


def rank_stretches(stretches: Sequence[Stretch]) -> list[Stretch]:
    """Costliest first; equal cost: the lower minimum P, then the start of the line."""
    return sorted(stretches, key=lambda st: (-st.cost_km, st.min_p, st.from_km))


def stretches_of(
    per_km: Sequence[KmResult], length_km: float, weak_below: float = WEAK_BELOW
) -> list[Stretch]:
    """Runs of consecutive km below the threshold, in chainage order."""
    step = km_step(per_km)
    km = sorted(per_km, key=lambda k: k.chainage_km)
    out: list[Stretch] = []
    current: list[KmResult] = []
    for k in km:
        weak = k.p_interruption < weak_below
        # A gap in the results (a km the analysis skipped) ends a stretch too.
        adjacent = bool(current) and abs(k.chainage_km - current[-1].chainage_km - step) < 1e-6
        if weak and (not current or adjacent):
            current.append(k)
            continue
        if current:
            out.append(_stretch(current, step, length_km))
        current = [k] if weak else []
    if current:
        out.append(_stretch(current, step, length_km))
    return out


def _stretch(km: list[KmResult], step: float, length_km: float) -> Stretch:
    end = min(km[-1].chainage_km + step, length_km)
    return Stretch(km[0].chainage_km, max(end, km[0].chainage_km), list(km))


def stretch_record(
    st: Stretch, rank: int, run: Run, scenario: Scenario, gazetteer: Gazetteer
) -> dict[str, Any]:
    """A weak stretch as summary.json and the report's headline table give it."""
    mid = 0.5 * (st.from_km + st.to_km)
    lon, lat = gazetteer.point_on_line(mid)
    weakest = st.weakest()
    return {
        "rank": rank,
        "from_km": st.from_km,
        "to_km": st.to_km,
        "length_km": st.length_km,
        "cost_km": st.cost_km,
        "min_p": st.min_p,
        "mean_p": st.mean_p,
        "weakest_km": weakest.chainage_km,
        "dominant_reason": st.dominant_reason,
        "reasons": st.reasons,
        "why": stretch_why(scenario, run.mode, st.km),
        "sectors": st.sectors,
        "places": gazetteer.along(st.from_km, st.to_km),
        "middle_lonlat": [lon, lat],
        "middle_latlon": latlon_ref(lon, lat),
        "middle_mgrs": mgrs_ref(lon, lat),
    }


# --- JSON -------------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """A copy of nested data that `json.dumps(allow_nan=False)` accepts: NaN and ±inf → None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Weakness):
        return value.value
    return value


def write_json(data: Any, path: Path, indent: int | None = 1) -> Path:
    """Write strict JSON (no NaN), UTF-8; indented for people, or compact (`indent=None`)."""
    seps = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(
        json_safe(data), indent=indent, separators=seps, ensure_ascii=False, allow_nan=False
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def km_record(km: KmResult) -> dict[str, Any]:
    """Every field of a km result, the reason as its words (new fields follow automatically)."""
    out = {f.name: getattr(km, f.name) for f in fields(km)}
    out["reason"] = km.reason.value
    return out


def path_record(path: CrossingPath) -> dict[str, Any]:
    """A worst path's numbers (without its geometry) as summary.json and the report show them.

    The critical detection point is Garcia's: the last step where a detection is still more
    likely timely than not. Where no step is (`critical_index` −1), `timely_response` is false
    and the critical fields are null: no place on the path gives the response a fair chance.
    """
    i = path.critical_index
    has = i >= 0 and len(path.time_s) > i
    return {
        "start_chainage_km": path.start_chainage_km,
        "p_interruption": path.p_interruption,
        "p_monte_carlo": path.p_monte_carlo,
        "mc_interval": list(path.mc_interval) if path.mc_interval else None,
        "mc_agrees": mc_agrees(path),
        "time_to_goal_s": float(path.time_s[-1]) if len(path.time_s) else None,
        "timely_response": has,
        "critical_index": i if has else -1,
        "critical_lonlat": [float(v) for v in path.lonlat[i]] if has else None,
        "critical_time_s": float(path.time_s[i]) if has else None,
        "critical_p_detect": float(path.p_detect[i]) if has else None,
        "critical_p_timely": float(path.p_timely[i]) if has else None,
        "p_detection": path.p_detection,
        "vertices": len(path.xy),
    }


def mc_agrees(path: CrossingPath) -> bool | None:
    """Whether the exact EASI value lies inside the Monte Carlo 95 % interval (None: no check)."""
    if path.mc_interval is None:
        return None
    lo, hi = path.mc_interval
    return bool(lo <= path.p_interruption <= hi)


def summary(
    assessment: Assessment, scenario: Scenario, weak_below: float = WEAK_BELOW
) -> dict[str, Any]:
    """The content of summary.json (see docs/assess-output.md for every field)."""
    gazetteer = Gazetteer(scenario)
    runs = []
    for run in assessment.runs:
        p = np.array([k.p_interruption for k in run.per_km], dtype=float)
        ok = p[np.isfinite(p)]
        runs.append(
            {
                "mode": run.mode.value,
                "light": run.light.value,
                "per_km": [km_record(k) for k in run.per_km],
                "overall": {
                    "km": len(run.per_km),
                    "worst_p": float(ok.min()) if ok.size else None,
                    "mean_p": float(ok.mean()) if ok.size else None,
                    "km_below": int((p < weak_below).sum()),
                },
                "sectors": [
                    {
                        "name": s.name,
                        "command": s.command,
                        "from_km": s.from_km,
                        "to_km": s.to_km,
                        "km": s.km,
                        "worst_p": s.worst_p,
                        "worst_km": s.worst_km,
                        "mean_p": s.mean_p,
                        "km_below": s.km_below,
                        "coverage_pct": s.coverage_pct,
                        "dominant_reason": s.dominant_reason,
                    }
                    for s in sector_stats(run, scenario, weak_below)
                ],
                "weak_stretches": [
                    stretch_record(st, rank, run, scenario, gazetteer)
                    for rank, st in enumerate(ranked_stretches(run, scenario, weak_below), 1)
                ],
                "worst_paths": [path_record(wp) for wp in run.worst_paths],
                "rasters": {
                    name: {"file": f"{run_label(run)}-{name}.tif", "units": r.units}
                    for name, r in run.rasters.items()
                },
            }
        )
    return {
        "scenario": assessment.scenario,
        "title": scenario.spec.title,
        "resolution_m": assessment.resolution_m,
        "output_cell_m": assessment.output_cell_m,
        "cells": assessment.cells,
        "length_km": scenario.length_km,
        "weak_below": weak_below,
        "frame_crs": scenario.frame.crs.to_wkt(),
        "timings_s": dict(assessment.timings_s),
        "runs": runs,
    }


# --- GeoJSON ----------------------------------------------------------------------------------


def _feature(geometry: shapely.Geometry, properties: dict[str, Any]) -> dict[str, Any]:
    geom = shapely.transform(geometry, lambda c: np.round(c, LONLAT_DECIMALS))
    return {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(geom)),
        "properties": properties,
    }


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _to_lonlat(scenario: Scenario) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    def transform(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = scenario.frame.to_lonlat(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return transform


def worst_paths_geojson(assessment: Assessment) -> dict[str, Any]:
    """Each worst path as a LineString, and its critical detection point as a Point."""
    features = []
    for run in assessment.runs:
        for rank, path in enumerate(run.worst_paths, start=1):
            rec = path_record(path)
            lo, hi = path.mc_interval if path.mc_interval else (None, None)
            props = {
                "mode": run.mode.value,
                "light": run.light.value,
                "rank": rank,
                "start_chainage_km": path.start_chainage_km,
                "p_interruption": path.p_interruption,
                "p_easi": path.p_interruption,
                "p_monte_carlo": path.p_monte_carlo,
                "mc_low": lo,
                "mc_high": hi,
                "mc_agrees": rec["mc_agrees"],
                "time_to_goal_s": rec["time_to_goal_s"],
                "timely_response": rec["timely_response"],
                "critical_index": rec["critical_index"],
                "critical_lon": rec["critical_lonlat"][0] if rec["critical_lonlat"] else None,
                "critical_lat": rec["critical_lonlat"][1] if rec["critical_lonlat"] else None,
            }
            features.append(_feature(shapely.LineString(path.lonlat), {"kind": "path", **props}))
            # No point where no response can be timely: the goal is not a detection point.
            if rec["critical_lonlat"] is not None:
                point = shapely.Point(rec["critical_lonlat"])
                features.append(
                    _feature(
                        point,
                        {
                            "kind": "critical_point",
                            **props,
                            "time_s": rec["critical_time_s"],
                            "p_detect": rec["critical_p_detect"],
                            "p_timely": rec["critical_p_timely"],
                        },
                    )
                )
    return json_safe(_collection(features))


def weak_stretches_geojson(
    assessment: Assessment, scenario: Scenario, weak_below: float = WEAK_BELOW
) -> dict[str, Any]:
    """Each weak stretch as the piece of border line between its chainages."""
    to_lonlat = _to_lonlat(scenario)
    features = []
    for run in assessment.runs:
        for st in weak_stretches(run, scenario, weak_below):
            piece = substring(scenario.border.line, st.from_km * 1e3, st.to_km * 1e3)
            features.append(
                _feature(
                    shapely.transform(piece, to_lonlat),
                    {
                        "mode": run.mode.value,
                        "light": run.light.value,
                        "from_km": st.from_km,
                        "to_km": st.to_km,
                        "length_km": st.to_km - st.from_km,
                        "km": len(st.km),
                        "min_p": st.min_p,
                        "mean_p": st.mean_p,
                        "dominant_reason": st.dominant_reason.value,
                        "sectors": st.sectors,
                    },
                )
            )
    return json_safe(_collection(features))


def covered_polygons(raster: Raster) -> shapely.MultiPolygon:
    """The cells with hazard > 0 as polygons in the frame (4-connected regions)."""
    covered = np.isfinite(raster.data) & (raster.data > 0)
    if not covered.any():
        return shapely.MultiPolygon()
    shapes = rasterio.features.shapes(
        covered.astype(np.uint8), mask=covered, connectivity=4, transform=raster.grid.transform
    )
    polys = [shape(geom) for geom, _ in shapes]
    return shapely.MultiPolygon(polys)


def coverage_geojson(assessment: Assessment, scenario: Scenario) -> dict[str, Any]:
    """Per run, the area some sensor watches (hazard > 0), as one MultiPolygon feature."""
    to_lonlat = _to_lonlat(scenario)
    features = []
    for run in assessment.runs:
        hazard = run.rasters.get("hazard")
        if hazard is None:
            continue
        frame_polys = covered_polygons(hazard)
        cells = int((np.isfinite(hazard.data) & (hazard.data > 0)).sum())
        strip_cells = int(np.isfinite(hazard.data).sum())
        features.append(
            _feature(
                shapely.transform(frame_polys, to_lonlat),
                {
                    "mode": run.mode.value,
                    "light": run.light.value,
                    "polygons": len(frame_polys.geoms),
                    "cells": cells,
                    "area_km2": cells * hazard.grid.cell_m**2 / 1e6,
                    "strip_fraction": cells / strip_cells if strip_cells else None,
                },
            )
        )
    return json_safe(_collection(features))


# --- GeoTIFF ----------------------------------------------------------------------------------


def write_geotiff(
    raster: Raster, scenario: Scenario, path: Path, tags: Mapping[str, str] | None = None
) -> Path:
    """One float32 band, NaN nodata, deflate, in the frame CRS, with description and units."""
    data = np.asarray(raster.data, dtype=np.float32)
    if data.shape != raster.grid.shape:
        raise ValueError(
            f"raster {raster.name!r}: data shape {data.shape} does not match its grid "
            f"{raster.grid.shape}"
        )
    rows, cols = data.shape
    # Internal tiles only pay off once a raster is larger than one tile.
    tiled = rows >= 512 and cols >= 512
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": "float32",
        "crs": RioCRS.from_wkt(scenario.frame.crs.to_wkt()),
        "transform": raster.grid.transform,
        "nodata": float("nan"),
        "compress": "deflate",
        "predictor": 3,
        "tiled": tiled,
    }
    if tiled:
        profile.update(blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.set_band_description(1, raster.name)
        dst.set_band_unit(1, raster.units)
        dst.update_tags(1, layer=raster.name, units=raster.units)
        dst.update_tags(**(tags or {}))
    return path


# --- all of it --------------------------------------------------------------------------------


def write_outputs(
    assessment: Assessment,
    scenario: Scenario,
    out_dir: str | Path,
    weak_below: float = WEAK_BELOW,
) -> dict[str, Path]:
    """Write summary.json, the three GeoJSON layers and a GeoTIFF per run and layer.

    Returns the paths written, keyed by file name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def put(name: str, data: Any) -> None:
        # GeoJSON can hold large polygons: keep it compact; summary.json is read by people.
        indent = None if name.endswith(".geojson") else 1
        written[name] = write_json(data, out / name, indent)

    put("summary.json", summary(assessment, scenario, weak_below))
    put("worst_paths.geojson", worst_paths_geojson(assessment))
    put("weak_stretches.geojson", weak_stretches_geojson(assessment, scenario, weak_below))
    put("coverage.geojson", coverage_geojson(assessment, scenario))
    for run in assessment.runs:
        for name, raster in run.rasters.items():
            fname = f"{run_label(run)}-{name}.tif"
            written[fname] = write_geotiff(
                raster,
                scenario,
                out / fname,
                {
                    "scenario": assessment.scenario,
                    "mode": run.mode.value,
                    "light": run.light.value,
                    "resolution_m": f"{assessment.resolution_m:g}",
                },
            )
    return written

"""A scenario as map layers: one GeoJSON FeatureCollection, or a GeoPackage with one layer each.

Every feature carries a `layer` property (border, sector, stretch, barrier, sensor, unit, road,
place, controller) and the attributes of what it shows, in WGS84 lon/lat. Sectors, stretches
and barriers are the pieces of the line between their chainages (barriers at their offset);
a controller is the far-side piece of each sector it faces, drawn just outside the strip.
"""

from __future__ import annotations

import errno
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.ops import substring

from limes.scenario.model import Scenario

LAYERS = (
    "border",
    "sector",
    "stretch",
    "barrier",
    "sensor",
    "unit",
    "road",
    "place",
    "controller",
)

# Coordinates are written to 1e-6 degrees (~0.1 m): finer means nothing for a map.
_DECIMALS = 6


@dataclass(frozen=True)
class Feature:
    """One map feature: its layer, a lon/lat geometry and flat attributes."""

    layer: str
    geometry: shapely.Geometry
    properties: dict[str, Any]


def scenario_features(sc: Scenario) -> list[Feature]:
    """Every feature of every layer, in layer order."""
    return [
        *_border(sc),
        *_sectors(sc),
        *_stretches(sc),
        *_barriers(sc),
        *_sensors(sc),
        *_units(sc),
        *_roads(sc),
        *_places(sc),
        *_controllers(sc),
    ]


def export_geojson(sc: Scenario, path: str | Path) -> int:
    """Write the scenario as one GeoJSON FeatureCollection (WGS84); returns the feature count."""
    features = scenario_features(sc)
    doc = {
        "type": "FeatureCollection",
        "name": sc.name,
        "features": [
            {
                "type": "Feature",
                "geometry": _geojson_geometry(f.geometry),
                "properties": {"layer": f.layer, **f.properties},
            }
            for f in features
        ],
    }
    Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(features)


def export_gpkg(sc: Scenario, path: str | Path) -> dict[str, int]:
    """Write the scenario as a GeoPackage, one layer per `layer` value; returns counts per layer.

    Layers with no features are left out. List attributes are written as comma-separated text.
    An existing file is replaced.
    """
    from pyogrio.errors import DataLayerError, DataSourceError
    from pyogrio.raw import write

    out = Path(path)
    if not out.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(out.parent))
    if out.exists():
        out.unlink()
    by_layer: dict[str, list[Feature]] = {}
    for f in scenario_features(sc):
        by_layer.setdefault(f.layer, []).append(f)
    counts: dict[str, int] = {}
    for layer in LAYERS:
        feats = by_layer.get(layer)
        if not feats:
            continue
        names = list(dict.fromkeys(k for f in feats for k in f.properties))
        columns = [_column([f.properties.get(k) for f in feats]) for k in names]
        geoms = [f.geometry for f in feats]
        try:
            write(
                str(out),
                shapely.to_wkb(np.array(geoms, dtype=object)),
                columns,
                names,
                layer=layer,
                driver="GPKG",
                geometry_type=_geometry_type(geoms),
                crs="EPSG:4326",
                append=bool(counts),
            )
        except (DataSourceError, DataLayerError) as exc:
            raise OSError(errno.EIO, f"cannot write the GeoPackage ({exc})", str(out)) from None
        counts[layer] = len(feats)
    return counts


# --- layers ---------------------------------------------------------------------------------


def _border(sc: Scenario) -> list[Feature]:
    b = sc.spec.border
    props = {
        "name": b.name,
        "length_km": round(sc.length_km, 3),
        "inside": b.inside.value,
        "inside_name": b.inside_name,
        "outside_name": b.outside_name,
    }
    return [Feature("border", _to_lonlat(sc, sc.border.line), props)]


def _sectors(sc: Scenario) -> list[Feature]:
    return [
        Feature(
            "sector",
            _piece(sc, s.from_km, s.to_km),
            {
                "name": s.name,
                "command": s.command,
                "force": s.force,
                "from_km": s.from_km,
                "to_km": s.to_km,
                "far_side": s.far_side,
                "channel": sc.channel_of(s),
            },
        )
        for s in sc.spec.sectors
    ]


def _stretches(sc: Scenario) -> list[Feature]:
    return [
        Feature(
            "stretch",
            _piece(sc, s.from_km, s.to_km),
            {"name": s.name, "from_km": s.from_km, "to_km": s.to_km, "note": s.note.strip()},
        )
        for s in sc.spec.stretches
    ]


def _barriers(sc: Scenario) -> list[Feature]:
    out = []
    for b in sc.spec.barriers:
        props: dict[str, Any] = {
            "id": b.id,
            "kind": b.kind.value,
            "status": b.status.value,
            "progress_pct": b.progress_pct,
            "from_km": b.from_km,
            "to_km": b.to_km,
            "offset_m": b.offset_m,
            "blocks_vehicles": b.blocks_vehicles,
        }
        for mode, spread in sorted(b.delay.items(), key=lambda kv: kv[0].value):
            props[f"delay_{mode.value}_mean_s"] = spread.mean_s
            props[f"delay_{mode.value}_sd_s"] = spread.sd_s
        props["breach_mean_s"] = b.breach.mean_s if b.breach else None
        props["breach_sd_s"] = b.breach.sd_s if b.breach else None
        props["note"] = b.note
        out.append(Feature("barrier", _piece(sc, b.from_km, b.to_km, b.offset_m), props))
    return out


def _sensors(sc: Scenario) -> list[Feature]:
    out = []
    for s in sc.spec.sensors:
        x, y = sc.position_xy(s.position)
        chainage, offset = sc.locate(x, y)
        model = sc.model_of(s) if s.model in sc.sensor_models else None
        props = {
            "id": s.id,
            "kind": model.kind.value if model else None,
            "model": s.model,
            "mast_height_m": sc.mast_height_m(s) if model else s.mast_height_m,
            "heading_deg": s.heading_deg,
            "fov_deg": sc.fov_deg(s) if model else s.fov_deg,
            "owner_unit": s.owner_unit,
            "status": s.status.value,
            "chainage_km": round(float(chainage) / 1000.0, 3),
            "offset_m": round(float(offset), 1),
            "sector": sc.sector_at(float(chainage) / 1000.0).name,
            "label": s.label,
        }
        out.append(Feature("sensor", shapely.Point(sc.position_lonlat(s.position)), props))
    return out


def _units(sc: Scenario) -> list[Feature]:
    return [
        Feature(
            "unit",
            shapely.Point(sc.position_lonlat(u.base)),
            {
                "id": u.id,
                "kind": u.kind.value,
                "readiness_mean_s": u.readiness.mean_s,
                "readiness_sd_s": u.readiness.sd_s,
                "road_kmh": u.speeds.road_kmh,
                "off_road_kmh": u.speeds.off_road_kmh,
                "air_kmh": u.speeds.air_kmh,
                "available": u.available,
                "strength": u.strength,
                "label": u.label,
            },
        )
        for u in sc.spec.units
    ]


def _roads(sc: Scenario) -> list[Feature]:
    return [
        Feature("road", shapely.LineString(r.path), {"name": r.name, "kind": r.kind.value})
        for r in sc.spec.roads
    ]


def _places(sc: Scenario) -> list[Feature]:
    return [
        Feature(
            "place",
            shapely.Point(p.lon, p.lat),
            {"name": p.name, "side": p.side, "kind": p.kind},
        )
        for p in sc.spec.places
    ]


def _controllers(sc: Scenario) -> list[Feature]:
    """Each controller along the far side of each sector it faces, just beyond the strip."""
    out = []
    offset = -sc.spec.strip.outside_m
    for c in sc.spec.controllers:
        faced = [s for s in sc.spec.sectors if s.far_side == c.name]
        base: dict[str, Any] = {
            "name": c.name,
            "description": c.description,
            "channel": c.channel,
            "releasability": ", ".join(c.releasability),
        }
        if not faced:
            # Faces no sector: nowhere to draw it; keep the record with an empty geometry.
            props = {**base, "sector": None, "from_km": None, "to_km": None}
            out.append(Feature("controller", shapely.LineString(), props))
        for s in faced:
            props = {**base, "sector": s.name, "from_km": s.from_km, "to_km": s.to_km}
            out.append(Feature("controller", _piece(sc, s.from_km, s.to_km, offset), props))
    return out


# --- geometry -------------------------------------------------------------------------------


def _piece(sc: Scenario, from_km: float, to_km: float, offset_m: float = 0.0) -> shapely.Geometry:
    """The line between two chainages, shifted by a signed offset (+ inside), in lon/lat."""
    length = sc.border.length_m
    part = substring(sc.border.line, min(from_km * 1000, length), min(to_km * 1000, length))
    if offset_m:
        # shapely offsets to the left for positive distances; ours are positive inside.
        side = 1.0 if sc.border.inside_left else -1.0
        part = shapely.offset_curve(part, side * offset_m, join_style="mitre", mitre_limit=4.0)
    return _to_lonlat(sc, part)


def _to_lonlat(sc: Scenario, geom: shapely.Geometry) -> shapely.Geometry:
    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = sc.frame.to_lonlat(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, project)


def _geojson_geometry(geom: shapely.Geometry) -> Any:
    if geom.is_empty:
        return None
    rounded = shapely.transform(geom, lambda xy: np.round(xy, _DECIMALS))
    return json.loads(shapely.to_geojson(rounded))


def _geometry_type(geoms: list[shapely.Geometry]) -> str:
    kinds = {g.geom_type for g in geoms if not g.is_empty}
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {"LineString", "MultiLineString"}:
        return "MultiLineString"
    return "Unknown"


def _column(values: list[Any]) -> np.ndarray:
    """A typed column for OGR: bool, int, float (None → NaN) or text (None stays null)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present) and len(present) == len(values):
        return np.array(values, dtype=bool)
    if (
        present
        and all(isinstance(v, int) and not isinstance(v, bool) for v in present)
        and len(present) == len(values)
    ):
        return np.array(values, dtype=np.int64)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array([None if v is None else str(v) for v in values], dtype=object)

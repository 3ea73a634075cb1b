"""Export round trips: GeoJSON and GeoPackage read back with every layer, count and attribute."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
from pyogrio.raw import read

from limes.scenario.export import LAYERS, export_geojson, export_gpkg
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario


def expected_counts(sc: Scenario) -> dict[str, int]:
    spec = sc.spec
    return {
        "border": 1,
        "sector": len(spec.sectors),
        "stretch": len(spec.stretches),
        "barrier": len(spec.barriers),
        "sensor": len(spec.sensors),
        "unit": len(spec.units),
        "road": len(spec.roads),
        "place": len(spec.places),
        # One piece per sector faced, or one record for a controller facing none.
        "controller": sum(
            max(1, sum(s.far_side == c.name for s in spec.sectors)) for c in spec.controllers
        ),
    }


@pytest.fixture(scope="module")
def geojson(tmp_path_factory: pytest.TempPathFactory, iraq_syria: Scenario) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("export") / "iraq-syria.geojson"
    n = export_geojson(iraq_syria, path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert n == len(doc["features"])
    return doc


def test_geojson_has_one_feature_per_thing_in_each_layer(
    geojson: dict[str, Any], iraq_syria: Scenario
) -> None:
    counts = Counter(f["properties"]["layer"] for f in geojson["features"])
    assert counts == expected_counts(iraq_syria)
    assert geojson["type"] == "FeatureCollection"


def test_geojson_attributes_are_those_of_the_scenario(
    geojson: dict[str, Any], iraq_syria: Scenario
) -> None:
    by: dict[str, dict[str, dict[str, Any]]] = {}
    for f in geojson["features"]:
        props = f["properties"]
        by.setdefault(props["layer"], {})[props.get("id") or props["name"]] = props
    sec = by["sector"]["Anbar (al-Qaim)"]
    assert (sec["command"], sec["from_km"], sec["to_km"]) == ("Anbar Operations Command", 346, 530)
    assert sec["far_side"] == "Syrian army" and "quadrilateral" in sec["channel"]
    bar = by["barrier"]["n-trench-3"]
    assert (bar["kind"], bar["status"], bar["progress_pct"]) == ("trench", "under_construction", 60)
    assert bar["offset_m"] == 300 and bar["blocks_vehicles"] is True
    assert bar["delay_foot_mean_s"] == 150 and bar["breach_mean_s"] == 1200
    th = by["sensor"]["th-nv-01"]
    assert (th["kind"], th["model"], th["mast_height_m"]) == (
        "thermal_camera",
        "tower thermal camera",
        15,
    )
    assert (th["heading_deg"], th["fov_deg"], th["sector"]) == (319, 60, "Nineveh")
    helo = by["unit"]["an-helo"]
    assert (helo["kind"], helo["readiness_mean_s"], helo["air_kmh"]) == ("helicopter", 1800, 200)
    assert by["place"]["al-Tanf"]["side"] == "outside"
    assert by["border"]["Iraq–Syria border"]["length_km"] == pytest.approx(iraq_syria.length_km)


def _locate_lonlat(sc: Scenario, coords: Any) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(coords, dtype=float)
    s, off = sc.locate(*sc.frame.to_xy(arr[:, 0], arr[:, 1]))
    return s / 1000.0, off


def test_pieces_of_the_line_sit_between_their_chainages(
    geojson: dict[str, Any], iraq_syria: Scenario
) -> None:
    for f in geojson["features"]:
        props = f["properties"]
        if props["layer"] not in {"sector", "barrier", "controller"}:
            continue
        coords = np.asarray(f["geometry"]["coordinates"])
        s, _ = _locate_lonlat(iraq_syria, coords)
        # 5 km out on the inner side of a sharp corner (al-Qaim turns ~40°) the offset
        # curve loses up to a few km at its ends; on the line itself nothing is lost.
        tol = 5.0 if props["layer"] == "controller" else 0.01
        assert s[0] == pytest.approx(props["from_km"], abs=tol)
        assert s[-1] == pytest.approx(min(props["to_km"], iraq_syria.length_km), abs=tol)
        # Mid-segment points (in the frame, where segments are straight) keep the offset
        # exactly; mitred corners stand farther out.
        x, y = iraq_syria.frame.to_xy(coords[:, 0], coords[:, 1])
        _, off = iraq_syria.locate((x[1:] + x[:-1]) / 2, (y[1:] + y[:-1]) / 2)
        expected = {
            "sector": 0.0,
            "barrier": props.get("offset_m"),
            "controller": -iraq_syria.spec.strip.outside_m,
        }[props["layer"]]
        assert np.allclose(off, expected, atol=1.0), props


def test_gpkg_reads_back_layer_by_layer(tmp_path: Path, iraq_syria: Scenario) -> None:
    path = tmp_path / "iraq-syria.gpkg"
    counts = export_gpkg(iraq_syria, path)
    assert counts == expected_counts(iraq_syria)
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert set(layers) == set(LAYERS)
    assert layers["sensor"] == "Point" and layers["barrier"] == "LineString"
    for layer, n in counts.items():
        meta, _fids, geometry, fields = read(path, layer=layer)
        assert len(geometry) == n
        assert "EPSG:4326" in (meta["crs"] or "")
    meta, _, _, fields = read(path, layer="barrier")
    cols = dict(zip(meta["fields"], fields, strict=True))
    i = list(cols["id"]).index("q-wall-1")
    assert (cols["kind"][i], cols["status"][i], cols["progress_pct"][i]) == (
        "wall",
        "under_construction",
        75.0,
    )
    assert np.isnan(cols["progress_pct"][list(cols["id"]).index("n-trench-1")])
    meta, _, _, fields = read(path, layer="controller")
    cols = dict(zip(meta["fields"], fields, strict=True))
    assert set(cols["name"]) == {"SDF", "Syrian army", "al-Tanf opposition"}
    assert "coalition" in set(cols["releasability"])


def test_gpkg_replaces_an_existing_file(tmp_path: Path, example_file: Path) -> None:
    sc = load_scenario(example_file)
    path = tmp_path / "x.gpkg"
    first = export_gpkg(sc, path)
    assert export_gpkg(sc, path) == first
    assert len(read(path, layer="sensor")[2]) == len(sc.spec.sensors)

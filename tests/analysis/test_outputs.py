"""The files `limes assess` writes, read back and checked against the records they came from."""

from __future__ import annotations

import functools
import json
import math
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
from assess_fixtures import foot_night_p, make_assessment, make_rasters, make_scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from limes.analysis.outputs import (
    dominant_reason,
    json_safe,
    sector_stats,
    weak_stretches,
    write_geotiff,
    write_outputs,
)
from limes.analysis.result import Assessment, KmResult, Raster, Run, Weakness
from limes.geo.grid import Grid
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario()


@pytest.fixture(scope="module")
def assessment(scenario: Scenario) -> Assessment:
    return make_assessment(scenario)


@pytest.fixture(scope="module")
def written(
    assessment: Assessment, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    return write_outputs(assessment, scenario, tmp_path_factory.mktemp("out"))


def strict_json(path: Path) -> Any:
    """Parse JSON, refusing NaN and Infinity (which json.loads would otherwise accept)."""

    def refuse(token: str) -> None:
        raise AssertionError(f"{path.name} holds {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


# --- the set of files -------------------------------------------------------------------------


def test_every_file_is_written_and_listed(written: dict[str, Path]) -> None:
    expected = {"summary.json", "worst_paths.geojson", "weak_stretches.geojson", "coverage.geojson"}
    for run in ("foot-night", "vehicle-day"):
        for layer in ("hazard", "response_time_s", "time_to_goal_s", "p_interruption"):
            expected.add(f"{run}-{layer}.tif")
    assert set(written) == expected
    for name, path in written.items():
        assert path.name == name and path.is_file() and path.stat().st_size > 0


# --- summary.json -----------------------------------------------------------------------------


def test_summary_holds_every_km_of_every_run(
    written: dict[str, Path], assessment: Assessment
) -> None:
    doc = strict_json(written["summary.json"])
    assert doc["scenario"] == "testline"
    assert doc["resolution_m"] == assessment.resolution_m
    assert doc["timings_s"] == assessment.timings_s
    assert doc["output_cell_m"] == assessment.output_cell_m and doc["cells"] == 1234
    assert [(r["mode"], r["light"]) for r in doc["runs"]] == [("foot", "night"), ("vehicle", "day")]
    for run_doc, run in zip(doc["runs"], assessment.runs, strict=True):
        assert len(run_doc["per_km"]) == len(run.per_km)
        for row, km in zip(run_doc["per_km"], run.per_km, strict=True):
            assert set(row) >= {"chainage_km", "p_interruption", "sector", "reason"}
            assert row["chainage_km"] == km.chainage_km
            assert row["p_interruption"] == km.p_interruption
            assert row["sector"] == km.sector
            assert row["reason"] == km.reason.value and isinstance(row["reason"], str)
            assert isinstance(row["p_detection"], float) and isinstance(row["coverage"], float)
            assert row["p_easi"] == km.p_easi
            assert row["crossing_time_s"] == km.crossing_time_s
            assert row["response_time_s"] == km.response_time_s


def test_summary_sector_stats_match_a_direct_count(
    written: dict[str, Path], scenario: Scenario
) -> None:
    doc = strict_json(written["summary.json"])
    p = foot_night_p(len(doc["runs"][0]["per_km"]))
    km = np.arange(len(p))
    for row, sec in zip(doc["runs"][0]["sectors"], scenario.spec.sectors, strict=True):
        # A km belongs to the sector holding its middle.
        mine = (km + 0.5 >= sec.from_km) & (km + 0.5 < sec.to_km)
        if sec is scenario.spec.sectors[-1]:
            mine |= km + 0.5 >= sec.to_km
        assert row["name"] == sec.name
        assert row["km"] == int(mine.sum())
        assert row["worst_p"] == pytest.approx(p[mine].min())
        assert row["worst_km"] == float(km[mine][np.argmin(p[mine])])
        assert row["mean_p"] == pytest.approx(p[mine].mean())
        assert row["km_below"] == int((p[mine] < 0.5).sum())
        assert row["coverage_pct"] == pytest.approx(100 * np.minimum(1, p[mine] + 0.05).mean())
    assert doc["runs"][0]["overall"]["km_below"] == int((p < 0.5).sum())


def test_summary_worst_paths_carry_easi_and_monte_carlo(
    written: dict[str, Path], assessment: Assessment
) -> None:
    doc = strict_json(written["summary.json"])
    rows = doc["runs"][0]["worst_paths"]
    paths = assessment.runs[0].worst_paths
    assert len(rows) == len(paths) == 3
    for row, path in zip(rows, paths, strict=True):
        assert row["p_interruption"] == path.p_interruption
        assert row["p_monte_carlo"] == path.p_monte_carlo
        assert row["time_to_goal_s"] == pytest.approx(path.time_s[-1])
        assert row["critical_lonlat"] == pytest.approx(list(path.lonlat[path.critical_index]))
    assert rows[0]["mc_interval"] == pytest.approx(list(paths[0].mc_interval or ()))
    assert rows[0]["mc_agrees"] is True
    # The third path has no Monte Carlo check: null, not a made-up number.
    assert rows[2]["p_monte_carlo"] is None and rows[2]["mc_interval"] is None
    assert rows[2]["mc_agrees"] is None


def test_summary_writes_null_for_nan(
    assessment: Assessment, scenario: Scenario, tmp_path: Path
) -> None:
    run = assessment.runs[0]
    per_km = list(run.per_km)
    per_km[3] = replace(per_km[3], p_interruption=math.nan, coverage=math.inf)
    broken = replace(assessment, runs=[replace(run, per_km=per_km, rasters={})])
    doc = strict_json(write_outputs(broken, scenario, tmp_path)["summary.json"])
    row = doc["runs"][0]["per_km"][3]
    assert row["p_interruption"] is None and row["coverage"] is None


def test_json_safe_replaces_non_finite_numbers_at_any_depth() -> None:
    data = {"a": [1.0, math.nan, {"b": -math.inf}], "c": np.float32(np.nan), "d": np.arange(2)}
    assert json_safe(data) == {"a": [1.0, None, {"b": None}], "c": None, "d": [0, 1]}


# --- GeoJSON ----------------------------------------------------------------------------------


def frame_xy(scenario: Scenario, lonlat: list[list[float]]) -> np.ndarray:
    arr = np.asarray(lonlat, dtype=float)
    x, y = scenario.frame.to_xy(arr[:, 0], arr[:, 1])
    return np.column_stack([x, y])


def test_weak_stretches_are_the_border_between_their_chainages(
    written: dict[str, Path], scenario: Scenario
) -> None:
    doc = strict_json(written["weak_stretches.geojson"])
    feats = doc["features"]
    # foot/night: km 4–6 and km 9; vehicle/day (P + 0.1, km 9 held): km 4–5.
    got = [
        (f["properties"]["mode"], f["properties"]["from_km"], f["properties"]["to_km"])
        for f in feats
    ]
    assert got == [("foot", 4.0, 7.0), ("foot", 9.0, 10.0), ("vehicle", 4.0, 6.0)]
    first = feats[0]["properties"]
    assert first["min_p"] == pytest.approx(0.12)
    assert first["mean_p"] == pytest.approx((0.30 + 0.12 + 0.45) / 3)
    assert first["dominant_reason"] == Weakness.SEEN_TOO_LATE.value  # two of the three km
    assert feats[1]["properties"]["dominant_reason"] == Weakness.NOT_SEEN.value
    for f in feats:
        assert f["geometry"]["type"] == "LineString"
        xy = frame_xy(scenario, f["geometry"]["coordinates"])
        chain, offset = scenario.locate(xy[:, 0], xy[:, 1])
        assert np.abs(offset).max() < 0.5  # on the line
        assert chain[0] == pytest.approx(f["properties"]["from_km"] * 1000, abs=0.5)
        assert chain[-1] == pytest.approx(f["properties"]["to_km"] * 1000, abs=0.5)


def test_worst_paths_are_lines_with_their_critical_points(
    written: dict[str, Path], assessment: Assessment
) -> None:
    doc = strict_json(written["worst_paths.geojson"])
    lines = [f for f in doc["features"] if f["properties"]["kind"] == "path"]
    points = [f for f in doc["features"] if f["properties"]["kind"] == "critical_point"]
    paths = [(run, p) for run in assessment.runs for p in run.worst_paths]
    assert len(lines) == len(points) == len(paths) == 6
    for line, point, (run, path) in zip(lines, points, paths, strict=True):
        props = line["properties"]
        assert line["geometry"]["type"] == "LineString"
        assert np.allclose(line["geometry"]["coordinates"], path.lonlat, atol=1e-6)
        assert (props["mode"], props["light"]) == (run.mode.value, run.light.value)
        assert props["start_chainage_km"] == path.start_chainage_km
        assert props["p_interruption"] == props["p_easi"] == path.p_interruption
        assert props["p_monte_carlo"] == path.p_monte_carlo
        if path.mc_interval:
            assert (props["mc_low"], props["mc_high"]) == pytest.approx(path.mc_interval)
        else:
            assert props["mc_low"] is None and props["mc_high"] is None
        assert point["geometry"]["type"] == "Point"
        assert np.allclose(
            point["geometry"]["coordinates"], path.lonlat[path.critical_index], atol=1e-6
        )
        assert point["properties"]["p_detect"] == path.p_detect[path.critical_index]


def test_coverage_polygons_are_the_cells_with_hazard(
    written: dict[str, Path], scenario: Scenario, assessment: Assessment
) -> None:
    doc = strict_json(written["coverage.geojson"])
    assert len(doc["features"]) == 2  # one per run
    rasters, blocks = make_rasters(scenario, assessment.resolution_m, 1.0)
    grid = rasters["hazard"].grid
    # The two hazard blocks, as frame rectangles from the grid's own cell corners.
    expected = []
    for rows, cols in blocks:
        xs, ys = grid.xy([rows.start, rows.stop], [cols.start, cols.stop])
        expected.append(shapely.box(xs.min(), ys.min(), xs.max(), ys.max()))
    for f in doc["features"]:
        assert f["geometry"]["type"] == "MultiPolygon"
        assert f["properties"]["polygons"] == 2 and f["properties"]["cells"] == 18
        assert f["properties"]["area_km2"] == pytest.approx(18 * 0.25**2)
        polys = [
            shapely.Polygon(frame_xy(scenario, poly[0])) for poly in f["geometry"]["coordinates"]
        ]
        assert len(polys) == 2
        for want in expected:
            match = max(polys, key=lambda p, w=want: p.intersection(w).area)
            # Through lon/lat rounded to 1e-7° and back: centimetres, not cells.
            assert shapely.hausdorff_distance(match, want) < 0.05
            assert match.area == pytest.approx(want.area, rel=1e-4)


def test_no_coverage_gives_an_empty_multipolygon(
    assessment: Assessment, scenario: Scenario, tmp_path: Path
) -> None:
    run = assessment.runs[0]
    haz = run.rasters["hazard"]
    zero = replace(haz, data=np.where(np.isnan(haz.data), np.nan, 0).astype(np.float32))
    blind = replace(assessment, runs=[replace(run, rasters={"hazard": zero})])
    doc = strict_json(write_outputs(blind, scenario, tmp_path)["coverage.geojson"])
    (feat,) = doc["features"]
    assert feat["geometry"] == {"type": "MultiPolygon", "coordinates": []}
    assert feat["properties"]["cells"] == 0


# --- GeoTIFF ----------------------------------------------------------------------------------


def test_geotiffs_read_back_as_the_rasters(
    written: dict[str, Path], assessment: Assessment, scenario: Scenario
) -> None:
    to_ll = Transformer.from_crs(scenario.frame.crs, "EPSG:4326", always_xy=True)
    probe = (1234.5, -4321.0)
    for run in assessment.runs:
        for name, raster in run.rasters.items():
            path = written[f"{run.mode.value}-{run.light.value}-{name}.tif"]
            with rasterio.open(path) as ds:
                assert ds.count == 1 and ds.dtypes == ("float32",)
                assert ds.transform == raster.grid.transform
                assert ds.shape == raster.grid.shape
                assert ds.nodata is not None and math.isnan(ds.nodata)
                assert ds.compression is not None and ds.compression.name.lower() == "deflate"
                assert ds.descriptions == (name,)
                assert ds.units == (raster.units,)
                assert ds.tags(1)["units"] == raster.units
                assert ds.tags()["mode"] == run.mode.value
                # Same CRS: a frame point lands on the same lon/lat through either.
                back = Transformer.from_crs(
                    CRS.from_wkt(ds.crs.to_wkt()), "EPSG:4326", always_xy=True
                )
                assert back.transform(*probe) == pytest.approx(to_ll.transform(*probe), abs=1e-9)
                data = ds.read(1)
                masked = ds.read_masks(1)
            assert np.array_equal(np.isnan(data), np.isnan(raster.data))
            assert np.array_equal(data, raster.data, equal_nan=True)
            assert np.array_equal(masked == 0, np.isnan(raster.data))


@pytest.mark.gdal
def test_gdal_reads_the_geotiff(written: dict[str, Path], scenario: Scenario) -> None:
    gdalinfo = shutil.which("gdalinfo")
    if gdalinfo is None:
        pytest.skip("gdalinfo (gdal-bin) not installed")
    path = written["foot-night-p_interruption.tif"]
    out = subprocess.run(
        [gdalinfo, "-json", "-stats", str(path)], capture_output=True, text=True, check=True
    )
    info = json.loads(out.stdout)
    band = info["bands"][0]
    assert band["type"] == "Float32"
    assert band["description"] == "p_interruption"
    assert band["unit"] == "1"
    assert str(band["noDataValue"]).lower() == "nan"
    assert info["metadata"][""]["scenario"] == "testline"
    assert CRS.from_wkt(info["coordinateSystem"]["wkt"]).equals(scenario.frame.crs)
    with rasterio.open(path) as ds:
        data = ds.read(1)
    assert float(band["metadata"][""]["STATISTICS_MINIMUM"]) == pytest.approx(np.nanmin(data))
    assert float(band["metadata"][""]["STATISTICS_MAXIMUM"]) == pytest.approx(np.nanmax(data))


def test_large_geotiff_is_tiled_and_identical(scenario: Scenario, tmp_path: Path) -> None:
    grid = Grid.north_up(-6000.0, -7000.0, 6000.0, 7000.0, 20.0)  # 600 × 700 cells
    rng = np.random.default_rng(7)
    data = rng.random(grid.shape).astype(np.float32) * 900
    data[rng.random(grid.shape) < 0.2] = np.nan
    raster = Raster("time_to_goal_s", "s", grid, data)
    path = write_geotiff(raster, scenario, tmp_path / "big.tif")
    with rasterio.open(path) as ds:
        assert ds.block_shapes == [(256, 256)]
        assert ds.transform == grid.transform
        assert np.array_equal(ds.read(1), data, equal_nan=True)


def test_a_raster_that_does_not_fit_its_grid_is_refused(
    assessment: Assessment, scenario: Scenario, tmp_path: Path
) -> None:
    r = assessment.runs[0].rasters["hazard"]
    bad = Raster(r.name, r.units, r.grid, r.data[:-1])
    with pytest.raises(ValueError, match=r"'hazard'.*does not match its grid"):
        write_geotiff(bad, scenario, tmp_path / "bad.tif")


# --- digests ----------------------------------------------------------------------------------


def run_of(p: list[float], step: float = 1.0) -> Run:
    km = [KmResult(i * step, pi, "S1", Weakness.SEEN_TOO_LATE, 0.5, 0.5) for i, pi in enumerate(p)]
    return Run(Mode.FOOT, Light.DAY, km, [])


@functools.cache
def shared_scenario() -> Scenario:
    """One scenario for every hypothesis example (fixtures are per test, not per example)."""
    return make_scenario()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=14))  # the line is 13.5 km
def test_weak_stretches_cover_exactly_the_weak_km(p: list[float]) -> None:
    sc = shared_scenario()
    stretches = weak_stretches(run_of(p), sc)
    covered = [k.chainage_km for s in stretches for k in s.km]
    assert covered == [float(i) for i, pi in enumerate(p) if pi < 0.5]
    for s in stretches:
        idx = [int(k.chainage_km) for k in s.km]
        assert idx == list(range(idx[0], idx[-1] + 1))  # contiguous
        # Maximal: the neighbours on either side are not weak.
        assert idx[0] == 0 or p[idx[0] - 1] >= 0.5
        assert idx[-1] == len(p) - 1 or p[idx[-1] + 1] >= 0.5
        assert s.from_km == idx[0] and s.to_km == min(idx[-1] + 1, sc.length_km)


def test_a_gap_in_the_results_splits_a_stretch(scenario: Scenario) -> None:
    run = run_of([0.1, 0.2, 0.3, 0.4])
    gapped = replace(run, per_km=[*run.per_km[:3], replace(run.per_km[3], chainage_km=5.0)])
    # km 3 and 4 are missing: two stretches, each ending one spacing after its last km.
    assert [(s.from_km, s.to_km) for s in weak_stretches(gapped, scenario)] == [
        (0.0, 3.0),
        (5.0, 6.0),
    ]


def test_dominant_reason_breaks_ties_by_the_weakest_km() -> None:
    km = [
        KmResult(0.0, 0.30, "S1", Weakness.SEEN_TOO_LATE, 0.5, 0.5),
        KmResult(1.0, 0.05, "S1", Weakness.NOT_SEEN, 0.0, 0.0),
        KmResult(2.0, 0.40, "S1", Weakness.SEEN_TOO_LATE, 0.5, 0.5),
        KmResult(3.0, 0.20, "S1", Weakness.NOT_SEEN, 0.1, 0.1),
    ]
    assert dominant_reason(km) is Weakness.NOT_SEEN
    assert dominant_reason(km[:3] + km[2:3]) is Weakness.SEEN_TOO_LATE


def test_unknown_sector_names_get_their_own_row(scenario: Scenario) -> None:
    run = run_of([0.2, 0.9])
    stats = sector_stats(run, scenario)
    names = [s.name for s in stats]
    assert names == ["S1", "S2", "S3"]  # S1 is the fixture's name: rows follow the scenario
    other = replace(run, per_km=[replace(k, sector="Elsewhere") for k in run.per_km])
    rows = {s.name: s for s in sector_stats(other, scenario)}
    assert rows["Elsewhere"].km == 2 and rows["Elsewhere"].worst_p == 0.2
    assert rows["S1"].km == 0 and rows["S1"].worst_p is None and rows["S1"].mean_p is None

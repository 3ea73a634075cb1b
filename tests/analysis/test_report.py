"""The HTML report and the `limes assess` command: what a reader and a user get."""

from __future__ import annotations

import base64
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pytest
import rasterio
import yaml
from assess_fixtures import (
    foot_night_p,
    make_assessment,
    make_scenario,
    scenario_data,
    with_km_changed,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from rich.console import Console

from limes.analysis.assess import AssessError
from limes.analysis.command import parse_lights, parse_modes, run_assess
from limes.analysis.compare import compare
from limes.analysis.report import block_min, hillshade, render_report
from limes.analysis.result import Assessment
from limes.scenario.errors import ScenarioError
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode

# --- reading the page -------------------------------------------------------------------------


class Page(HTMLParser):
    """The parts of the report a test looks at: tables by class, images, every link."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[list[str]]]] = {}
        self.images: list[str] = []
        self.links: list[str] = []
        self.sections: list[str] = []
        self._table: list[list[str]] | None = None
        self._in_body = False
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href", "action", "data", "poster"):
            if a.get(key):
                self.links.append(a[key] or "")
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag == "section" and a.get("id"):
            self.sections.append(a["id"] or "")
        if tag == "table":
            self._table = []
            self.tables.setdefault(a.get("class") or "", []).append(self._table)
        if tag == "tbody":
            self._in_body = True
        if tag == "tr" and self._table is not None and self._in_body:
            self._table.append([])
        if tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        if tag == "td" and self._cell is not None and self._table:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario()


@pytest.fixture(scope="module")
def assessment(scenario: Scenario) -> Assessment:
    return make_assessment(scenario)


@pytest.fixture(scope="module")
def html(
    assessment: Assessment, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> str:
    other = with_km_changed(assessment, 0, 5, 0.70)
    path = render_report(
        assessment,
        scenario,
        tmp_path_factory.mktemp("rep") / "report.html",
        compare(assessment, other),
    )
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


# --- self-contained -------------------------------------------------------------------------


def assert_offline(html: str) -> None:
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?(?!data:)", html, re.I)
    assert "@import" not in html


def test_the_report_refers_to_nothing_outside_itself(html: str, page: Page) -> None:
    assert_offline(html)
    assert page.links and all(link.startswith("data:image/png;base64,") for link in page.links)


def test_every_image_is_a_png_that_decodes(page: Page, scenario: Scenario) -> None:
    # Profile, one map per run, one per sector, and the comparison's change chart (the change
    # map needs the input changes, which this comparison of two assessments lacks).
    assert len(page.images) == 1 + 2 + len(scenario.spec.sectors) + 1
    for src in page.images:
        raw = base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
        assert raw.startswith(b"\x89PNG\r\n\x1a\n")
        img = matplotlib.image.imread(io.BytesIO(raw), format="png")
        assert img.shape[0] > 200 and img.shape[1] > 400
        assert img[..., :3].std() > 0.05  # not a blank canvas


def test_the_report_has_every_section(page: Page) -> None:
    assert page.sections == [
        "overview",
        "stretches",
        "sectors",
        "profile",
        "maps",
        "sector-maps",
        "weakest",
        "comparison",
        "monte-carlo",
        "method",
    ]


def test_text_from_the_scenario_is_escaped(html: str) -> None:
    assert "<b>not bold</b>" not in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html


def test_the_header_names_scenario_resolution_and_date(
    assessment: Assessment, scenario: Scenario, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    text = render_report(assessment, scenario, tmp_path / "r.html", generated=when).read_text()
    assert "Test border testline" in text and "testline" in text
    assert "250 m" in text and "2026-03-04 05:06 UTC" in text
    assert "Positions are invented for testing." in text


# --- the tables -------------------------------------------------------------------------------


def test_sector_table_rows_match_a_direct_count(page: Page, scenario: Scenario) -> None:
    foot = page.tables["sectors"][0]
    p = foot_night_p(14)
    km = np.arange(14)
    assert [row[0] for row in foot] == ["S1", "S2", "S3"]
    for row, sec in zip(foot, scenario.spec.sectors, strict=True):
        mine = (km + 0.5 >= sec.from_km) & ((km + 0.5 < sec.to_km) | (sec.name == "S3"))
        assert row[3] == f"{p[mine].min():.2f}"  # worst P
        assert row[4] == f"{km[mine][np.argmin(p[mine])]}"  # at km
        assert row[5] == f"{p[mine].mean():.2f}"  # mean P
        assert row[6] == str(int((p[mine] < 0.5).sum()))  # km below 0.5
        assert row[7] == f"{100 * np.minimum(1, p[mine] + 0.05).mean():.0f}"  # coverage %


def test_the_ten_weakest_km_in_order_with_their_reason(page: Page) -> None:
    foot, vehicle = page.tables["weakest"]
    p = foot_night_p(14)
    expected = sorted(range(14), key=lambda k: (p[k], k))[:10]
    assert len(foot) == len(vehicle) == 10
    assert [int(row[1]) for row in foot] == expected
    assert [row[3] for row in foot] == [f"{p[k]:.2f}" for k in expected]
    assert foot[0][-1] == "not seen" and foot[1][-1] == "too fast to stop"
    assert foot[2][-1] == "seen too late"


def test_monte_carlo_table_shows_easi_mc_and_interval(page: Page, assessment: Assessment) -> None:
    rows = page.tables["mc"][0]
    paths = [p for r in assessment.runs for p in r.worst_paths]
    assert len(rows) == len(paths) == 6
    for row, path in zip(rows, paths, strict=True):
        assert row[4] == f"{path.p_interruption:.2f}"
        if path.mc_interval is None:
            assert row[5] == "—" and row[7] == "not run"
        else:
            assert row[5] == f"{path.p_monte_carlo:.2f}"
            assert row[6] == f"{path.mc_interval[0]:.2f}–{path.mc_interval[1]:.2f}"
            assert row[7] == "yes"


def test_comparison_shows_what_the_change_buys(page: Page) -> None:
    buys = page.tables["buys"]
    assert len(buys) == 2  # one table per matched run
    s2 = next(row for row in buys[0] if row[0] == "S2")
    assert s2[5] == "1" and s2[6] == "0"  # one km better, none worse
    assert s2[8] == "km 5: 0.12 → 0.70"
    (improved,) = page.tables["improved"]
    assert improved == [["5", "S2", "0.12", "0.70", "+0.58"]]
    assert all(row[5] == "0" for row in buys[1])  # vehicle/day unchanged


def test_without_a_comparison_there_is_no_comparison_section(
    assessment: Assessment, scenario: Scenario, tmp_path: Path
) -> None:
    page = Page(render_report(assessment, scenario, tmp_path / "r.html").read_text())
    assert "comparison" not in page.sections
    assert len(page.images) == 3 + len(scenario.spec.sectors)


def test_missing_terrain_is_said_and_the_rest_renders(
    assessment: Assessment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = make_scenario()

    def no_terrain() -> Any:
        raise OSError("cannot open dem.tif")

    monkeypatch.setattr(sc, "terrain", no_terrain)
    text = render_report(assessment, sc, tmp_path / "r.html").read_text()
    assert "terrain not shown: cannot open dem.tif" in text
    assert len(Page(text).images) == 3 + len(sc.spec.sectors)


def test_nan_values_show_as_a_dash(
    assessment: Assessment, scenario: Scenario, tmp_path: Path
) -> None:
    run = assessment.runs[0]
    per_km = [replace(k, p_interruption=math.nan) if k.chainage_km == 0 else k for k in run.per_km]
    broken = replace(assessment, runs=[replace(run, per_km=per_km)])
    page = Page(render_report(broken, scenario, tmp_path / "r.html").read_text())
    s1 = page.tables["sectors"][0][0]
    assert s1[3] != "nan" and s1[5] != "nan"
    assert "0" not in [row[1] for row in page.tables["weakest"][0]]  # NaN is not "weakest"


# --- the drawing helpers ----------------------------------------------------------------------


@pytest.mark.parametrize("tilt_deg", [10.0, 30.0])
@pytest.mark.parametrize(
    ("uphill", "facing_az"),
    [((1, 0), 270.0), ((-1, 0), 90.0), ((0, 1), 180.0), ((0, -1), 0.0)],
)
def test_hillshade_of_a_plane_is_the_cosine_to_the_sun(
    tilt_deg: float, uphill: tuple[int, int], facing_az: float
) -> None:
    # A plane rising toward `uphill` (east, west, north, south) faces the opposite azimuth.
    cell = 30.0
    rows, cols = np.mgrid[0:20, 0:20]
    x, y = cols * cell, -rows * cell  # north-up: rows run south
    z = math.tan(math.radians(tilt_deg)) * (uphill[0] * x + uphill[1] * y)
    t = math.radians(tilt_deg)
    normal = np.array([-uphill[0] * math.sin(t), -uphill[1] * math.sin(t), math.cos(t)])
    for az, alt in [(facing_az, 90 - tilt_deg), (facing_az + 180, 45.0), (315.0, 45.0)]:
        a, h = math.radians(az), math.radians(alt)
        sun = np.array([math.sin(a) * math.cos(h), math.cos(a) * math.cos(h), math.sin(h)])
        expected = max(0.0, float(normal @ sun))
        shade = hillshade(z, cell, azimuth_deg=az, altitude_deg=alt)
        assert shade[5:15, 5:15] == pytest.approx(expected, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 13), st.integers(1, 13)),
        elements=st.one_of(st.just(np.nan), st.floats(0, 1, width=32)),
    ),
    st.integers(1, 5),
)
def test_block_min_is_the_lowest_finite_value_of_each_block(data: np.ndarray, k: int) -> None:
    got = block_min(data, k)
    h, w = data.shape
    assert got.shape == (math.ceil(h / k), math.ceil(w / k))
    for i in range(got.shape[0]):
        for j in range(got.shape[1]):
            block = data[i * k : (i + 1) * k, j * k : (j + 1) * k]
            finite = block[np.isfinite(block)]
            if finite.size:
                assert got[i, j] == finite.min()
            else:
                assert np.isnan(got[i, j])


# --- the command ------------------------------------------------------------------------------


def write_scenario(path: Path, sc: Scenario, **changes: Any) -> Path:
    ends = [s.to_km for s in sc.spec.sectors]
    data = scenario_data([tuple(p) for p in sc.spec.border.line or []], ends, sc.name)
    data.update(changes)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


class FakeAnalysis:
    """Stands in for `limes.analysis.assess`: the fixture assessment, with progress reports."""

    def __init__(self, improve_km: int | None = None) -> None:
        self.calls: list[tuple[str, list[Mode], list[Light], float]] = []
        self.stages: list[tuple[str, int, int]] = []
        self.improve_km = improve_km

    def __call__(
        self,
        scenario: Scenario,
        modes: Sequence[Mode],
        lights: Sequence[Light],
        resolution_m: float,
        progress: Any,
    ) -> Assessment:
        self.calls.append((scenario.name, list(modes), list(lights), resolution_m))
        for stage, total in (("line of sight", 3), ("crossings", 2)):
            for done in range(1, total + 1):
                progress(stage, done, total)
                self.stages.append((stage, done, total))
        a = make_assessment(scenario)
        if self.improve_km is not None and len(self.calls) == 2:
            a = with_km_changed(a, 0, self.improve_km, 0.9)
        return a


def quiet_console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=140, force_terminal=False, color_system=None), buf


def test_run_assess_writes_everything_and_summarises(scenario: Scenario, tmp_path: Path) -> None:
    yml = write_scenario(tmp_path / "base.yaml", scenario)
    other = write_scenario(tmp_path / "other.yaml", scenario, name="plan")
    fake = FakeAnalysis(improve_km=9)
    console, buf = quiet_console()
    out = tmp_path / "out"
    result = run_assess(
        yml,
        [Mode.FOOT],
        [Light.NIGHT],
        75.0,
        out,
        compare_ref=other,
        console=console,
        assess_fn=fake,
    )
    assert [c[0] for c in fake.calls] == ["testline", "plan"]
    assert fake.calls[0][1:] == ([Mode.FOOT], [Light.NIGHT], 75.0)
    assert result.scenario == "testline"
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "summary.json", "comparison.json", "coverage.geojson"} <= names
    assert len([n for n in names if n.endswith(".tif")]) == 8
    comp = json.loads((out / "comparison.json").read_text())
    assert (comp["base"], comp["other"]) == ("testline", "plan")
    assert comp["runs"][0]["most_improved"]["chainage_km"] == 9.0
    text = buf.getvalue()
    for needle in (
        "S1",
        "S2",
        "S3",
        "weakest: km 9 0.05 (not seen)",
        "report.html",
        "most improved km 9",
        "8 GeoTIFF layers",
        "line of sight",
        "crossings",
    ):
        assert needle in text, needle
    report = (out / "report.html").read_text()
    assert_offline(report)
    assert "What it buys: plan against testline" in report


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution_m": 0.0}, "positive number of metres"),
        ({"resolution_m": math.nan}, "positive number of metres"),
        ({"modes": []}, "at least one adversary mode"),
    ],
)
def test_bad_requests_are_refused_before_any_work(
    scenario: Scenario, tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    yml = write_scenario(tmp_path / "s.yaml", scenario)
    args: dict[str, Any] = {"modes": [Mode.FOOT], "lights": [Light.DAY], "resolution_m": 50.0}
    args.update(kwargs)
    fake = FakeAnalysis()
    with pytest.raises(AssessError, match=message):
        run_assess(yml, out_dir=tmp_path / "o", console=quiet_console()[0], assess_fn=fake, **args)
    assert fake.calls == []


def test_an_out_path_that_is_a_file_is_refused(scenario: Scenario, tmp_path: Path) -> None:
    yml = write_scenario(tmp_path / "s.yaml", scenario)
    (tmp_path / "taken").write_text("x")
    with pytest.raises(AssessError, match="not a folder"):
        run_assess(
            yml,
            [Mode.FOOT],
            [Light.DAY],
            50.0,
            tmp_path / "taken",
            console=quiet_console()[0],
            assess_fn=FakeAnalysis(),
        )


def test_an_unknown_comparison_scenario_fails_before_the_analysis(
    scenario: Scenario, tmp_path: Path
) -> None:
    yml = write_scenario(tmp_path / "s.yaml", scenario)
    fake = FakeAnalysis()
    with pytest.raises(ScenarioError, match="no scenario file"):
        run_assess(
            yml,
            [Mode.FOOT],
            [Light.DAY],
            50.0,
            tmp_path / "o",
            compare_ref=tmp_path / "missing.yaml",
            console=quiet_console()[0],
            assess_fn=fake,
        )
    assert fake.calls == []


def test_mode_and_light_words() -> None:
    assert parse_modes("all") == [Mode.FOOT, Mode.VEHICLE]
    assert parse_modes("Vehicle, foot,vehicle") == [Mode.VEHICLE, Mode.FOOT]
    assert parse_lights("night") == [Light.NIGHT]
    assert parse_lights("all") == [Light.DAY, Light.NIGHT]
    with pytest.raises(AssessError, match=r"--mode: 'boat' is not one of foot\|vehicle\|all"):
        parse_modes("boat")
    with pytest.raises(AssessError, match="--light"):
        parse_lights("")


# --- end to end with the real analysis --------------------------------------------------------


def e2e_scenario_file(tmp_path: Path) -> Path:
    """A 6 km line with short-range towers every 2 km and one unit: small enough to assess fast."""
    line = [(42.0, 35.0), (42.0, 35.055)]
    length = math.floor(scenario_from_data(scenario_data(line, [1000.0]), check=False).length_km)
    data = scenario_data(line, [length / 2, length], "e2e")
    data["strip"] = {"outside_m": 1000.0, "inside_m": 1000.0}
    law = {"range_m": 1500.0, "hazard_per_s": 0.02, "falloff": "linear"}
    data["sensor_models"][0]["laws"] = {"person": {"day": law, "night": law}}
    data["sensors"] = [
        {"id": f"T{i}", "model": "tower-cam", "position": {"chainage_km": km, "offset_m": 300}}
        for i, km in enumerate((1.0, 3.0, 5.0))
    ]
    data["units"][0]["base"] = {"chainage_km": 3.0, "offset_m": 800}
    data["terrain"] = {"synthetic": {"seed": 1, "roughness_m": 5.0}, "resolution_m": 100.0}
    for b in data["barriers"]:
        b["offset_m"] = 0.0
    path = tmp_path / "e2e.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_end_to_end_with_the_analysis(tmp_path: Path) -> None:
    console, buf = quiet_console()
    out = tmp_path / "out"
    a = run_assess(
        e2e_scenario_file(tmp_path), [Mode.FOOT], [Light.NIGHT], 100.0, out, console=console
    )
    (run,) = a.runs
    assert run.per_km and run.worst_paths
    summary = json.loads((out / "summary.json").read_text(), parse_constant=pytest.fail)
    rows = summary["runs"][0]["per_km"]
    assert [r["chainage_km"] for r in rows] == [k.chainage_km for k in run.per_km]
    for row, km in zip(rows, run.per_km, strict=True):
        want = km.p_interruption
        assert row["p_interruption"] == (want if math.isfinite(want) else None)
    for name, raster in run.rasters.items():
        with rasterio.open(out / f"foot-night-{name}.tif") as ds:
            assert ds.transform == raster.grid.transform
            assert np.array_equal(ds.read(1), raster.data, equal_nan=True)
    paths = json.loads((out / "worst_paths.geojson").read_text())["features"]
    assert len(paths) == 2 * len(run.worst_paths)
    report = (out / "report.html").read_text()
    assert_offline(report)
    assert len(Page(report).tables["weakest"][0]) == min(10, len(run.per_km))
    assert "report.html" in buf.getvalue()

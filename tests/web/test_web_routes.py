"""The map's routes through the app: roles, stream cursor, chainage ticks, relief tiles,
coverage, replay window, dispatch advice and assessments; the page is served, offline."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image
from pyproj import Geod
from web_support import RoleClient, map_scenario, role_client

from limes.ops.alert import Alert, Rule, Severity
from limes.ops.detection import TargetClass
from limes.ops.tracker.state import TrackState, TrackStatus
from limes.scenario.model import Scenario
from limes.web.build import STATIC
from limes.web.mercator import tile_range

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return map_scenario()


@pytest.fixture
def web(tmp_path: Path, sc: Scenario, assessment_dir: Path) -> Iterator[RoleClient]:
    yield from role_client(tmp_path, sc, [assessment_dir])


def track(sc: Scenario, tid: str, t: datetime, chainage_m: float, offset_m: float) -> TrackState:
    x, y = sc.border.point_at(chainage_m, offset_m)
    return TrackState(
        track_id=tid, time=t, x=float(x), y=float(y), vx=1.0, vy=0.5,
        covariance=tuple(np.eye(4).ravel()), target_class=TargetClass.PERSON,
        class_probabilities={"person": 1.0}, group_size=3, status=TrackStatus.CONFIRMED,
        hits=3, misses=0, sensors=("tower-w",), last_detection=None,
    )  # fmt: skip


def test_me_names_the_role_and_its_permissions_and_needs_a_token(web: RoleClient) -> None:
    assert web.get("/api/web/me", None).status_code == 401
    assert web.get("/api/web/me", "sensor").status_code == 403  # sensors do not read the map
    viewer = web.get("/api/web/me").json()
    assert (viewer["role"], viewer["permissions"]) == ("viewer", ["read"])
    assert "work_incidents" in web.get("/api/web/me", "operator").json()["permissions"]


def test_state_cursor_is_the_newest_change(web: RoleClient) -> None:
    writer = web.http.app.state.services.writer  # type: ignore[attr-defined]
    assert web.get("/api/web/state").json()["cursor"] == 0
    writer.write(tracks=[track(web.sc, "west-1", T0, 4000, -100)])
    changes = web.get("/api/changes?cursor=0").json()["changes"]
    assert web.get("/api/web/state").json()["cursor"] == changes[-1]["id"]


def test_chainage_ticks_lie_on_the_line_at_their_km(web: RoleClient) -> None:
    doc = web.get("/api/web/chainage?step_km=2.5").json()
    km = [f["properties"]["km"] for f in doc["features"]]
    assert km == [2.5 * i for i in range(int(web.sc.length_km // 2.5) + 1)]
    lon, lat = np.array([f["geometry"]["coordinates"] for f in doc["features"]]).T
    chain, offset = web.sc.locate(*web.sc.frame.to_xy(lon, lat))
    assert chain / 1000 == pytest.approx(km, abs=2e-3)
    assert np.abs(offset).max() < 0.5


def test_relief_tiles_cover_the_terrain_and_nothing_else(web: RoleClient) -> None:
    state = web.get("/api/web/state").json()
    hs = state["hillshade"]
    cols, rows = tile_range(10, tuple(hs["bounds"]))
    r = web.get(f"/api/web/hillshade/10/{cols[0]}/{rows[0]}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)))
    assert img.shape == (256, 256, 4) and img[..., 3].max() == 255
    assert web.get(f"/api/web/hillshade/10/{cols[0] - 3}/{rows[0]}.png").status_code == 204
    assert web.get("/api/web/hillshade/10/5000/1.png").status_code == 404
    assert web.get(f"/api/web/hillshade/10/{cols[0]}/{rows[0]}.png", None).status_code == 401


def test_coverage_stays_within_range_and_field_of_view(web: RoleClient) -> None:
    doc = web.get("/api/web/coverage?target=person&light=night").json()
    assert {f["properties"]["id"] for f in doc["features"]} == {"tower-w", "tower-e"}
    geod = Geod(ellps="WGS84")
    for f in doc["features"]:
        s = web.sc.sensors[f["properties"]["id"]]
        lon0, lat0 = web.sc.position_lonlat(s.position)
        geom = shapely.geometry.shape(f["geometry"])
        pts = np.array(shapely.get_coordinates(geom))
        az, _, dist = geod.inv(np.full(len(pts), lon0), np.full(len(pts), lat0), pts[:, 0],
                               pts[:, 1])  # fmt: skip
        cell_diag = 200 * math.sqrt(2)  # the coverage cells (the terrain's, 200 m)
        assert dist.max() <= f["properties"]["range_m"] + cell_diag
        # Heading 0 with a 200° field of view: nothing much south of the sensor's east-west line.
        far = dist > 2 * cell_diag
        off = np.abs((az[far] - s.heading_deg + 180) % 360 - 180)
        # Outline vertices are cell corners: a cell seen at the edge of view reaches further.
        slack = np.degrees(np.arctan(cell_diag / dist[far])) + 1.0  # + grid vs true north
        assert np.all(off <= 100 + slack)
    assert web.get("/api/web/coverage?light=dusk").status_code == 422


def test_replay_returns_the_window_oldest_first(web: RoleClient) -> None:
    writer = web.http.app.state.services.writer  # type: ignore[attr-defined]
    states = [track(web.sc, "west-1", T0 + timedelta(minutes=m), 4000 + m, -50 + m) for m in
              range(0, 180, 10)]  # fmt: skip
    writer.write(tracks=states)
    until = (T0 + timedelta(minutes=175)).isoformat()
    doc = web.get(f"/api/web/replay?hours=1&until={until.replace('+', '%2B')}").json()
    times = [datetime.fromisoformat(p["time"]) for p in doc["points"]]
    expected = [s.time for s in states if T0 + timedelta(minutes=115) <= s.time]
    assert times == expected
    assert doc["truncated"] is False
    assert web.get("/api/web/replay?until=2025-01-01T00:00:00").status_code == 422


def test_advice_is_the_dispatch_advice_within_independent_bounds(web: RoleClient) -> None:
    writer = web.http.app.state.services.writer  # type: ignore[attr-defined]
    x, y = web.sc.border.point_at(14_500.0, 100.0)
    lon, lat = (float(v) for v in web.sc.frame.to_lonlat(x, y))
    alert = Alert(
        alert_id="a-1", rule=Rule.CROSSED, track_id="east-1", time=T0,
        lon=lon, lat=lat, target_class="person", group_size=2, chainage_km=14.5, offset_m=100.0,
        sector="east", command="Command B", far_side="far-east", channel="radio net 2",
        severity=Severity.HIGH, eta_s=None, p_interruption=None, barrier_id=None, detail="",
    )  # fmt: skip
    writer.write(alerts=[alert])
    (incident,) = web.get("/api/incidents").json()["items"]
    answer = web.get(f"/api/web/incidents/{incident['id']}/advice").json()
    advice = answer["units"]
    # No track to time the group by: no verdict is claimed; no unit is committed yet.
    assert answer["group_s"] is None and answer["committed"] == []
    assert {a["intercept"] for a in advice} == {None}
    # Independent brackets: no unit beats readiness + geodesic distance at its road speed, and
    # none needs longer than readiness + the 8-connected detour (≤ 8.3 %) off road, plus a cell.
    geod = Geod(ellps="WGS84")
    bounds = {}
    for u in web.sc.spec.units:
        d = geod.inv(*web.sc.position_lonlat(u.base), incident["lon"], incident["lat"])[2]
        low = u.readiness.mean_s + d / (u.speeds.road_kmh / 3.6)
        high = u.readiness.mean_s + (1.083 * d + 300.0) / (u.speeds.off_road_kmh / 3.6)
        bounds[u.id] = (low, high)
    assert [a["unit_id"] for a in advice] == ["patrol-2", "qrf-1"]  # bounds below do not overlap
    assert bounds["patrol-2"][1] < bounds["qrf-1"][0]
    for a in advice:
        low, high = bounds[a["unit_id"]]
        assert low <= a["eta_s"] <= high
        assert a["source"] == "advice" and a["route"][-1] == pytest.approx([lon, lat], abs=1e-6)
    # One source of truth: the map shows exactly the service's dispatch advice.
    from limes.ops.dispatch import advise, target_at_lonlat

    same = advise(web.sc, target_at_lonlat(web.sc, incident["lon"], incident["lat"]))
    assert [a["eta_s"] for a in advice] == pytest.approx([a.total_s for a in same])
    assert web.get("/api/web/incidents/999/advice").status_code == 404


def test_assessment_document_places_every_km_on_the_line(
    web: RoleClient, assessment_dir: Path
) -> None:
    (listing,) = web.get("/api/web/assessments").json()
    doc = web.get(f"/api/web/assessments/{listing['name']}").json()
    run = doc["runs"][0]
    lon = np.array([k["lon"] for k in run["per_km"]])
    lat = np.array([k["lat"] for k in run["per_km"]])
    chain, offset = web.sc.locate(*web.sc.frame.to_xy(lon, lat))
    starts = np.array([k["chainage_km"] for k in run["per_km"]])
    assert np.all((chain / 1000 > starts) & (chain / 1000 <= starts + 0.5 + 1e-6))
    assert np.abs(offset).max() < 0.5
    heat = web.get(run["heat"]["url"])
    assert heat.status_code == 200
    img = np.asarray(Image.open(io.BytesIO(heat.content)))
    assert img[..., 3].max() > 0 and img[..., 3].min() == 0  # strip coloured, outside clear
    assert web.get("/api/web/assessments/nope").status_code == 404


def test_page_and_assets_are_served_and_refer_only_to_this_server(web: RoleClient) -> None:
    page = web.get("/", None)
    assert page.status_code == 200
    html = page.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/assets/") for r in refs)
    for ref in refs:
        assert web.get(ref, None).status_code == 200
    bundle = (STATIC / "app.js").read_text()
    # No absolute URL the page could fetch: only the SVG namespace and Leaflet's attribution
    # link (a link in text, never loaded; the attribution control is off) name a host.
    code_urls = set(re.findall(r"[\"'`](https?://[^\"'`\s]+)", bundle))
    assert code_urls <= {"http://www.w3.org/2000/svg", "https://leafletjs.com"}, code_urls

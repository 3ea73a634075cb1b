"""Dispatch advice against hand computations on a hand-made road network."""

from __future__ import annotations

import math
from copy import deepcopy
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limes.ops.dispatch import (
    DispatchConfig,
    UnitSituation,
    advise,
    predict_target,
    target_at_lonlat,
)
from limes.scenario.load import load_scenario, scenario_from_data
from limes.scenario.model import Scenario

CELL = 100.0
BASE: dict[str, Any] = {
    "name": "dispatch-test",
    "title": "Straight test border with one road (invented positions)",
    "border": {"line": [[41.0, 34.0], [41.4, 34.0]], "inside": "right"},
    "terrain": {"synthetic": {}},
    "controllers": [{"name": "far", "channel": "radio net 1"}],
    "sectors": [{"name": "all", "command": "Command A", "far_side": "far", "from_km": 0,
                 "to_km": 37}],
}  # fmt: skip


def centre(v: float) -> float:
    """The cell centre nearest `v` on a grid whose edges are multiples of CELL."""
    return (math.floor(v / CELL) + 0.5) * CELL


def build() -> tuple[Scenario, dict[str, tuple[float, float]]]:
    """The border's frame, a straight east-west road, and units at known frame points."""
    frame = scenario_from_data(deepcopy(BASE)).frame
    y0 = centre(-20_000.0)  # well inside, on a cell centre row
    x0 = centre(-5_000.0)
    pts = {
        "road_w": (x0 - 1_000.0, y0),
        "road_e": (x0 + 12_000.0, y0),
        "patrol": (x0, y0),  # 10 km west of the target, on the road
        "target": (x0 + 10_000.0, y0),
        "heli": (x0 + 10_000.0 - 24_000.0, y0 - 32_000.0),  # 40 km (3-4-5) from the target
        "foot": (x0 + 10_000.0, y0 - 3_000.0),  # 3 km straight south, no road
        "spare": (x0 + 9_000.0, y0),  # nearest of all, but not available
    }
    ll = {k: tuple(float(v) for v in frame.to_lonlat(*p)) for k, p in pts.items()}
    data = deepcopy(BASE)

    def unit(uid: str, kind: str, ready: float, speeds: dict[str, float], **kw: Any) -> Any:
        lon, lat = ll[uid if uid in ll else "spare"]
        return {"id": uid, "kind": kind, "base": {"lon": lon, "lat": lat},
                "readiness": {"mean_s": ready, "sd_s": 60}, "speeds": speeds, **kw}  # fmt: skip

    data["roads"] = [{"name": "R1", "kind": "paved", "path": [ll["road_w"], ll["road_e"]]}]
    data["units"] = [
        unit("patrol", "patrol", 300, {"road_kmh": 60, "off_road_kmh": 20}),
        unit("heli", "helicopter", 900, {"air_kmh": 200}),
        unit("foot", "qrf", 60, {"off_road_kmh": 5}),
        unit("spare", "patrol", 0, {"road_kmh": 60, "off_road_kmh": 20}, available=False),
    ]
    sc = scenario_from_data(data)
    assert sc.frame.crs == frame.crs
    return sc, pts


@pytest.fixture(scope="module")
def case() -> tuple[Scenario, dict[str, tuple[float, float]]]:
    return build()


def target_of(sc: Scenario, pts: dict[str, tuple[float, float]]) -> Any:
    lon, lat = sc.frame.to_lonlat(*pts["target"])
    return target_at_lonlat(sc, float(lon), float(lat))


CFG = DispatchConfig(cell_m=CELL)


def test_ranking_and_times_match_the_hand_computation(case: Any) -> None:
    sc, pts = case
    got = advise(sc, target_of(sc, pts), config=CFG)
    # By hand: 10 km of road at 60 km/h = 600 s, + 300 s readiness; 40 km of air at 200 km/h
    # = 720 s, + 900 s; 3 km off road at 5 km/h = 2160 s, + 60 s. The spare is unavailable.
    assert [a.unit_id for a in got] == ["patrol", "heli", "foot"]
    assert [a.total_s for a in got] == pytest.approx([900.0, 1620.0, 2220.0], abs=1e-6)
    assert [a.travel_s for a in got] == pytest.approx([600.0, 720.0, 2160.0], abs=1e-6)
    assert [a.mode for a in got] == ["ground", "air", "ground"]
    assert [a.distance_m for a in got] == pytest.approx([10_000.0, 40_000.0, 3_000.0], abs=1e-3)


def test_routes_run_from_the_unit_to_the_target_in_lonlat(case: Any) -> None:
    sc, pts = case
    got = {a.unit_id: a for a in advise(sc, target_of(sc, pts), config=CFG)}
    for uid in ("patrol", "heli", "foot"):
        route = np.asarray(got[uid].route)
        x, y = sc.frame.to_xy(route[:, 0], route[:, 1])
        assert (x[0], y[0]) == pytest.approx(pts[uid], abs=1e-3)
        assert (x[-1], y[-1]) == pytest.approx(pts["target"], abs=1e-3)
    # The road is straight: its route is two points, every step of it on the road row.
    assert len(got["patrol"].route) == 2


def test_a_dispatched_or_busy_unit_is_not_offered(case: Any) -> None:
    sc, pts = case
    target = target_of(sc, pts)
    busy = {"patrol": UnitSituation("patrol", incident_id=7)}
    assert [a.unit_id for a in advise(sc, target, busy, CFG)] == ["heli", "foot"]
    away = {"heli": UnitSituation("heli", status="on_scene")}
    assert [a.unit_id for a in advise(sc, target, away, CFG)] == ["patrol", "foot"]
    back = {"heli": UnitSituation("heli", status="returning")}
    assert [a.unit_id for a in advise(sc, target, back, CFG)] == ["patrol", "heli", "foot"]


def test_a_reported_position_replaces_the_base(case: Any) -> None:
    sc, pts = case
    x, y = pts["patrol"]
    lon, lat = sc.frame.to_lonlat(x + 5_000.0, y)  # halfway along the road
    moved = {"patrol": UnitSituation("patrol", status="available", lon=float(lon), lat=float(lat))}
    (first, *_) = advise(sc, target_of(sc, pts), moved, CFG)
    assert first.unit_id == "patrol"
    assert first.total_s == pytest.approx(300.0 + 300.0, abs=1e-6)


def test_off_road_leg_costs_the_cell_it_crosses_at_each_speed(case: Any) -> None:
    sc, pts = case
    # Target 200 m south of the road's row: two cells off road. A step a→b costs half a step
    # in each cell (pace 0.06 s/m on the road, 0.18 s/m off it). By hand, the best of the
    # paths: 99 road steps (594 s), one diagonal road→off step (½·100√2·(0.06 + 0.18) s) and one
    # straight off-road step (18 s); turning straight down at the end would cost 630 s.
    x, y = pts["target"]
    lon, lat = sc.frame.to_lonlat(x, y - 200.0)
    got = advise(sc, target_at_lonlat(sc, float(lon), float(lat)), config=CFG)
    patrol = next(a for a in got if a.unit_id == "patrol")
    by_hand = 99 * 6.0 + 0.5 * 100 * math.sqrt(2) * (0.06 + 0.18) + 18.0
    assert patrol.travel_s == pytest.approx(by_hand, abs=1e-6)
    assert patrol.travel_s < 100 * 6.0 + (3.0 + 9.0) + 18.0


def test_a_track_is_met_where_it_will_be(case: Any) -> None:
    sc, pts = case
    x, y = pts["target"]
    t = predict_target(sc, x - 1_500.0, y, 5.0, 0.0, lead_s=300.0)
    assert (t.x, t.y) == pytest.approx((x, y))
    (first, *_) = advise(sc, t, config=CFG)
    assert first.total_s == pytest.approx(900.0, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    dx=st.floats(-60_000, 60_000),
    dy=st.floats(-60_000, 60_000),
)
def test_air_time_is_readiness_plus_straight_distance_at_air_speed(dx: float, dy: float) -> None:
    sc, pts = build_cached()
    x, y = pts["heli"]
    lon, lat = sc.frame.to_lonlat(x + dx, y + dy)
    grounded = {u: UnitSituation(u, status="unavailable") for u in ("patrol", "foot")}
    (heli,) = advise(sc, target_at_lonlat(sc, float(lon), float(lat)), grounded, CFG)
    assert heli.total_s == pytest.approx(900.0 + math.hypot(dx, dy) / (200 / 3.6), abs=1e-3)


_CACHE: list[tuple[Scenario, dict[str, tuple[float, float]]]] = []


def build_cached() -> tuple[Scenario, dict[str, tuple[float, float]]]:
    if not _CACHE:
        _CACHE.append(build())
    return _CACHE[0]


def test_time_to_the_inner_edge_is_distance_over_inward_speed() -> None:
    from limes.ops.dispatch import time_to_inner_edge
    from limes.web.advice import verdict

    sc = load_scenario("iraq-syria")
    inner = sc.spec.strip.inside_m
    km = 100_000.0
    nx, ny = (float(v) for v in sc.border.inside_normal_at(km))
    tx, ty = (float(v) for v in sc.border.tangent_at(km))
    x, y = (float(v) for v in sc.border.point_at(km, 1000.0))
    # 1.5 m/s straight in, plus a drift along the line that does not bring it nearer.
    t = time_to_inner_edge(sc, x, y, 1.5 * nx + 0.7 * tx, 1.5 * ny + 0.7 * ty)
    assert t == pytest.approx((inner - 1000.0) / 1.5, rel=1e-3)
    assert time_to_inner_edge(sc, x, y, -nx, -ny) is None  # walking back out
    past = [float(v) for v in sc.border.point_at(km, inner + 10.0)]
    assert time_to_inner_edge(sc, *past, nx, ny) == 0.0
    assert verdict(600.0, 900.0) == ("can_intercept", 300.0)
    assert verdict(1000.0, 900.0) == ("too_late", -100.0)
    assert verdict(1000.0, None) == (None, None)

"""Units dispatched through the live API: sent as advised, moving at scenario speed, judged.

A one-sector border with one tower over the crossing; the service runs in process (SQLite, no
broker, on an exercise clock); one crossing group's reports go into its pipeline while the
`ApiDispatcher` works the incidents over HTTP. Everything asserted is read back through the API.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_fixtures import LAW, small_data

import limes.exercise
from limes.clock import ExerciseClock
from limes.exercise.door import Door
from limes.exercise.in_process import PipelineSender
from limes.scenario.load import scenario_from_data
from limes.sensing.movement import pace_s_per_m
from limes.service.config import ServiceConfig
from limes.service.run import Service
from limes.sim.config import SimConfig
from limes.sim.dispatcher import ApiDispatchConfig, ApiDispatcher, pursue
from limes.sim.response import RouteMove
from limes.sim.run import simulate
from limes.store.accounts import add_user

SPEED = 300.0  # simulated seconds per wall second
HELI = {"id": "HELI", "kind": "helicopter", "base": {"chainage_km": 1.0, "offset_m": 3000},
        "readiness": {"mean_s": 60.0, "sd_s": 0.0}, "speeds": {"air_kmh": 120.0}}  # fmt: skip
SLOW = {"id": "SLOW", "kind": "qrf", "base": {"chainage_km": 1.0, "offset_m": 9000},
        "readiness": {"mean_s": 1200.0, "sd_s": 0.0},
        "speeds": {"road_kmh": 2.0, "off_road_kmh": 2.0}}  # fmt: skip


def border(units: list[dict[str, Any]]) -> dict[str, Any]:
    """2 km of border, one sector, one tower over it, one hostile walking profile."""
    model = {"name": "tower", "kind": "thermal_camera", "mast_height_m": 15,
             "latency": {"mean_s": 2.0, "sd_s": 0.0},
             "laws": {"person": {"day": {**LAW, "false_alarm_per_h": 0.0, "hazard_per_s": 0.2},
                                 "night": {**LAW, "false_alarm_per_h": 0.0,
                                           "hazard_per_s": 0.2}}}}  # fmt: skip
    return small_data(
        name="sim-dispatch-api",
        border={"line": [[41.0, 34.0], [41.02, 34.0]], "inside": "right"},
        strip={"outside_m": 1500.0, "inside_m": 1500.0, "max_sensor_distance_m": 10000.0},
        sectors=[{"name": "all", "command": "Command", "far_side": "far", "from_km": 0,
                  "to_km": 1.9}],
        barriers=[],
        sensor_models=[model],
        sensors=[{"id": "T1", "model": "tower", "position": {"chainage_km": 1.0, "offset_m": 300}}],
        units=units,
        threats=[{"name": "cell", "mode": "foot", "stance": "hostile", "speed_kmh": 6.0,
                  "group_size": [2, 4], "knowledge": "none", "share": 1}],
    )  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-5e3, 5e3), st.floats(-5e3, 5e3)), min_size=2, max_size=6),
    st.floats(0.1, 0.99),
)
def test_a_unit_covers_its_route_in_length_times_its_pace(
    points: list[tuple[float, float]], share: float
) -> None:
    sc = scenario_from_data(border([SLOW]))
    move = RouteMove(sc, sc.units["SLOW"], np.array(points))
    xy = np.array(points)
    length = float(np.hypot(*np.diff(xy, axis=0).T).sum())
    pace = float(pace_s_per_m(SLOW["speeds"]["off_road_kmh"]))  # type: ignore[index]
    move.advance(share * length * pace)
    # Where it is: `share` of the way along the polyline, by arc length (brute force).
    seg = np.hypot(*np.diff(xy, axis=0).T)
    k = int(np.searchsorted(np.cumsum(seg), share * length))
    k = min(k, len(seg) - 1)
    before = float(np.cumsum(seg)[k] - seg[k])
    f = (share * length - before) / seg[k] if seg[k] > 0 else 0.0
    want = xy[k] + f * (xy[k + 1] - xy[k])
    assert math.hypot(move.x - want[0], move.y - want[1]) < 1e-6 * max(1.0, length)
    move.advance((1.0 - share) * length * pace + 1e-6)
    assert not move.on_route and (move.x, move.y) == pytest.approx(points[-1], abs=1e-6)
    # Past the route it chases, at the same pace, never overshooting.
    move.advance(10.0, chase=(move.x + 1e6, move.y))
    assert move.x - points[-1][0] == pytest.approx(10.0 / pace)


def _changes(api: str, token: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while True:
            page = client.get(f"{api}/api/changes", params={"cursor": cursor, "limit": 500}).json()
            out.extend(page["changes"])
            if not page["changes"]:
                return out
            cursor = page["cursor"]


def exercise(units: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    """One crossing group through the live service; what the API shows afterwards."""
    data = border(units)
    sc = scenario_from_data(data)
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    seed, hours = 3, 3.0
    cfg = SimConfig(actors_per_day=8.0 * 24.0 / hours, dispatch=False)
    first = simulate(sc, hours, None, seed, None, config=cfg)
    hit = {e.actor_id for e in first.emissions if e.actor_id}
    actor = next(a for a in first.actors if a.crossing and a.id in hit and a.goal_s)
    mine = [e for e in first.emissions if e.actor_id == actor.id]
    begin_s = min(e.send_s for e in mine) - 60.0
    # The run again, its second `begin_s` at the present: the service's clock starts there.
    present = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    cfg = replace(cfg, start=present - timedelta(seconds=begin_s))
    made = simulate(sc, hours, None, seed, None, config=cfg)
    again = next(a for a in made.actors if a.id == actor.id)
    assert np.array_equal(again.xy, actor.xy), "the group's walk should not depend on the start"
    emitted = [e for e in made.emissions if e.actor_id == actor.id]
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    service = Service(ServiceConfig(scenario=scenario_file, database_url=url, mqtt=None,
                                    http="127.0.0.1:0", clock_start=present, clock_speed=SPEED,
                                    tick_lag_s=1.0))  # fmt: skip
    service.start()
    try:
        api = f"http://{service.addresses()['http']}"
        token = add_user(url, "duty-commander", "commander")
        tracker = add_user(url, "unit-trackers", "sensor", [u["id"] for u in units])
        clock = ExerciseClock(cfg.start, SPEED, epoch=present - timedelta(seconds=begin_s / SPEED))
        assert service.pipeline is not None
        sender = PipelineSender(service.pipeline, flush_on_close=False, source="exercise")
        dispatcher = ApiDispatcher(api, token, report_token=tracker)
        dcfg = ApiDispatchConfig(settle_s=120.0)
        try:
            done = pursue(sc, made.actors, emitted, sender, clock, dispatcher, dcfg,
                          begin_s=begin_s)  # fmt: skip
        finally:
            dispatcher.close()
        headers = {"Authorization": f"Bearer {token}"}
        incidents = httpx.get(f"{api}/api/incidents", headers=headers).json()["items"]
        details = [
            httpx.get(f"{api}/api/incidents/{i['id']}", headers=headers).json() for i in incidents
        ]
        changes = _changes(api, token)
    finally:
        service.stop()
    return {"scenario": sc, "actor": again, "done": done, "details": details,
            "changes": changes, "config": dcfg, "start": cfg.start}  # fmt: skip


def unit_positions(changes: list[dict[str, Any]], unit_id: str) -> list[dict[str, Any]]:
    """The unit's reported states, in the order the change log holds them."""
    return [
        c["payload"] for c in changes
        if c["kind"].startswith("unit") and c["payload"].get("unit_id") == unit_id
        and c["payload"].get("lon") is not None
    ]  # fmt: skip


def test_a_fast_unit_sent_through_the_api_intercepts_the_group(tmp_path: Path) -> None:
    got = exercise([HELI, SLOW], tmp_path)
    sc, actor, details = got["scenario"], got["actor"], got["details"]
    assert got["done"].missions, "the dispatcher should have sent a unit"
    mission = got["done"].missions[0]
    assert mission.order.unit_id == "HELI", "the advice ranks the close helicopter first"
    sent = next(d for d in details if d["id"] == mission.order.incident_id)
    assert [d["unit_id"] for d in sent["dispatches"]] == ["HELI"]
    assert sent["state"] == "resolved" and sent["outcome"] == "intercepted"
    assert actor.stop_s is not None and actor.goal_s is not None and actor.stop_s < actor.goal_s
    # Reported positions: never faster than the scenario's air speed; closing on the group.
    reports = [r for r in unit_positions(got["changes"], "HELI") if r["status"] == "en_route"]
    assert len(reports) >= 2
    times = np.array([datetime.fromisoformat(r["time"]).timestamp() for r in reports])
    x, y = sc.frame.to_xy(
        np.array([r["lon"] for r in reports]), np.array([r["lat"] for r in reports])
    )
    step_m = np.hypot(np.diff(x), np.diff(y))
    limit_mps = HELI["speeds"]["air_kmh"] / 3.6  # type: ignore[index]
    assert np.all(step_m <= limit_mps * np.diff(times) + 1.0)
    gx, gy = actor.position(times - got["start"].timestamp())
    gap = np.hypot(x - gx, y - gy)
    assert gap[-1] < gap[0]
    assert gap[-1] <= got["config"].capture_radius_m + limit_mps * got["config"].report_every_s


def test_a_unit_too_slow_to_arrive_loses_the_group(tmp_path: Path) -> None:
    got = exercise([SLOW], tmp_path)
    mission = got["done"].missions[0]
    assert mission.order.unit_id == "SLOW"
    sent = next(d for d in got["details"] if d["id"] == mission.order.incident_id)
    assert sent["state"] == "resolved" and sent["outcome"] == "lost"
    assert got["actor"].stop_s is None


pytestmark = pytest.mark.timeout(120)


def test_run_exercise_through_an_http_door_dispatches_through_the_api(tmp_path: Path) -> None:
    data = border([HELI])
    sc = scenario_from_data(data)
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'limes.db'}"
    present = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    service = Service(ServiceConfig(scenario=scenario_file, database_url=url, mqtt=None,
                                    http="127.0.0.1:0", clock_start=present, clock_speed=SPEED,
                                    tick_lag_s=1.0))  # fmt: skip
    service.start()
    try:
        api = f"http://{service.addresses()['http']}"
        commander = add_user(url, "duty-commander", "commander")
        sensors = add_user(url, "towers", "sensor", ["T1"])
        door = Door("http", address=api, token=sensors)
        cfg = SimConfig(actors_per_day=24.0 * 3, dispatch=False)
        result = limes.exercise.simulate(
            sc, 1.0, SPEED, 5, door, config=cfg, start=present, dispatch="api",
            dispatch_token=commander, dispatch_config=ApiDispatchConfig(settle_s=120.0),
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {commander}"}
        incidents = httpx.get(f"{api}/api/incidents", headers=headers).json()["items"]
    finally:
        service.stop()
    assert result.dispatches and all(d.unit_id == "HELI" for d in result.dispatches)
    caught = {d.actor_id for d in result.dispatches if d.interrupted}
    assert caught and caught == {a.id for a in result.actors if a.stop_s is not None}
    assert result.scorecard.totals.interrupted == len(caught)
    outcomes = {i["outcome"] for i in incidents if i["state"] == "resolved"}
    assert "intercepted" in outcomes

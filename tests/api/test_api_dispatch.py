"""The service's dispatch routes: advice for a place and an incident, sending a unit, roles."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_support import Api, database, make_api
from fastapi.testclient import TestClient

from limes.ops.alert import Alert, Rule, Severity
from limes.ops.dispatch import advise, target_at_lonlat
from limes.ops.dispatch_fields import build_field
from limes.scenario.load import load_scenario


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    sc = load_scenario("iraq-syria")
    for db in database("sqlite", tmp_path):
        made = make_api(db, sc)
        yield Api(made.app, TestClient(made.app), made.db, made.tokens)


def _open_incident(api: Api, chainage_km: float) -> dict[str, object]:
    sc = api.services.scenario
    assert sc is not None
    x, y = sc.border.point_at(chainage_km * 1000.0, 200.0)
    lon, lat = (float(v) for v in sc.frame.to_lonlat(x, y))
    sector = sc.sector_at(chainage_km)
    alert = Alert(
        alert_id="a-dispatch", rule=Rule.CROSSED, track_id="t-dispatch",
        time=datetime.now(UTC), lon=lon, lat=lat, target_class="person", group_size=4,
        chainage_km=chainage_km, offset_m=200.0, sector=sector.name, command=sector.command,
        far_side=sector.far_side, channel=sc.channel_of(sector), severity=Severity.HIGH,
    )  # fmt: skip
    api.services.writer.write(alerts=[alert])
    (incident,) = api.client.get("/api/incidents", headers=api.headers("viewer")).json()["items"]
    return dict(incident)


def test_incident_advice_is_the_dispatch_ranking_and_sending_takes_the_unit_out(api: Api) -> None:
    incident = _open_incident(api, 120.0)
    url = f"/api/incidents/{incident['id']}/advice"
    assert api.client.get(url).status_code == 401
    got = api.client.get(url, headers=api.headers("viewer"))
    assert got.status_code == 200, got.text
    units = got.json()["units"]
    sc = api.services.scenario
    assert sc is not None
    target = target_at_lonlat(sc, incident["lon"], incident["lat"])  # type: ignore[arg-type]
    expected = {a.unit_id: a for a in advise(sc, target)}
    # Served from the kept travel fields: the same units; within `near_km` of the target the
    # same times (same cells, same paces); farther, never slower than the search confined to
    # the target-and-units box (the field's wider extent only adds paths), and within 3 % of
    # a fine search over a box wide enough for any useful detour (the far cells are coarser).
    assert {u["unit_id"] for u in units} == set(expected)
    cfg = api.services.advice.config  # type: ignore[union-attr]
    far = []
    for u in units:
        exact = expected[u["unit_id"]]
        unit = sc.units[u["unit_id"]]
        ux, uy = sc.position_xy(unit.base)
        straight = math.hypot(ux - target.x, uy - target.y)
        if exact.mode == "air" or straight <= cfg.near_km * 1e3:
            assert u["total_s"] == pytest.approx(exact.total_s), u["unit_id"]
        else:
            assert u["total_s"] <= exact.total_s * 1.01, u["unit_id"]
            far.append((straight, unit, ux, uy, u["total_s"]))
    straight, unit, ux, uy, served = min(far, key=lambda f: f[0])
    fine = build_field(sc, unit, ux, uy, straight + 15_000.0, cfg.cell_m).to(target.x, target.y)
    assert fine is not None
    assert served == pytest.approx(unit.readiness.mean_s + fine[0], rel=0.03)
    assert [u["total_s"] for u in units] == sorted(u["total_s"] for u in units)

    top = units[0]["unit_id"]
    send = f"/api/incidents/{incident['id']}/dispatch"
    assert (
        api.client.post(send, json={"unit_id": top}, headers=api.headers("viewer")).status_code
        == 403
    )
    early = api.client.post(send, json={"unit_id": top}, headers=api.headers("operator"))
    assert early.status_code == 409 and "acknowledge" in early.json()["detail"]
    ack = api.client.post(
        f"/api/incidents/{incident['id']}/transitions",
        json={"action": "acknowledge"},
        headers=api.headers("operator"),
    )
    assert ack.status_code == 200, ack.text
    sent = api.client.post(send, json={"unit_id": top}, headers=api.headers("operator"))
    assert sent.status_code == 200, sent.text
    assert sent.json()["incident"]["state"] == "assigned"
    again = api.client.get(url, headers=api.headers("viewer")).json()["units"]
    assert top not in [u["unit_id"] for u in again]


def test_advice_for_a_place_answers_and_refuses_a_bad_position(api: Api) -> None:
    ok = api.client.get("/api/dispatch/advice?lon=41.9&lat=36.7", headers=api.headers("viewer"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["units"]
    bad = api.client.get("/api/dispatch/advice?lon=200&lat=36.7", headers=api.headers("viewer"))
    assert bad.status_code == 422

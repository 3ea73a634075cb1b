"""The service's dispatch routes: advice for a place and an incident, sending a unit, roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_support import Api, database, make_api
from fastapi.testclient import TestClient

from limes.ops.alert import Alert, Rule, Severity
from limes.ops.dispatch import advise, target_at_lonlat
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
    expected = advise(sc, target_at_lonlat(sc, incident["lon"], incident["lat"]))  # type: ignore[arg-type]
    assert [u["unit_id"] for u in units] == [a.unit_id for a in expected]
    assert [u["total_s"] for u in units] == pytest.approx([a.total_s for a in expected])

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

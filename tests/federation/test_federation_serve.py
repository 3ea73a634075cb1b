"""`limes serve --federation FILE --site NAME`: two services, the built-in sharing policy; a
working site cut from the JOC for ten minutes of exercise time."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from federation_support import Federation, alert_row, start_federation, wait_for
from sqlalchemy import select
from test_federation_links import _applied_log, _assert_once_in_order

from limes.clock import ExerciseClock
from limes.federation.deployment import Deployment, Link, Site
from limes.ops.detection import Detection
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario
from limes.service import Service, ServiceConfig
from limes.store.changes import record_changes
from limes.store.database import Database
from limes.store.federated import received_objects
from limes.store.tables import AlertRow, IncidentRow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
from test_pipeline import SCENARIO, walker

pytestmark = [pytest.mark.federation, pytest.mark.slow]


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    fed = start_federation(tmp_path / "nats", ["nineveh", "joc"])
    yield fed
    fed.stop()


def test_two_services_federate_through_the_scenarios_release_rules(
    federation: Federation, tmp_path: Path
) -> None:
    deployment = Deployment(
        sites=[Site(name="nineveh", sectors=["Nineveh"], partner="nineveh-oc",
                    nats_url=federation.sites["nineveh"].url),
               Site(name="joc", sectors="all", partner="joc",
                    nats_url=federation.sites["joc"].url)],
        links=[Link.model_validate({"from": "nineveh", "to": "joc"})],
    )  # fmt: skip
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(deployment.model_dump(by_alias=True)))
    services = {
        name: Service(
            ServiceConfig(
                scenario="iraq-syria",
                database_url=f"sqlite:///{tmp_path / name}.db",
                mqtt=None,
                http=None,
                tick_s=None,
                quarantine_file=None,
                federation=path,
                site=name,
            )
        )
        for name in ("nineveh", "joc")
    }
    for service in services.values():
        service.start()
    try:
        origin, joc = services["nineveh"].db, services["joc"].db
        assert origin is not None and joc is not None
        when = datetime.now(UTC)
        with origin.session() as session:
            record_changes(session, [("alert", alert_row(i, "Nineveh", when)) for i in range(5)],
                           when)  # fmt: skip

        def arrived() -> bool:
            with joc.reader() as session:
                return len(received_objects(session, "nineveh", "alert")) == 5

        asyncio.run(wait_for(arrived, "the JOC's copies of nineveh's alerts", timeout=60))
        with joc.reader() as session:
            held = received_objects(session, "nineveh", "alert")
        # The built-in policy gives the JOC everything, marked as the floor marks it.
        assert {r.payload["sector"] for r in held} == {"Nineveh"}
        assert {r.payload["originator"] for r in held} == {"watch-floor"}
    finally:
        for service in services.values():
            service.stop()


# --- a working site cut from the JOC for ten minutes of exercise time ---------------------

#: Every service on one exercise clock at ×60: ten exercise minutes are ten wall seconds.
SPEED = 60.0
CUT_S = 600.0
SHARING = {"home": "east-floor", "partners": [{"id": "joc", "name": "Joint Operations Command",
           "rules": [{"name": "all", "kinds": ["alert", "incident"], "sectors": ["*"],
                      "tlp_ceiling": "red"}]}]}  # fmt: skip


def _walkers(sc: Scenario, starts: list[tuple[str, datetime, float]]) -> list[Detection]:
    """Walkers crossing the line, one per (sensor, start, chainage), keys kept apart."""
    out: list[Detection] = []
    for i, (sensor, t0, chainage) in enumerate(starts):
        out += [dataclasses.replace(d, seq=d.seq + 10_000 * i)
                for d in walker(sc, sensor, t0, chainage, seed=i)]  # fmt: skip
    return sorted(out, key=lambda d: d.time)


def _exercise_config(
    scenario: Path, root: Path, deployment: Path, site: str, present: datetime
) -> ServiceConfig:
    """A site's service on the shared exercise clock."""
    return ServiceConfig(
        scenario=scenario, database_url=f"sqlite:///{root / site}.db", mqtt=None, http=None,
        tick_lag_s=1.0, quarantine_file=None, federation=deployment, site=site,
        clock_start=present, clock_speed=SPEED,
    )  # fmt: skip


def _alert_keys(db: Database) -> set[str]:
    with db.reader() as session:
        return {f"alert:{a}" for a in session.scalars(select(AlertRow.alert_id))}


def test_a_working_site_cut_for_ten_exercise_minutes_reaches_the_joc_once_in_order(
    federation: Federation, tmp_path: Path
) -> None:
    sc = scenario_from_data(deepcopy(SCENARIO))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump({**deepcopy(SCENARIO), "sharing": SHARING}))
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(federation.deployment([("nineveh", "joc")],
                                   silent_limit_s=120.0).model_dump(by_alias=True)))  # fmt: skip
    present = datetime.now(UTC).replace(microsecond=0)
    clock = ExerciseClock(present, SPEED)
    services = {name: Service(_exercise_config(scenario, tmp_path, path, name, present))
                for name in ("nineveh", "joc")}  # fmt: skip
    for service in services.values():
        service.start()
    site, joc = services["nineveh"], services["joc"]
    assert site.db is not None and joc.db is not None and site.pipeline is not None
    site_db, joc_db, pipeline = site.db, joc.db, site.pipeline

    def held() -> set[str]:
        with joc_db.reader() as session:
            return {r.object_id for r in received_objects(session, "nineveh", "alert")}

    def link_state() -> str | None:
        runner = joc.federation
        status = runner.site.links.get("nineveh") if runner is not None else None
        return None if status is None else ("silent" if status.silent else "ok")

    async def feed(detections: list[Detection], until: datetime) -> None:
        """The site's door: each detection submitted when the exercise clock reaches it."""
        while detections and detections[0].time <= until:
            now = clock.now()
            due = [d for d in detections if d.time <= now]
            if due:
                pipeline.submit(due)
                del detections[: len(due)]
            await asyncio.sleep(0.02)
        while clock.now() < until:
            await asyncio.sleep(0.02)

    async def exercise() -> None:
        t = clock.now()
        before = _walkers(sc, [("tower-w", t, 4000.0)])
        await feed(before, before[-1].time)
        await wait_for(lambda: bool(held()) and held() == _alert_keys(site_db), "the first alerts")
        federation.sites["nineveh"].stop()  # the leaf link is cut: the site's server is down
        cut = clock.now()
        # The site keeps working through the cut: walkers cross in both sectors.
        later = cut + timedelta(seconds=200.0)
        during = _walkers(sc, [("tower-e", cut, 13_000.0), ("tower-w", later, 5000.0)])
        stored = len(_alert_keys(site_db))
        await feed(during, cut + timedelta(seconds=CUT_S))
        assert len(_alert_keys(site_db)) > stored, "the site raised nothing during the cut"
        assert link_state() == "silent"
        federation.sites["nineveh"].start()
        await wait_for(lambda: held() == _alert_keys(site_db), "the JOC to catch up", 90)
        await wait_for(lambda: link_state() == "ok", "the link well again")

    try:
        asyncio.run(exercise())
    finally:
        for service in services.values():
            service.stop()
    log = _applied_log(joc_db)
    _assert_once_in_order(log)
    with joc_db.reader() as session:
        incidents = {r.object_id for r in received_objects(session, "nineveh", "incident")}
    with site_db.reader() as session:
        opened = {f"incident:{i}" for i in session.scalars(select(IncidentRow.id))}
    assert incidents == opened

"""Sites over real nats-server leaf nodes: changes reach the JOC once, newest version last,
through a link cut for ten minutes of exercise time, a killed forwarder and a re-created stream,
and never beyond the policy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml
from federation_support import (
    ALLOWED_SECTORS,
    Federation,
    alert_row,
    incident_row,
    share_context,
    site_process,
    start_federation,
    wait_for,
)
from sqlalchemy import select

from limes.clock import ExerciseClock
from limes.federation.deployment import Deployment
from limes.federation.envelope import SUBJECT_ROOT
from limes.federation.site import FederatedSite
from limes.federation.streams import ensure_streams, inbound_stream
from limes.store.changes import record_changes
from limes.store.database import Database, connect
from limes.store.federated import received_objects
from limes.store.migrate import migrate
from limes.store.tables import ChangeRow

pytestmark = [pytest.mark.federation, pytest.mark.slow]


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    fed = start_federation(tmp_path / "nats", ["nineveh", "jazeera", "joc"])
    yield fed
    fed.stop()


def _db(tmp_path: Path, name: str) -> Database:
    db = connect(f"sqlite:///{tmp_path / name}.db")
    migrate(db)
    return db


def _record(
    db: Database, sector: str, n: int, start: int = 0, *, versions: int = 2,
    when: datetime | None = None,
) -> None:  # fmt: skip
    """n alerts, each with an incident stored `versions` times (its transitions), at `when`
    (default: now on the wall clock)."""
    when = when or datetime.now(UTC)
    for i in range(start, start + n):
        with db.session() as session:
            changes = [("alert", alert_row(i, sector, when))]
            changes += [("incident", incident_row(i, sector, f"s{v}", when))
                        for v in range(versions)]  # fmt: skip
            record_changes(session, changes, when)
    with db.session() as session:
        record_changes(session, [("alert", alert_row(90_000 + start, "Anbar al-Qaim", when))],
                       when)  # fmt: skip


def _expected(db: Database) -> dict[tuple[str, str], int]:
    """(kind, key) → newest version the JOC may hold, from the origin's own change log."""
    with db.reader() as session:
        rows = session.scalars(select(ChangeRow).order_by(ChangeRow.id)).all()
        out: dict[tuple[str, str], int] = {}
        for row in rows:
            if (
                row.kind not in ("alert", "incident")
                or row.payload["sector"] not in ALLOWED_SECTORS
            ):
                continue
            key = (
                f"alert:{row.payload['alert_id']}"
                if row.kind == "alert"
                else f"incident:{row.payload['id']}"
            )
            out[(row.kind, key)] = out.get((row.kind, key), 0) + 1
        return out


def _received(db: Database, origin: str) -> dict[tuple[str, str], int]:
    with db.reader() as session:
        return {(r.kind, r.object_id): r.version for r in received_objects(session, origin)}


def _applied_log(db: Database) -> list[tuple[str, str, str, int]]:
    with db.reader() as session:
        rows = session.scalars(select(ChangeRow).where(ChangeRow.kind == "federated")
                               .order_by(ChangeRow.id)).all()  # fmt: skip
        return [
            (r.payload["origin"], r.payload["kind"], r.payload["id"], r.payload["version"])
            for r in rows
        ]


def _assert_once_in_order(log: list[tuple[str, str, str, int]]) -> None:
    assert len(log) == len(set(log)), "a change was applied twice"
    newest: dict[tuple[str, str, str], int] = {}
    for origin, kind, oid, version in log:
        key = (origin, kind, oid)
        assert version > newest.get(key, 0), f"{key} went back to version {version}"
        newest[key] = version


async def _run_sites(sites: list[FederatedSite], stop: asyncio.Event) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(site.run(stop)) for site in sites]


def _sites(
    deployment: Deployment,
    dbs: dict[str, Database],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, FederatedSite]:
    return {
        name: FederatedSite(share_context(db, name), deployment, deployment.site(name),
                            heartbeat_s=0.3, watch_s=0.3, stall_after_s=3.0, clock=clock)
        for name, db in dbs.items()
    }  # fmt: skip


#: Ten minutes of exercise time through the cut, at ×60: ten seconds of wall time.
CUT_S = 600.0
SPEED = 60.0


def test_a_link_cut_for_ten_exercise_minutes_catches_up_once_in_version_order(
    federation: Federation, tmp_path: Path
) -> None:
    # Every site on one exercise clock (as `limes serve --exercise-start/--exercise-speed`
    # runs them): heartbeats, the JOC's silence judgement and every change's time read it, so
    # a silent limit of two exercise minutes is two wall seconds.
    clock = ExerciseClock(datetime.now(UTC), SPEED)
    deployment = federation.deployment([("nineveh", "joc"), ("jazeera", "joc")],
                                       silent_limit_s=120.0)  # fmt: skip
    dbs = {n: _db(tmp_path, n) for n in ("nineveh", "jazeera", "joc")}
    sites = _sites(deployment, dbs, clock.now)

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = await _run_sites(list(sites.values()), stop)
        _record(dbs["nineveh"], "Nineveh", 50, when=clock.now())
        _record(dbs["jazeera"], "Jazeera", 30, when=clock.now())
        for origin in ("nineveh", "jazeera"):
            want = _expected(dbs[origin])
            await wait_for(lambda o=origin, w=want: _received(dbs["joc"], o) == w,
                           f"the JOC to hold {origin}'s changes")  # fmt: skip

        federation.sites["nineveh"].stop()  # the link is cut: nineveh's own server is down
        cut = clock.now()
        # The site works on through the cut: each exercise minute, new alerts and their
        # incidents' transitions, stamped by the exercise clock.
        minute = 0
        while (clock.now() - cut).total_seconds() < CUT_S:
            if (clock.now() - cut).total_seconds() >= 60.0 * minute:
                _record(dbs["nineveh"], "Nineveh", 20, start=50 + 20 * minute, versions=3,
                        when=clock.now())  # fmt: skip
                minute += 1
            await asyncio.sleep(0.05)
        assert sites["joc"].links["nineveh"].silent, "nineveh not reported silent in the cut"
        assert not sites["joc"].links["jazeera"].silent
        federation.sites["nineveh"].start()
        assert minute >= 10, "the site should have recorded changes in each minute of the cut"

        want = _expected(dbs["nineveh"])
        await wait_for(lambda: _received(dbs["joc"], "nineveh") == want,
                       "the JOC to catch up after the link is back", timeout=90)  # fmt: skip
        await wait_for(lambda: not sites["joc"].links["nineveh"].silent, "nineveh well again")
        stop.set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    log = _applied_log(dbs["joc"])
    _assert_once_in_order(log)
    assert {o for o, *_ in log} == {"nineveh", "jazeera"}
    with dbs["joc"].reader() as session:
        states = [
            r.payload["state"]
            for r in session.scalars(select(ChangeRow).where(ChangeRow.kind == "link")).all()
            if r.payload["origin"] == "nineveh"
        ]
    assert "silent" in states and states[-1] == "ok"


def test_nothing_outside_the_policy_is_on_the_wire_or_in_the_store(
    federation: Federation, tmp_path: Path
) -> None:
    deployment = federation.deployment([("nineveh", "joc")])
    dbs = {n: _db(tmp_path, n) for n in ("nineveh", "joc")}
    sites = _sites(deployment, dbs)
    seen: list[dict[str, Any]] = []

    async def scenario() -> None:
        wire = await nats.connect(federation.sites["nineveh"].url)

        async def keep(message: Any) -> None:
            seen.append(json.loads(message.data))

        await wire.subscribe(f"{SUBJECT_ROOT}.>", cb=keep)
        stop = asyncio.Event()
        tasks = await _run_sites(list(sites.values()), stop)
        _record(dbs["nineveh"], "Nineveh", 20)
        _record(dbs["nineveh"], "Anbar al-Tanf", 20, start=100)
        want = _expected(dbs["nineveh"])
        await wait_for(lambda: _received(dbs["joc"], "nineveh") == want, "the JOC's copy")
        stop.set()
        await asyncio.gather(*tasks)
        await wire.close()

    asyncio.run(scenario())
    bodies = [m for m in seen if "payload" in m]
    assert bodies, "nothing was seen on the wire"
    assert all(m["payload"]["sector"] in ALLOWED_SECTORS for m in bodies)
    withheld = ("sensor_id", "sensors", "sensor_positions")
    assert not any(k in m["payload"]["fields"] for m in bodies for k in withheld)
    with dbs["joc"].reader() as session:
        held = received_objects(session)
        assert held and all(r.payload["sector"] in ALLOWED_SECTORS for r in held)


def test_a_recreated_inbound_stream_redelivers_without_duplicates(
    federation: Federation, tmp_path: Path
) -> None:
    deployment = federation.deployment([("nineveh", "joc")])
    dbs = {n: _db(tmp_path, n) for n in ("nineveh", "joc")}
    sites = _sites(deployment, dbs)

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = await _run_sites(list(sites.values()), stop)
        _record(dbs["nineveh"], "Nineveh", 40)
        want = _expected(dbs["nineveh"])
        await wait_for(lambda: _received(dbs["joc"], "nineveh") == want, "the first copy")
        stop.set()
        await asyncio.gather(*tasks)

        nc = await nats.connect(federation.sites["joc"].url)
        js = nc.jetstream()
        await js.delete_stream(inbound_stream("joc"))
        await ensure_streams(js, deployment, deployment.site("joc"))  # sources from the start
        await nc.close()

        stop = asyncio.Event()
        tasks = await _run_sites(list(sites.values()), stop)
        _record(dbs["nineveh"], "Nineveh", 10, start=40)
        want = _expected(dbs["nineveh"])
        await wait_for(lambda: _received(dbs["joc"], "nineveh") == want, "the second copy")
        await wait_for(
            lambda: sites["joc"].receiver is not None and sites["joc"].receiver.stats.stale > 0,
            "the redelivered copies",
        )
        stop.set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    _assert_once_in_order(_applied_log(dbs["joc"]))


def test_a_site_killed_mid_sync_resumes_without_loss_or_duplicates(
    federation: Federation, tmp_path: Path
) -> None:
    deployment = federation.deployment([("nineveh", "joc")])
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(deployment.model_dump(by_alias=True)))
    dbs = {n: _db(tmp_path, n) for n in ("nineveh", "joc")}
    _record(dbs["nineveh"], "Nineveh", 1500)
    want = _expected(dbs["nineveh"])
    joc = FederatedSite(share_context(dbs["joc"], "joc"), deployment, deployment.site("joc"))

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(joc.run(stop))
        process = site_process(path, "nineveh", f"sqlite:///{tmp_path / 'nineveh'}.db")
        try:
            await wait_for(lambda: len(_received(dbs["joc"], "nineveh")) > 0, "the first copies")
            process.kill()  # SIGKILL: no clean shutdown, the cursor is wherever it was
            process.wait(timeout=10)
            assert len(_received(dbs["joc"], "nineveh")) < len(want), "killed too late to tell"
            process = site_process(path, "nineveh", f"sqlite:///{tmp_path / 'nineveh'}.db")
            await wait_for(lambda: _received(dbs["joc"], "nineveh") == want, "the rest", 120)
        finally:
            process.kill()
            process.wait(timeout=10)
            stop.set()
            await task

    asyncio.run(scenario())
    _assert_once_in_order(_applied_log(dbs["joc"]))

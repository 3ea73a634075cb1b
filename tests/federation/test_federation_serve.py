"""`limes serve --federation FILE --site NAME`: two services, the built-in sharing policy."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from federation_support import Federation, alert_row, start_federation, wait_for

from limes.federation.deployment import Deployment, Link, Site
from limes.service import Service, ServiceConfig
from limes.store.changes import record_changes
from limes.store.federated import received_objects

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

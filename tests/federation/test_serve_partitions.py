"""`limes serve --partitions URL --site NAME`: the service stores what its doors accept and
publishes it by sector to the site's partitions; a tracker worker process tracks it.

The reference is the one-process pipeline (`limes serve` without --partitions) on the same
detections: the worker stores the same alerts (same deterministic ids), the service raises none
itself, and a restarted service goes on after what it already published.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path

import nats
import pytest
import yaml
from federation_support import Federation, start_federation, wait_for
from sqlalchemy import func, select
from test_partitioned_workers import _stored_alerts, ids, one_process, two_sectors

from limes.errors import ServiceError
from limes.federation.partitions import detection_stream
from limes.federation.worker import partitions_drained
from limes.ops.detection import Detection
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario
from limes.service import Service, ServiceConfig
from limes.store.tables import DetectionRow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
from test_pipeline import SCENARIO, by_second

pytestmark = [pytest.mark.federation]


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    fed = start_federation(tmp_path / "nats", ["east"])
    yield fed
    fed.stop()


def _site(
    federation: Federation, tmp_path: Path
) -> tuple[Scenario, Path, str, str, list[Detection]]:
    """The two-sector scenario (and its file), the site's database and NATS URL, and walkers'
    detections in both sectors."""
    sc: Scenario = scenario_from_data(deepcopy(SCENARIO))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(deepcopy(SCENARIO)))
    database = f"sqlite:///{tmp_path / 'site.db'}"
    return sc, scenario, database, federation.sites["east"].url, two_sectors(sc)


def _service(scenario: Path, database: str, url: str, workers: int = 0) -> Service:
    return Service(ServiceConfig(
        scenario=scenario, database_url=database, mqtt=None, http=None, tick_s=None,
        quarantine_file=None, partitions=url, site="east", workers=workers,
    ))  # fmt: skip


async def _stream_messages(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return int((await nc.jetstream().stream_info(detection_stream("east"))).state.messages)
    finally:
        await nc.close()


def _stored_detections(service: Service) -> int:
    assert service.db is not None
    with service.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(DetectionRow)) or 0)


def test_serve_publishes_its_doors_detections_and_a_worker_tracks_them(
    federation: Federation, tmp_path: Path
) -> None:
    sc, scenario, database, url, detections = _site(federation, tmp_path)
    batches = by_second(detections)
    half = len(batches) // 2
    partitions = len(sc.spec.sectors)

    service = _service(scenario, database, url)
    service.start()
    worker = subprocess.Popen(
        [sys.executable, "-m", "limes.cli", "federation", "worker", "--scenario", str(scenario),
         "--site", "east", "--database", database, "--nats", url, "--worker", "0",
         "--workers", "1"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert service.pipeline is not None and service.outbox is not None
        # What the doors hand over (the CoT and HTTP doors call `submit`; the MQTT door's
        # committer too): the service raises nothing itself, it only stores and publishes.
        raised = [a for batch in batches[:half] for a in service.pipeline.submit(batch)]
        assert raised == []
        outbox = service.outbox
        stored = sum(len(b) for b in batches[:half])
        asyncio.run(wait_for(lambda: outbox.stats.published == stored,
                             "the first half stored and published"))  # fmt: skip
        cursor = outbox.stats.cursor
        messages = asyncio.run(_stream_messages(url))
        service.stop()

        # A restart goes on after what is in the stream: nothing is published twice.
        service = _service(scenario, database, url)
        service.start()
        assert service.pipeline is not None and service.outbox is not None
        for batch in batches[half:]:
            service.pipeline.submit(batch)
        outbox = service.outbox
        asyncio.run(wait_for(lambda: outbox.stats.published == len(detections) - stored,
                             "the second half published after the restart"))  # fmt: skip
        assert service.outbox.stats.cursor > cursor
        again = asyncio.run(_stream_messages(url)) - messages
        assert again == service.outbox.stats.batches * partitions
        asyncio.run(wait_for(lambda: partitions_drained(url, "east", partitions),
                             "the worker to take every partition batch", timeout=60))  # fmt: skip
        assert _stored_detections(service) == len(detections)
        assert service.committer is not None and service.committer.stats.alerts_stored == 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        service.stop()
    expected = one_process(sc, detections)
    assert {a.sector for a in expected} == {"west", "east"}
    assert _stored_alerts(database) == ids(expected)


def test_serve_with_workers_runs_its_own_tracker_workers_and_stops_them(
    federation: Federation, tmp_path: Path
) -> None:
    sc, scenario, database, url, detections = _site(federation, tmp_path)
    partitions = len(sc.spec.sectors)
    service = _service(scenario, database, url, workers=2)
    service.start()
    try:
        assert service.pipeline is not None and service.workers is not None
        pids = service.workers.pids()
        assert len(pids) == 2 and service.workers.alive() == 2
        for batch in by_second(detections):
            service.pipeline.submit(batch)
        outbox = service.outbox
        assert outbox is not None
        asyncio.run(wait_for(lambda: outbox.stats.published == len(detections),
                             "every detection published"))  # fmt: skip
        asyncio.run(wait_for(lambda: partitions_drained(url, "east", partitions),
                             "both workers to take every batch", timeout=60))  # fmt: skip
    finally:
        service.stop()
    assert service.workers.alive() == 0, "stopping the service stops its workers"
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
    expected = one_process(sc, detections)
    assert _stored_alerts(database) == ids(expected)


def _zombie(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    return "State:\tZ" in status


def test_workers_need_partitions() -> None:
    with pytest.raises(ServiceError, match="--workers needs --partitions"):
        ServiceConfig(workers=2)


def test_partitions_need_a_site_and_a_site_needs_a_purpose() -> None:
    with pytest.raises(ServiceError, match="--partitions needs --site"):
        ServiceConfig(partitions="nats://127.0.0.1:4222")
    with pytest.raises(ServiceError, match="--site goes with --federation or --partitions"):
        ServiceConfig(site="east")
    assert ServiceConfig(partitions="off", site=None).partitions is None

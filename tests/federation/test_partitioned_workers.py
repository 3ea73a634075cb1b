"""Scale-out inside a site: detections partitioned by sector, tracker workers owning partitions.

The reference is the one-process pipeline (`limes serve`'s) on the same input: the partitioned
path must raise the same alerts (same deterministic ids) for targets inside sectors, and a
target crossing a sector boundary must raise each rule's alert once — where the one-process
pipeline, which starts a new track on the far side, raises some twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from copy import deepcopy
from pathlib import Path

import nats
import numpy as np
import pytest
import yaml
from federation_support import Federation, start_federation, wait_for
from sqlalchemy import select

from limes.federation.partitions import (
    PartitionBatch,
    SectorPartitions,
    assign,
    decode,
    encode,
)
from limes.federation.publisher import DetectionPublisher
from limes.federation.worker import (
    PartitionPipeline,
    ensure_detection_stream,
    partitions_drained,
)
from limes.ops.alert import Alert
from limes.ops.detection import Detection
from limes.ops.pipeline import Pipeline
from limes.ops.tracker import TrackerConfig
from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario
from limes.store.database import connect
from limes.store.migrate import migrate
from limes.store.tables import AlertRow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
from test_pipeline import SCENARIO, T0, by_second, walker

pytestmark = [pytest.mark.federation]

#: The tracker as `limes serve` configures it (track ids from the first detection's key).
CONFIG = dataclasses.replace(TrackerConfig(), track_ids="detection", reorder_window_s=1.0,
                             scan_window_s=0.5)  # fmt: skip


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return scenario_from_data(deepcopy(SCENARIO))


def one_process(sc: Scenario, detections: Sequence[Detection]) -> list[Alert]:
    pipeline = Pipeline(sc, CONFIG)
    return [a for batch in by_second(detections) for a in pipeline.submit(batch)]


def partitioned(sc: Scenario, detections: Sequence[Detection]) -> list[Alert]:
    """The partitioned path in process: the publisher's split, one pipeline per partition."""
    parts = SectorPartitions(sc)
    pipelines = [PartitionPipeline(sc, k, CONFIG, None, parts) for k in range(len(parts))]
    out: list[Alert] = []
    latest = None
    for batch in by_second(detections):
        latest = max(d.time.timestamp() for d in batch)
        for k, share in enumerate(parts.split(batch)):
            # Through the wire format, as a worker receives it.
            out += pipelines[k].take(decode(encode(PartitionBatch(latest, share)))).alerts
    return out


def two_sectors(sc: Scenario) -> list[Detection]:
    return walker(sc, "tower-w", T0, 4000.0) + walker(sc, "tower-e", T0, 13_000.0, seed=2)


def boundary_crossers(sc: Scenario) -> list[list[Detection]]:
    """Walkers that cross the line while walking along it from the west sector into the east
    one (boundary at 9 km), at three speeds along the line."""
    return [
        walker(sc, "tower-w", T0, start, v_along=v, seed=k)
        for k, (start, v) in enumerate([(8700.0, 1.0), (8800.0, 2.0), (8900.0, 3.0)])
    ]


def ids(alerts: Sequence[Alert]) -> list[tuple[str, str, str]]:
    return sorted((a.alert_id, a.rule.value, a.track_id) for a in alerts)


def test_the_hand_off_band_is_the_scenarios_number(sc: Scenario) -> None:
    # Points 0.5, 1.5 and 2.4 km west of the 9 km boundary, 100 m inside the line.
    xy = np.array([sc.border.point_at((9.0 - km) * 1000.0, 100.0) for km in (0.5, 1.5, 2.4)])
    wide = deepcopy(SCENARIO)
    wide.setdefault("rules", {})["handover_m"] = 2500.0
    for scenario, expected in (
        (sc, [True, False, False]),  # the default 1 km band
        (scenario_from_data(wide), [True, True, True]),
    ):
        own, _, ahead = SectorPartitions(scenario).receivers(xy[:, 0], xy[:, 1])
        assert (ahead != own).tolist() == expected


def test_partitions_give_the_one_process_alerts_for_targets_inside_sectors(sc: Scenario) -> None:
    expected = one_process(sc, two_sectors(sc))
    assert {a.sector for a in expected} == {"west", "east"}
    assert ids(partitioned(sc, two_sectors(sc))) == ids(expected)


def test_a_walker_crossing_a_sector_boundary_raises_each_rule_once(sc: Scenario) -> None:
    for detections in boundary_crossers(sc):
        # The one-process pipeline starts new tracks on the far side and raises again (a
        # confident single report inside may raise an intrusion before its track is confirmed,
        # so more than once): the duplicates this path exists to avoid.
        before = Counter(a.rule.value for a in one_process(sc, detections))
        assert max(before.values()) >= 2
        after = Counter(a.rule.value for a in partitioned(sc, detections))
        assert after == {"crossing_imminent": 1, "crossed": 1, "intrusion": 1}, after


def test_assign_gives_every_partition_one_owner() -> None:
    for n in range(1, 7):
        owned = [k for ks in assign(5, n) for k in ks]
        assert sorted(owned) == list(range(5))


# --- through JetStream and worker processes ------------------------------------------------


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    fed = start_federation(tmp_path / "nats", ["east"])
    yield fed
    fed.stop()


def _stored_alerts(url: str) -> list[tuple[str, str, str]]:
    db = connect(url)
    try:
        with db.reader() as session:
            rows = session.execute(select(AlertRow.alert_id, AlertRow.rule, AlertRow.track_id))
            return sorted((r[0], r[1], r[2]) for r in rows)
    finally:
        db.dispose()


async def _publish(url: str, site: str, sc: Scenario, batches: list[list[Detection]]) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_detection_stream(js, site, len(sc.spec.sectors))
        publisher = DetectionPublisher(js, site, SectorPartitions(sc))
        for batch in batches:
            await publisher.publish(batch)
    finally:
        await nc.drain()


def test_two_worker_processes_store_the_one_process_alerts_and_no_duplicate(
    sc: Scenario, federation: Federation, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(deepcopy(SCENARIO)))
    database = f"sqlite:///{tmp_path / 'site.db'}"
    migrate(connect(database))
    url = federation.sites["east"].url
    # Inside-sector walkers, and a boundary crosser a quarter of an hour later.
    crosser = walker(sc, "tower-x", T0.replace(minute=15), 8800.0, v_along=2.0, seed=7)
    detections = two_sectors(sc) + crosser
    expected = one_process(sc, two_sectors(sc))
    asyncio.run(_publish(url, "east", sc, by_second(detections)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "limes.cli", "federation", "worker", "--scenario",
             str(scenario), "--site", "east", "--database", database, "--nats", url,
             "--worker", str(i), "--workers", "2"],
            env=env, stdout=subprocess.DEVNULL,
        )
        for i in range(2)
    ]  # fmt: skip
    try:
        asyncio.run(wait_for(lambda: partitions_drained(url, "east", len(sc.spec.sectors)),
                             "the workers to take every partition batch", timeout=180))  # fmt: skip
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
    stored = _stored_alerts(database)
    crosser_alerts = [s for s in stored if s[2].endswith("tower-x:0")]
    assert Counter(rule for _, rule, _ in crosser_alerts) == {
        "crossing_imminent": 1, "crossed": 1, "intrusion": 1}  # fmt: skip
    assert [s for s in stored if s not in crosser_alerts] == ids(expected)

"""A hub and leaf-node NATS servers on loopback ports, started and stopped by the tests."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from limes.federation.deployment import Deployment, Link, Site
from limes.federation.nats_config import hub_config, site_config
from limes.scenario.sharing import Sharing
from limes.share.context import ShareContext
from limes.store.database import Database

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nats-server on port {port} did not start in {timeout} s")


@dataclass
class NatsServer:
    """One nats-server process with a config file; stop and start keep its store."""

    name: str
    config: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [NATS_SERVER, "-c", str(self.config), "-l", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


@dataclass
class Federation:
    """A hub and one leaf server per site, all on loopback."""

    hub: NatsServer
    sites: dict[str, NatsServer] = field(default_factory=dict)

    def deployment(self, links: list[tuple[str, str]], *, silent_limit_s: float = 300.0,
                   sectors: dict[str, list[str]] | None = None) -> Deployment:  # fmt: skip
        return Deployment(
            sites=[Site(name=n, sectors=(sectors or {}).get(n, "all"), nats_url=s.url,
                        silent_limit_s=silent_limit_s) for n, s in self.sites.items()],
            links=[Link.model_validate({"from": a, "to": b}) for a, b in links],
        )  # fmt: skip

    def stop(self) -> None:
        for server in self.sites.values():
            server.stop()
        self.hub.stop()


def start_federation(root: Path, names: list[str]) -> Federation:
    leaf_port = free_port()
    hub_port = free_port()
    (root / "hub").mkdir(parents=True)
    hub_conf = root / "hub.conf"
    hub_conf.write_text(hub_config(client_port=hub_port, leaf_port=leaf_port,
                                   store_dir=root / "hub"))  # fmt: skip
    hub = NatsServer("hub", hub_conf, hub_port, root / "hub.log")
    hub.start()
    federation = Federation(hub)
    for name in names:
        port = free_port()
        store = root / name
        store.mkdir()
        conf = root / f"{name}.conf"
        conf.write_text(site_config(name, client_port=port, store_dir=store,
                                    hub_leaf_url=f"nats-leaf://127.0.0.1:{leaf_port}"))  # fmt: skip
        server = NatsServer(name, conf, port, root / f"{name}.log")
        server.start()
        federation.sites[name] = server
    return federation


async def wait_for(condition: Callable[[], Awaitable[bool] | bool], what: str,
                   timeout: float = 60.0) -> None:  # fmt: skip
    """Poll `condition` until true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


#: The test policy: the JOC receives alerts and incidents of Nineveh and Jazeera, without the
#: sensors that saw them.
JOC_RULE = {
    "name": "joc-north", "kinds": ["alert", "incident"], "sectors": ["Nineveh", "Jazeera"],
    "withhold": ["sensor_ids", "sensor_positions"], "tlp_ceiling": "red",
}  # fmt: skip
ALLOWED_SECTORS = {"Nineveh", "Jazeera"}


def share_context(db: Database, site: str, settle_s: float = 0.2) -> ShareContext:
    """A site's sharing side: its own originator id, and the JOC as its one partner."""
    partners = [] if site == "joc" else [{"id": "joc", "name": "Joint Operations Command",
                                           "rules": [JOC_RULE]}]  # fmt: skip
    sharing = Sharing.model_validate({"home": site, "partners": partners})
    return ShareContext(db, sharing, None, settle_s=settle_s)


def alert_row(n: int, sector: str, when: datetime) -> dict[str, Any]:
    """An `alerts` row as the change log carries it."""
    return {
        "alert_id": str(uuid.UUID(int=n)), "rule": "crossed", "track_id": f"t{n}",
        "time": when.isoformat(), "lon": 41.24, "lat": 35.6, "target_class": "person",
        "group_size": 3, "chainage_km": 240.0, "offset_m": 120.0, "sector": sector,
        "command": "command", "far_side": "far side", "channel": "coalition",
        "severity": "high", "eta_s": None, "p_interruption": None, "barrier_id": None,
        "detail": "crossed inward", "incident_id": None, "sensor_id": "tw-1",
    }  # fmt: skip


def incident_row(n: int, sector: str, state: str, when: datetime) -> dict[str, Any]:
    """An `incidents` row as the change log carries it."""
    return {
        "id": n, "sector": sector, "lon": 41.24, "lat": 35.6, "state": state, "outcome": None,
        "severity": "high", "opened": when.isoformat(), "updated": when.isoformat(),
        "resolved": None, "alert_count": 1, "unit_id": None,
    }  # fmt: skip


SITE_PROCESS = """
import sys
sys.path.insert(0, {support!r})
from federation_support import share_context
from limes.federation.command import run_site
from limes.federation.deployment import load_deployment
from limes.store.database import connect
from pathlib import Path
share = share_context(connect({database!r}), {site!r})
run_site(share, load_deployment(Path({deployment!r})), {site!r})
"""


def site_process(deployment: Path, site: str, database: str) -> subprocess.Popen[bytes]:
    """A site's federation in a process of its own (so a test can SIGKILL it)."""
    code = SITE_PROCESS.format(support=str(Path(__file__).parent), database=database,
                               deployment=str(deployment), site=site)  # fmt: skip
    return subprocess.Popen([sys.executable, "-c", code])

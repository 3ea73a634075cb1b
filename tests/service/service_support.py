"""A `limes serve` in process for a test: a small scenario, its own database (a SQLite file or
a PostgreSQL database of its own), its own MQTT topic prefix and client id, CoT on free ports,
HTTP on a free port, and a sensor token; with helpers to send good reports and wait for them."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, func, select, text

from db_support import POSTGRES_URL
from limes.service import Service, ServiceConfig
from limes.store.tables import DeadLetterRow, DetectionRow
from limes.store.users import Role, create_user

LAW = {"range_m": 8000, "hazard_per_s": 0.5, "position_sd_m": 10}
SENSOR = "tower-w"
SCENARIO: dict[str, Any] = {
    "name": "service-test",
    "title": "Straight test border (invented positions)",
    "border": {"line": [[41.0, 34.0], [41.2, 34.0]], "inside": "right"},
    "terrain": {"synthetic": {}},
    "controllers": [{"name": "far-west", "channel": "net 1"}],
    "sectors": [{"name": "west", "command": "A", "far_side": "far-west", "from_km": 0,
                 "to_km": 18.5}],
    "sensor_models": [{"name": "tower", "kind": "thermal_camera",
                       "laws": {"person": {"day": LAW, "night": LAW}}}],
    "sensors": [{"id": SENSOR, "model": "tower",
                 "position": {"chainage_km": 4, "offset_m": 800}}],
}  # fmt: skip
#: A point the sensor sees (inside the area, within its range).
LON, LAT = 41.04, 34.01


def scenario_file(folder: Path) -> Path:
    path = folder / "service-test.yaml"
    path.write_text(yaml.safe_dump(deepcopy(SCENARIO)), encoding="utf-8")
    return path


def database_url(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database for one service: a SQLite file, or a PostgreSQL database dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'limes.db'}"
        return
    name = "limes_svc_" + uuid.uuid4().hex[:10]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def good_json(seq: int, **extra: Any) -> dict[str, Any]:
    t = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    return {"sensor_id": SENSOR, "seq": seq, "time": t, "lon": LON, "lat": LAT,
            "class": "person", **extra}  # fmt: skip


def good_cot(seq: int) -> bytes:
    now = datetime.now(UTC)
    t = (now - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f'<event version="2.0" uid="{SENSOR}.t{seq}" type="a-h-G-U-C" how="m-r" time="{t}" '
        f'start="{t}" stale="{stale}"><point lat="{LAT}" lon="{LON}" hae="300" ce="30" '
        f'le="9999999.0"/><detail><limes sensor="{SENSOR}" seq="{seq}" class="person"/>'
        f"</detail></event>"
    ).encode()


@dataclass
class Running:
    """A started service and what a test needs to talk to it."""

    service: Service
    url: str
    prefix: str
    http: str
    token: str
    admin_token: str
    engine: Any = field(repr=False)

    def stored(self, sensor: str, seq: int) -> bool:
        with self.engine.connect() as c:
            q = select(func.count()).where(
                DetectionRow.sensor_id == sensor, DetectionRow.seq == seq
            )
            return bool(c.execute(q).scalar())

    def detections(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(DetectionRow)).scalar() or 0)

    def dead_letters(self) -> dict[str, int]:
        with self.engine.connect() as c:
            q = select(DeadLetterRow.reason, func.count()).group_by(DeadLetterRow.reason)
            return {r: int(n) for r, n in c.execute(q)}

    def ready(self) -> httpx.Response:
        return httpx.get(f"{self.http}/api/ready", timeout=10,
                         headers={"Authorization": f"Bearer {self.admin_token}"})  # fmt: skip

    def post(self, body: bytes) -> httpx.Response:
        return httpx.post(
            f"{self.http}/api/ingest/detections", content=body, timeout=30,
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"},
        )  # fmt: skip


def start_service(folder: Path, url: str, **config: Any) -> Running:
    tag = uuid.uuid4().hex[:8]
    prefix = f"limes-test/{tag}/sensors"
    cfg = ServiceConfig(
        scenario=scenario_file(folder), database_url=url, http="127.0.0.1:0", cot_port=0,
        mqtt_client_id=f"limes-svc-{tag}", mqtt_topic_prefix=prefix, tick_s=0.5,
        quarantine_file=str(folder / "quarantine.jsonl"), **config,
    )  # fmt: skip
    service = Service(cfg)
    service.start()
    assert service.db is not None
    with service.db.session() as s:
        _, token = create_user(s, "sensor-w", Role.SENSOR, speaks_for=[SENSOR], actor="test",
                               now=datetime.now(UTC))  # fmt: skip
        _, admin = create_user(s, "admin", Role.ADMIN, actor="test", now=datetime.now(UTC))
    http = "http://" + service.addresses()["http"]
    return Running(service, url, prefix, http, token, admin, create_engine(url))


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait for `check()`; returns the seconds it took (raises after `timeout`)."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - began


def cot_address(run: Running, kind: str) -> tuple[str, int]:
    text_address = run.service.addresses()[kind]
    host, port = text_address.strip("()").replace("'", "").split(", ")
    return host, int(port)


def send_udp(address: tuple[str, int], data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, address)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()

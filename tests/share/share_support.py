"""Sharing test support: an app with partner tokens, alerts put in the change log, a live server."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from limes.api.app import create_app
from limes.api.settings import Settings
from limes.scenario.model import Scenario
from limes.share.context import ShareContext
from limes.store.changes import record_changes
from limes.store.database import Database
from limes.store.users import Role, create_user

PARTNERS = ("joc", "coalition", "sdf", "pmf", "quadrilateral", "peshmerga")


@dataclass
class ShareApi:
    """An app under test with a token per partner and per person role."""

    app: FastAPI
    client: TestClient
    db: Database
    tokens: dict[str, str]

    @property
    def share(self) -> ShareContext:
        found: ShareContext = self.app.state.share
        return found

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def make_share_api(db: Database, sc: Scenario, settle_s: float = 0.0) -> ShareApi:
    tokens: dict[str, str] = {}
    now = datetime.now().astimezone()
    with db.session() as s:
        for role in (Role.ANALYST, Role.ADMIN, Role.VIEWER, Role.COMMANDER):
            _, tokens[role.value] = create_user(
                s, f"{role.value}-user", role, actor="test", now=now
            )
        for partner in PARTNERS:
            _, tokens[partner] = create_user(
                s, f"{partner}-taxii", Role.PARTNER, speaks_for=[partner], actor="test", now=now
            )
    app = create_app(Settings(migrate=False, share_settle_s=settle_s), db=db, scenario_obj=sc)
    return ShareApi(app, TestClient(app), db, tokens)


def alert_payload(
    n: int,
    when: datetime,
    *,
    sector: str = "Jazeera",
    lon: float = 41.24,
    lat: float = 35.6,
    rule: str = "crossed",
) -> dict[str, Any]:
    """An `alerts` row as the change log carries it."""
    return {
        "alert_id": str(uuid.UUID(int=n)), "rule": rule, "track_id": f"t{n}",
        "time": when.isoformat(), "lon": lon, "lat": lat, "target_class": "person",
        "group_size": 3, "chainage_km": 240.0, "offset_m": 120.0, "sector": sector,
        "command": "Jazeera Operations Command", "far_side": "SDF", "channel": "coalition",
        "severity": "high", "eta_s": None, "p_interruption": None, "barrier_id": None,
        "detail": "crossed inward", "incident_id": None,
    }  # fmt: skip


def put_alerts(db: Database, payloads: list[dict[str, Any]], when: datetime) -> None:
    """Append alerts to the change log (what the store writer does for the pipeline)."""
    with db.session() as session:
        record_changes(session, [("alert", p) for p in payloads], when)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a loopback port; yields its base URL."""
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def ago(seconds: float) -> datetime:
    return datetime.now().astimezone() - timedelta(seconds=seconds)

"""CoT out over TLS with client certificates, received by `pytak` (a TAK client library)."""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from configparser import ConfigParser
from contextlib import contextmanager
from pathlib import Path

import pytest
from defusedxml import ElementTree as SafeET
from share_support import ShareApi, ago, alert_payload, put_alerts
from tls_certs import SERVER_NAME, Authority

from limes.service.cot_tls import server_tls_context
from limes.share.cot_out import CotOutServer
from limes.store.tables import ReleaseRow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pytak warns about optional extras it does not need
    import pytak


@contextmanager
def running(server: CotOutServer) -> Iterator[tuple[str, int]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server.address
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _config(port: int, ca: Authority, partner: str) -> ConfigParser:
    client = ca.issue(partner)
    config = ConfigParser()
    config["client"] = {
        "COT_URL": f"tls://127.0.0.1:{port}",
        "PYTAK_TLS_CLIENT_CERT": str(client.cert),
        "PYTAK_TLS_CLIENT_KEY": str(client.key),
        "PYTAK_TLS_CLIENT_CAFILE": str(ca.pem.cert),
        "PYTAK_TLS_SERVER_EXPECTED_HOSTNAME": SERVER_NAME,
    }
    return config


async def _receive(config: ConfigParser, count: int, timeout: float = 30.0) -> list[bytes]:
    reader, writer = await pytak.protocol_factory(config["client"])
    events = []
    try:
        while len(events) < count:
            events.append(await asyncio.wait_for(reader.readuntil(b"</event>"), timeout))
    finally:
        writer.close()
    return events


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path)


def _server(share_api: ShareApi, authority: Authority) -> CotOutServer:
    cert = authority.issue(SERVER_NAME, server=True)
    context = server_tls_context(cert.cert, cert.key, authority.pem.cert)
    return CotOutServer(share_api.share, context, poll_s=0.05)


def test_pytak_receives_the_pmf_stream_without_sensor_or_unit_positions(
    share_api: ShareApi, authority: Authority
) -> None:
    first = [
        alert_payload(1, ago(120), sector="Nineveh", lon=41.7, lat=36.6),
        alert_payload(2, ago(60), sector="Anbar (al-Tanf)"),
    ]
    put_alerts(share_api.db, first, ago(30))
    server = _server(share_api, authority)
    with running(server) as (_, port):
        events = asyncio.run(_receive(_config(port, authority, "pmf"), 1))
        # only the Nineveh alert is the PMF's; the al-Tanf one never comes
        put_alerts(share_api.db, [alert_payload(3, ago(5), sector="Jazeera")], ago(1))
        events += asyncio.run(_receive(_config(port, authority, "pmf"), 2))
    parsed = [SafeET.fromstring(e) for e in events]
    uids = [p.get("uid") for p in parsed]
    assert uids[0].startswith("limes-alert-") and len(set(uids[1:])) == 2
    assert all(p.get("type") == "a-u-G" for p in parsed)
    remarks = " ".join(p.find("detail/remarks").text or "" for p in parsed)
    assert "sector Anbar (al-Tanf)" not in remarks
    assert "tw-" not in remarks and "patrol" not in remarks  # no sensor or unit names
    point = parsed[0].find("point")
    assert point is not None and float(point.get("ce")) == 1000.0  # coarsened to 1 km
    with share_api.db.reader() as session:
        channels = {r.channel for r in session.query(ReleaseRow).all()}
    assert channels == {"cot"}


def test_a_certificate_naming_no_partner_gets_nothing(
    share_api: ShareApi, authority: Authority
) -> None:
    put_alerts(share_api.db, [alert_payload(1, ago(60))], ago(30))
    server = _server(share_api, authority)
    with (
        running(server) as (_, port),
        pytest.raises((asyncio.IncompleteReadError, ConnectionError)),
    ):
        asyncio.run(_receive(_config(port, authority, "stranger"), 1, timeout=10))

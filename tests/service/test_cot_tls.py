"""CoT over TLS with client certificates (TAK's streaming port), spoken to by pytak.

A test CA signs the server's certificate and the sensors' client certificates (made with
`cryptography`, `tests/share/tls_certs.py`); a second, unknown CA signs an impostor's. The
sensor's certificate names it: its events are stored, an impostor's connection is refused, and
a certificate for one sensor cannot report for another.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Iterator
from configparser import ConfigParser
from pathlib import Path

import pytest
from service_support import SENSOR, Running, database_url, good_cot, start_service, wait_until

from share.tls_certs import Authority

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    ours = Authority(tmp_path_factory.mktemp("ca"))
    rogue = Authority(tmp_path_factory.mktemp("rogue"), "rogue CA")
    out = {"ca": ours.pem.cert}
    for stem, pem in (
        ("server", ours.issue("127.0.0.1", server=True)),
        ("sensor", ours.issue(SENSOR)),
        ("other", ours.issue("tower-e")),
        ("impostor", rogue.issue(SENSOR)),
    ):
        out[f"{stem}_cert"], out[f"{stem}_key"] = pem.cert, pem.key
    return out


@pytest.fixture
def tls_service(tmp_path: Path, pki: dict[str, Path]) -> Iterator[Running]:
    for url in database_url("sqlite", tmp_path):
        run = start_service(
            tmp_path, url, cot_tls_port=0, cot_tls_cert=str(pki["server_cert"]),
            cot_tls_key=str(pki["server_key"]), cot_tls_client_ca=str(pki["ca"]),
        )  # fmt: skip
        try:
            yield run
        finally:
            run.service.stop()
            run.engine.dispose()


def send_with_pytak(port: int, pki: dict[str, Path], who: str, event: bytes) -> None:
    """Connect with pytak's TLS client as `who`, send one event, close."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pytak warns about optional extras it does not need
        import pytak

    config = ConfigParser()
    config["pytak"] = {
        "COT_URL": f"tls://127.0.0.1:{port}",
        "PYTAK_TLS_CLIENT_CERT": str(pki[f"{who}_cert"]),
        "PYTAK_TLS_CLIENT_KEY": str(pki[f"{who}_key"]),
        "PYTAK_TLS_CLIENT_CAFILE": str(pki["ca"]),
    }

    async def go() -> None:
        _, writer = await pytak.protocol_factory(config["pytak"])
        writer.write(event)
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()

    with contextlib.suppress(ConnectionError, OSError):  # the impostor is refused
        asyncio.run(go())


def test_a_sensor_with_its_certificate_is_stored_an_impostor_is_refused(
    tls_service: Running, pki: dict[str, Path]
) -> None:
    run = tls_service
    assert run.service.cot_tls is not None
    port = run.service.cot_tls.server.tcp_address[1]  # type: ignore[index]
    stats = run.service.cot_tls.server.stats

    send_with_pytak(port, pki, "impostor", good_cot(1))
    wait_until(lambda: stats.tls_refused >= 1, 30, "the impostor's handshake refused")

    send_with_pytak(port, pki, "other", good_cot(2))  # tower-e's certificate, tower-w's event
    wait_until(lambda: run.dead_letters().get("sensor_mismatch", 0) >= 1, 30, "the mismatch")

    send_with_pytak(port, pki, "sensor", good_cot(3))
    wait_until(lambda: run.stored(SENSOR, 3), 30, "the sensor's own event")
    assert not run.stored(SENSOR, 1) and not run.stored(SENSOR, 2)
    assert stats.connections >= 2  # the two verified clients; the impostor never got one

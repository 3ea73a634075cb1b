"""CoT over TLS with client certificates (TAK's streaming port), spoken to by pytak.

A test CA signs the server's certificate and the sensors' client certificates (made here with
`cryptography`); a second, unknown CA signs an impostor's. The sensor's certificate names it:
its events are stored, an impostor's connection is refused, and a certificate for one sensor
cannot report for another.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import warnings
from collections.abc import Iterator
from configparser import ConfigParser
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from service_support import SENSOR, Running, database_url, good_cot, start_service, wait_until

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

Key = ec.EllipticCurvePrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(cn: str, key: Key, issuer: tuple[x509.Name, Key] | None, *, ca: bool,
          ip: str | None = None) -> x509.Certificate:  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = issuer or (_name(cn), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder: Path, stem: str, cert: x509.Certificate, key: Key) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca_key, rogue_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _cert("limes test CA", ca_key, None, ca=True)
    rogue = _cert("rogue CA", rogue_key, None, ca=True)
    out: dict[str, Path] = {}
    out["ca"], _ = _write(folder, "ca", ca, ca_key)
    for stem, cn, issuer, ip in (
        ("server", "127.0.0.1", (ca.subject, ca_key), "127.0.0.1"),
        ("sensor", SENSOR, (ca.subject, ca_key), None),
        ("other", "tower-e", (ca.subject, ca_key), None),
        ("impostor", SENSOR, (rogue.subject, rogue_key), None),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        out[f"{stem}_cert"], out[f"{stem}_key"] = _write(
            folder, stem, _cert(cn, key, issuer, ca=False, ip=ip), key
        )
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

"""`limes serve` with sharing: reports raise the pipeline's threat board; partners' CoT port."""

from __future__ import annotations

import asyncio
import warnings
from configparser import ConfigParser
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from defusedxml import ElementTree as SafeET
from share_support import ago, alert_payload, put_alerts
from tls_certs import SERVER_NAME, Authority

from limes.ops.alert import Severity
from limes.service import ServiceConfig
from limes.service.run import Service
from limes.store.users import Role, create_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pytak

pytestmark = pytest.mark.slow


def test_serve_shares_one_threat_board_and_streams_cot_to_partners(tmp_path: Path) -> None:
    ca = Authority(tmp_path)
    server = ca.issue(SERVER_NAME, server=True)
    config = ServiceConfig(
        scenario="iraq-syria", database_url=f"sqlite:///{tmp_path / 'limes.db'}", mqtt=None,
        http="127.0.0.1:0", share_cot_port=0, cot_tls_cert=str(server.cert),
        cot_tls_key=str(server.key), cot_tls_client_ca=str(ca.pem.cert),
        quarantine_file=str(tmp_path / "q.jsonl"), tick_s=None,
    )  # fmt: skip
    service = Service(config)
    service.start()
    try:
        assert service.db is not None
        with service.db.session() as s:
            _, token = create_user(s, "ana", Role.ANALYST, actor="t", now=datetime.now(UTC))
        http = "http://" + service.addresses()["http"]
        filed = httpx.post(
            f"{http}/api/intel/reports", headers={"Authorization": f"Bearer {token}"},
            json={"text": "IS cell gathering", "time": ago(600).isoformat(), "sector": "Jazeera",
                  "lon": 41.2, "lat": 35.6, "source": "post 9", "reliability": "A",
                  "credibility": 1, "actors": ["IS"], "threat": "critical",
                  "releasable_to": ["joc"]}, timeout=30,
        )  # fmt: skip
        assert filed.status_code == 201, filed.text
        # the board the pipeline's alert severity reads is the one the API raised
        assert service.pipeline is not None
        assert service.pipeline.rules.policy.threat is service.threats
        assert service.threats.level("Jazeera") is Severity.CRITICAL

        put_alerts(service.db, [alert_payload(5, ago(30), sector="Jazeera")], ago(10))
        host, port = service.addresses()["share_cot"].rsplit(":", 1)
        client = ca.issue("joc")
        cfg = ConfigParser()
        cfg["c"] = {
            "COT_URL": f"tls://{host}:{port}", "PYTAK_TLS_CLIENT_CERT": str(client.cert),
            "PYTAK_TLS_CLIENT_KEY": str(client.key), "PYTAK_TLS_CLIENT_CAFILE": str(ca.pem.cert),
            "PYTAK_TLS_SERVER_EXPECTED_HOSTNAME": SERVER_NAME,
        }  # fmt: skip

        async def receive() -> list[bytes]:
            reader, writer = await pytak.protocol_factory(cfg["c"])
            got = [await asyncio.wait_for(reader.readuntil(b"</event>"), 30) for _ in range(2)]
            writer.close()
            return got

        events = [SafeET.fromstring(e) for e in asyncio.run(receive())]
        kinds = sorted(e.get("type") for e in events)
        assert kinds == ["a-u-G", "b-m-p-s-m"]  # the alert and the report, both the JOC's
    finally:
        service.stop()

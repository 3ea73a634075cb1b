"""The Cursor-on-Target TLS door (TAK's streaming port): client certificates name sensors.

Runs its own `CotServer` (TCP only) on its own event-loop thread, feeding the same pipeline as
the plain CoT door. The server's TLS context requires a client certificate signed by the
configured CA; a connection without one is refused in the handshake (counted, logged), and a
connection's certificate common name is the one sensor its events may speak for.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from limes.ops.detection import Detection
from limes.ops.ingest.cot_server import CotLimits, CotServer
from limes.ops.pipeline import Pipeline


def server_tls_context(cert: str | Path, key: str | Path, client_ca: str | Path) -> ssl.SSLContext:
    """A TLS 1.2+ server context that requires client certificates signed by `client_ca`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    context.load_verify_locations(cafile=str(client_ca))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class CotTlsDoor:
    """A TLS CoT server on `host:port` (0: any free port) for `pipeline`."""

    def __init__(
        self,
        pipeline: Pipeline,
        context: ssl.SSLContext,
        *,
        host: str,
        port: int,
        limits: CotLimits,
        paused: Callable[[], bool] | None = None,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="limes-cot-tls", daemon=True
        )

        def submit(items: list[Detection]) -> None:
            pipeline.submit(items)

        self.server = CotServer(
            pipeline.context,
            submit,
            pipeline.reject,
            host=host,
            tcp_port=port,
            udp_port=None,
            dedup=None,
            limits=limits,
            tls=context,
            paused=paused,
        )

    def start(self, wait_s: float = 10.0) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(wait_s)

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(10.0)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10.0)

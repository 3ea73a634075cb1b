"""The Cursor-on-Target TLS door (TAK's streaming port): client certificates name sensors.

Runs its own `CotServer` (TCP only) on its own event-loop thread, feeding the same pipeline as
the plain CoT door. The server's TLS context requires a client certificate signed by the
configured CA; a connection without one is refused in the handshake (counted, logged), and a
connection's certificate common name is the one sensor its events may speak for.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from limes.ops.detection import Detection
from limes.ops.ingest.cot_server import CotLimits, CotServer
from limes.ops.pipeline import Pipeline
from limes.service.server_thread import ServerThread


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
        self._thread = ServerThread(self.server, "limes-cot-tls")

    def start(self, wait_s: float = 10.0) -> None:
        """Listen (on its own event-loop thread); return once it does."""
        self._thread.start(wait_s)

    def stop(self) -> None:
        """Close the server and its thread."""
        self._thread.stop()

"""The Cursor-on-Target door: an asyncio TCP server (framed streams) and a UDP endpoint.

TCP: each connection has its own `CotStreamSplitter`; every read's complete events are parsed
and placed together. UDP: one event per datagram. Sizes are bounded (`max_event_bytes` per
event, `read_bytes` per read, `max_connections` at once, optional idle timeout), and peers are
isolated: whatever one peer sends, or an error while handling it, ends at most that peer's
connection, never the server or another peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.cot import CotStreamSplitter, parse_cot_events
from limes.ops.ingest.dead_letter import Rejection, RejectReason
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.delivery import Delivery, OnDetections, OnRejection
from limes.ops.ingest.outcome import IngestOutcome

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CotStats:
    """Running totals of the CoT door."""

    connections: int = 0
    refused_connections: int = 0
    datagrams: int = 0
    events: int = 0
    garbage_bytes: int = 0
    oversize: int = 0
    peer_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        """The totals by name (for metrics)."""
        return {name: getattr(self, name) for name in self.__slots__}


def _peer(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


class CotServer:
    """TCP and/or UDP CoT endpoints feeding the pipeline; `tcp_port`/`udp_port` None disables one.

    Ports 0 pick free ephemeral ports (see `tcp_address` / `udp_address` after `start()`).
    Usable as `async with CotServer(...) as server:`.
    """

    def __init__(
        self,
        ctx: IngestContext,
        on_detections: OnDetections,
        on_rejection: OnRejection,
        *,
        host: str = "127.0.0.1",
        tcp_port: int | None = 8087,
        udp_port: int | None = None,
        dedup: Deduplicator | None = None,
        max_connections: int = 256,
        read_bytes: int = 64 << 10,
        idle_timeout_s: float | None = None,
    ) -> None:
        self.ctx = ctx
        self.host = host
        self.tcp_port, self.udp_port = tcp_port, udp_port
        self.max_connections = max_connections
        self.read_bytes = read_bytes
        self.idle_timeout_s = idle_timeout_s
        self.delivery = Delivery(on_detections, on_rejection, dedup)
        self.stats = CotStats()
        self._tcp: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._peers: set[asyncio.Task[None]] = set()

    @property
    def tcp_address(self) -> tuple[str, int] | None:
        """(host, port) the TCP server listens on, once started."""
        if self._tcp is None or not self._tcp.sockets:
            return None
        host, port = self._tcp.sockets[0].getsockname()[:2]
        return str(host), int(port)

    @property
    def udp_address(self) -> tuple[str, int] | None:
        """(host, port) the UDP endpoint listens on, once started."""
        if self._udp is None:
            return None
        host, port = self._udp.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self) -> None:
        """Open the endpoints."""
        loop = asyncio.get_running_loop()
        if self.tcp_port is not None:
            self._tcp = await asyncio.start_server(
                self._serve_peer, self.host, self.tcp_port, limit=self.read_bytes
            )
        if self.udp_port is not None:
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _CotDatagrams(self), local_addr=(self.host, self.udp_port)
            )

    async def stop(self) -> None:
        """Close the endpoints and every open connection."""
        if self._tcp is not None:
            self._tcp.close()
        for task in list(self._peers):
            task.cancel()
        if self._peers:
            await asyncio.gather(*self._peers, return_exceptions=True)
        if self._tcp is not None:
            await self._tcp.wait_closed()
            self._tcp = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    async def __aenter__(self) -> CotServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def handle_documents(self, documents: Sequence[bytes], source: str) -> None:
        """Parse and deliver events; an error in the pipeline is logged against the peer."""
        if not documents:
            return
        self.stats.events += len(documents)
        self._deliver(parse_cot_events(documents, self.ctx, source=source), source)

    def _deliver(self, outcome: IngestOutcome, source: str) -> None:
        try:
            self.delivery(outcome)
        except Exception:
            self.stats.peer_errors += 1
            log.exception("CoT from %s not handed over", source)

    async def _serve_peer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        source = f"cot-tcp:{_peer(writer.get_extra_info('peername'))}"
        if len(self._peers) >= self.max_connections or task is None:
            self.stats.refused_connections += 1
            writer.close()
            return
        self._peers.add(task)
        self.stats.connections += 1
        limits = self.ctx.limits

        def oversize(head: bytes) -> None:
            self.stats.oversize += 1
            rejection = Rejection(
                RejectReason.OVERSIZE,
                f"event: over the {limits.max_event_bytes} byte limit; skipped to the next event",
                source,
                self.ctx.now(),
                head,
            )
            self._deliver(IngestOutcome.rejected(rejection), source)

        splitter = CotStreamSplitter(
            limits.max_event_bytes, on_oversize=oversize, keep_bytes=limits.dead_letter_keep_bytes
        )
        garbage = 0
        try:
            while True:
                data = await asyncio.wait_for(reader.read(self.read_bytes), self.idle_timeout_s)
                if not data:
                    break
                self.handle_documents(splitter.feed(data), source)
                self.stats.garbage_bytes += splitter.garbage_bytes - garbage
                garbage = splitter.garbage_bytes
            self.handle_documents(splitter.flush(), source)
        except (ConnectionError, TimeoutError):
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            self.stats.peer_errors += 1
            log.exception("CoT peer %s dropped after an error", source)
        finally:
            self.stats.garbage_bytes += splitter.garbage_bytes - garbage
            if splitter.garbage_bytes:
                log.info("CoT peer %s sent %d garbage bytes", source, splitter.garbage_bytes)
            self._peers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _CotDatagrams(asyncio.DatagramProtocol):
    """One CoT event per datagram."""

    def __init__(self, server: CotServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.server.stats.datagrams += 1
        try:
            self.server.handle_documents([data], f"cot-udp:{_peer(addr)}")
        except Exception:
            self.server.stats.peer_errors += 1
            log.exception("CoT datagram from %s dropped after an error", _peer(addr))

    def error_received(self, exc: Exception) -> None:
        log.warning("CoT UDP endpoint error: %s", exc)

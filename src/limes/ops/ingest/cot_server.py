"""The Cursor-on-Target door: an asyncio TCP server (framed streams) and a UDP endpoint.

TCP: each connection has its own `CotStreamSplitter`; every read's complete events are parsed
and placed together. UDP: one event per datagram. Sizes and times are bounded (`CotLimits`:
bytes per event and per read, connections in total and per peer address, an idle timeout and
a deadline to finish an event once begun), so idle or slow connections cannot lock senders
out; every refused or closed connection is counted and logged (at most once a minute per peer
address). Peers are isolated: whatever one peer sends, or an error while handling it, ends at
most that peer's connection, never the server or another peer.

TLS (the TAK streaming port): with `tls` set, the TCP server speaks TLS and, when the context
requires client certificates, a connection's certificate names the sensor it may speak for
(its subject common name): an event claiming another sensor is rejected as `sensor_mismatch`.
While `paused()` is true (the store cannot keep up) the server stops reading: TCP senders are
held back by TCP itself, UDP datagrams are dropped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
    refused_per_peer: int = 0  # connections refused: that address holds its share
    idle_closed: int = 0  # connections closed after `idle_timeout_s` without a byte
    slow_closed: int = 0  # connections closed for not finishing an event in time
    tls_refused: int = 0  # TLS handshakes that failed (no or a bad client certificate)
    paused_datagrams: int = 0  # UDP datagrams dropped while the store could not keep up

    def as_dict(self) -> dict[str, int]:
        """The totals by name (for metrics)."""
        return {name: getattr(self, name) for name in self.__slots__}


def _peer(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


@dataclass(frozen=True)
class CotLimits:
    """Bounds of the CoT door (defaults documented here and in docs/operations.md).

    - `max_connections` (1024): open TCP connections in all.
    - `max_per_peer` (32): open TCP connections from one address (a gateway relaying many
      sensors needs a higher one).
    - `idle_timeout_s` (300): a connection silent this long is closed (TAK clients reconnect).
    - `event_deadline_s` (10): once an event has begun, its end must arrive within this time.
    - `read_bytes` (64 KiB): most bytes taken from a connection per read.
    """

    max_connections: int = 1024
    max_per_peer: int = 32
    idle_timeout_s: float | None = 300.0
    event_deadline_s: float | None = 10.0
    read_bytes: int = 64 << 10


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
        limits: CotLimits | None = None,
        tls: ssl.SSLContext | None = None,
        paused: Callable[[], bool] | None = None,
        **limit_overrides: Any,
    ) -> None:
        self.ctx = ctx
        self.host = host
        self.tcp_port, self.udp_port = tcp_port, udp_port
        self.limits = dataclasses.replace(limits or CotLimits(), **limit_overrides)
        self.max_connections = self.limits.max_connections
        self.read_bytes = self.limits.read_bytes
        self.tls = tls
        self.paused = paused
        self.delivery = Delivery(on_detections, on_rejection, dedup)
        self.stats = CotStats()
        self._per_peer: Counter[str] = Counter()
        self._last_refusal_log: dict[str, float] = {}
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
            if self.tls is None:
                self._tcp = await asyncio.start_server(
                    self._serve_peer, self.host, self.tcp_port, limit=self.read_bytes
                )
            else:  # TLS is started per connection, on a socket nothing has read from yet

                def paused() -> _PausedAtAccept:
                    reader = asyncio.StreamReader(limit=self.read_bytes)
                    return _PausedAtAccept(reader, self._serve_peer)

                self._tcp = await loop.create_server(paused, self.host, self.tcp_port)
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

    def handle_documents(
        self, documents: Sequence[bytes], source: str, sensor: str | None = None
    ) -> None:
        """Parse and deliver events; an error in the pipeline is logged against the peer.

        `sensor` (from a client certificate): the only sensor these events may speak for."""
        if not documents:
            return
        self.stats.events += len(documents)
        outcome = parse_cot_events(documents, self.ctx, source=source)
        if sensor is not None:
            outcome = _only_for(outcome, sensor, source)
        self._deliver(outcome, source)

    def _log_refusal(self, peer: str, why: str) -> None:
        now = time.monotonic()
        if now - self._last_refusal_log.get(peer, -1e9) >= 60.0:
            self._last_refusal_log[peer] = now
            if len(self._last_refusal_log) > 10_000:
                self._last_refusal_log.clear()
            log.warning("CoT connection from %s refused or closed: %s (logged once a minute)",
                        peer, why)  # fmt: skip

    def _deliver(self, outcome: IngestOutcome, source: str) -> None:
        try:
            self.delivery(outcome)
        except Exception:
            self.stats.peer_errors += 1
            log.exception("CoT from %s not handed over", source)

    async def _handshake(self, writer: asyncio.StreamWriter, address: str) -> str | None:
        """TLS, when configured: the handshake must finish within the event deadline (a
        stalled one is a slow sender); returns the sensor the client certificate names."""
        if self.tls is None:
            return None
        await asyncio.wait_for(writer.start_tls(self.tls), self.limits.event_deadline_s)
        return _certificate_sensor(writer.get_extra_info("peercert"))

    def _release(self, task: asyncio.Task[None], address: str) -> None:
        self._peers.discard(task)
        self._per_peer[address] -= 1
        if self._per_peer[address] <= 0:
            del self._per_peer[address]

    async def _serve_peer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        peername = writer.get_extra_info("peername")
        address = str(peername[0]) if isinstance(peername, tuple) else str(peername)
        source = f"cot-tcp:{_peer(peername)}"
        refusal = None
        if len(self._peers) >= self.max_connections or task is None:
            refusal = f"{self.max_connections} connections open in all"
        elif self._per_peer[address] >= self.limits.max_per_peer:
            self.stats.refused_per_peer += 1
            refusal = f"{self.limits.max_per_peer} connections open from this address"
        if refusal is not None or task is None:
            self.stats.refused_connections += 1
            self._log_refusal(address, refusal or "no task")
            writer.close()
            return
        self._peers.add(task)  # counted against the caps from here, handshake included
        self._per_peer[address] += 1
        try:
            sensor = await self._handshake(writer, address)
        except (OSError, TimeoutError, ValueError) as error:  # ssl.SSLError is an OSError
            self.stats.tls_refused += 1
            self._log_refusal(address, f"TLS handshake failed: {error}")
            self._release(task, address)
            writer.close()
            return
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

        def junk(head: bytes) -> None:
            rejection = Rejection(
                RejectReason.MALFORMED,
                "stream: bytes outside any <event>; skipped to the next event",
                source,
                self.ctx.now(),
                head,
            )
            self._deliver(IngestOutcome.rejected(rejection), source)

        splitter = CotStreamSplitter(
            limits.max_event_bytes, on_oversize=oversize, on_garbage=junk,
            keep_bytes=limits.dead_letter_keep_bytes,
        )  # fmt: skip
        garbage = 0
        begun: float | None = None  # when the unfinished event in the splitter began
        try:
            while True:
                while self.paused is not None and self.paused():
                    await asyncio.sleep(0.1)  # TCP holds the sender back meanwhile
                wait = self.limits.idle_timeout_s
                if begun is not None and self.limits.event_deadline_s is not None:
                    left = begun + self.limits.event_deadline_s - time.monotonic()
                    wait = left if wait is None else min(wait, left)
                try:
                    data = await asyncio.wait_for(reader.read(self.read_bytes), wait)
                except TimeoutError:
                    slow = begun is not None and splitter.buffered > 0
                    if slow:
                        self.stats.slow_closed += 1
                    else:
                        self.stats.idle_closed += 1
                    why = "an event begun and not finished in time" if slow else "idle"
                    self._log_refusal(address, why)
                    break
                if not data:
                    self.handle_documents(splitter.flush(), source, sensor)
                    break
                self.handle_documents(splitter.feed(data), source, sensor)
                self.stats.garbage_bytes += splitter.garbage_bytes - garbage
                garbage = splitter.garbage_bytes
                if splitter.buffered == 0:
                    begun = None
                elif begun is None:
                    begun = time.monotonic()
        except ConnectionError:
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
            self._release(task, address)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _PausedAtAccept(asyncio.StreamReaderProtocol):
    """A connection that reads nothing until its TLS handshake takes over the socket (bytes
    read before `start_tls` would be the handshake's, lost to it)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.ReadTransport):
            transport.pause_reading()
        super().connection_made(transport)

    def eof_received(self) -> bool:
        super().eof_received()
        return False  # over TLS the transport closes itself at EOF


class _CotDatagrams(asyncio.DatagramProtocol):
    """One CoT event per datagram."""

    def __init__(self, server: CotServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.server.stats.datagrams += 1
        if self.server.paused is not None and self.server.paused():
            self.server.stats.paused_datagrams += 1
            return
        try:
            self.server.handle_documents([data], f"cot-udp:{_peer(addr)}")
        except Exception:
            self.server.stats.peer_errors += 1
            log.exception("CoT datagram from %s dropped after an error", _peer(addr))

    def error_received(self, exc: Exception) -> None:
        log.warning("CoT UDP endpoint error: %s", exc)


def _certificate_sensor(cert: Any) -> str | None:
    """The sensor a verified client certificate names: its subject's common name."""
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _only_for(outcome: IngestOutcome, sensor: str, source: str) -> IngestOutcome:
    """Detections of `sensor` kept; others rejected: a certificate speaks for one sensor."""
    mine = IngestOutcome(rejections=list(outcome.rejections))
    for d in outcome.detections:
        if d.sensor_id == sensor:
            mine.detections.append(d)
        else:
            mine.rejections.append(
                Rejection(
                    RejectReason.SENSOR_MISMATCH,
                    f"event: sensor {d.sensor_id!r} refused, the client certificate is for "
                    f"{sensor!r}",
                    source,
                    d.received or datetime.now(UTC),
                    b"",
                    sensor_id=d.sensor_id,
                )
            )
    return mine

"""Cursor-on-Target out: each partner's TAK clients receive what that partner may see.

One TCP port with TLS and client certificates (the context comes from the caller: `limes
serve` builds it with the CoT door's own helper). A connection's certificate common name is the
partner id; an unknown partner is closed at once. Each connection then follows the
shared-object feed through the release guard (`Feed.released`, the same order and cursor as
TAXII): it starts `backlog_s` back, sends every released version that has a position as a CoT
event (`a-u-G` for alerts and incidents, `b-m-p-s-m` for intelligence reports), audits each
send, and polls for more every `poll_s`. Events carry the coarsened position, its precision as
the circular error (`ce`, metres), and the partner's projection in `remarks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from limes.ops.ingest.cot_server import _certificate_sensor as certificate_name
from limes.scenario.sharing import ObjectKind
from limes.share.audit import Channel, record_releases
from limes.share.context import ShareContext
from limes.share.feed import Cursor, FeedItem
from limes.share.guard import PartnerPolicy, UnknownPartner
from limes.share.shareable import Shareable

log = logging.getLogger(__name__)

#: CoT type per kind (MIL-STD-2525 atoms: unknown ground; a spot-map marker for reports).
COT_TYPES: dict[ObjectKind, str] = {
    ObjectKind.ALERT: "a-u-G",
    ObjectKind.INCIDENT: "a-u-G",
    ObjectKind.INTEL_REPORT: "b-m-p-s-m",
    ObjectKind.TRACK: "a-u-G",
}
UNKNOWN_ERROR_M = 9999999.0  # CoT's "not known" for ce/le/hae


def _stamp(t: datetime) -> str:
    return t.astimezone().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cot_event(obj: Shareable, precision_m: float | None, now: datetime, stale_s: float) -> bytes:
    """One released object as a CoT event (bytes of XML)."""
    assert obj.position is not None
    lon, lat = obj.position
    event = ET.Element(
        "event",
        version="2.0",
        uid=f"limes-{obj.key.replace(':', '-')}",
        type=COT_TYPES.get(obj.kind, "a-u-G"),
        how="m-g",
        time=_stamp(now),
        start=_stamp(obj.time),
        stale=_stamp(now + timedelta(seconds=stale_s)),
    )
    ET.SubElement(
        event, "point", lat=f"{lat:.7f}", lon=f"{lon:.7f}", hae=str(UNKNOWN_ERROR_M),
        ce=str(precision_m if precision_m else UNKNOWN_ERROR_M), le=str(UNKNOWN_ERROR_M),
    )  # fmt: skip
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", callsign=f"{obj.kind.value} {obj.key.split(':', 1)[1][:8]}")
    words = [f"{k}={v}" for k, v in sorted(obj.fields.items()) if isinstance(v, str | int | float)]
    remarks = ET.SubElement(detail, "remarks")
    remarks.text = f"sector {obj.sector}; v{obj.version}; " + "; ".join(words)
    return ET.tostring(event, encoding="utf-8")


@dataclass
class CotOutServer:
    """The per-partner CoT streams on one TLS port."""

    share: ShareContext
    context: ssl.SSLContext
    host: str = "127.0.0.1"
    port: int = 0
    poll_s: float = 1.0
    backlog_s: float = 3600.0
    stale_s: float = 600.0
    batch: int = 500
    connections: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen (port 0: any free port; see `address`)."""
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, ssl=self.context
        )

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens."""
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        name = certificate_name(writer.get_extra_info("peercert"))
        try:
            partner = self.share.partner(name or "")
        except UnknownPartner:
            log.warning("CoT out: certificate %r names no partner; closed", name)
            writer.close()
            return
        self.connections += 1
        try:
            await self._stream(partner, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away
        except asyncio.CancelledError:
            pass  # the server is stopping: this connection simply ends
        finally:
            self.connections -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _stream(
        self, partner: PartnerPolicy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        share = self.share
        now = share.clock()
        cursor: Cursor | None = Cursor(now - timedelta(seconds=self.backlog_s), 2**62)
        closed = asyncio.ensure_future(reader.read())  # a TAK client may send pings; EOF ends
        while not closed.done():
            items, more = await asyncio.to_thread(self._next, partner, cursor)
            if items:
                await self._send(partner, items, writer)
                last = items[-1]
                cursor = Cursor(last.available, last.seq, -1)
            if not more:
                await asyncio.wait({closed}, timeout=self.poll_s)
        closed.cancel()

    def _next(self, partner: PartnerPolicy, cursor: Cursor | None) -> tuple[list[FeedItem], bool]:
        share = self.share
        now = share.clock()
        share.catch_up(now)
        return share.feed.released(
            partner, now=now, after=cursor, limit=self.batch, settle_s=share.settle_s
        )

    async def _send(
        self, partner: PartnerPolicy, items: list[FeedItem], writer: asyncio.StreamWriter
    ) -> None:
        now = self.share.clock()
        sent = [i for i in items if i.release.object.position is not None]
        for item in sent:
            rel = item.release
            writer.write(cot_event(rel.object, rel.precision_m, now, self.stale_s))
        await writer.drain()
        if sent:
            self.sent[partner.id] = self.sent.get(partner.id, 0) + len(sent)
            await asyncio.to_thread(
                record_releases, self.share.db, [i.release for i in sent], Channel.COT, now
            )

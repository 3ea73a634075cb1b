"""The CoT door over real sockets: TCP streams with bad parts, UDP datagrams, isolated peers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from ingest_fixtures import BILLION_LAUGHS_HEAD, good_cot, make_context

from limes.ops.detection import Detection
from limes.ops.ingest.context import IngestLimits
from limes.ops.ingest.cot_server import CotServer
from limes.ops.ingest.dead_letter import MemoryDeadLetterSink, RejectReason
from limes.ops.ingest.dedup import Deduplicator


class Harness:
    """A running CotServer on ephemeral ports with what it delivered."""

    def __init__(self, limits: IngestLimits | None = None) -> None:
        self.got: list[Detection] = []
        self.sink = MemoryDeadLetterSink()
        self.server = CotServer(
            make_context(limits),
            self.got.extend,
            self.sink,
            tcp_port=0,
            udp_port=0,
            dedup=Deduplicator(),
        )

    async def wait_for(self, detections: int, rejections: int = 0, timeout: float = 5.0) -> None:
        async def done() -> None:
            while len(self.got) < detections or self.sink.total < rejections:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(done(), timeout)


def run(test: Callable[[Harness], Awaitable[None]], limits: IngestLimits | None = None) -> Harness:
    harness = Harness(limits)

    async def main() -> None:
        async with harness.server:
            await test(harness)

    asyncio.run(main())
    return harness


async def send_tcp(harness: Harness, chunks: list[bytes], pause: float = 0.0) -> None:
    address = harness.server.tcp_address
    assert address is not None
    _, writer = await asyncio.open_connection(*address)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        if pause:
            await asyncio.sleep(pause)
    writer.close()
    await writer.wait_closed()


def test_tcp_stream_with_bad_parts_delivers_every_good_event() -> None:
    bad = [
        b"garbage before anything\n",
        good_cot(2)[:120] + b"\n",  # truncated inside the start tag
        b"<event uid='x'><point/></event>",  # well framed, not a valid event
        BILLION_LAUGHS_HEAD + good_cot(4),  # the framer drops the DTD as garbage: event 4 is good
        good_cot(5, cot_type="a-f-G"),
        good_cot(6, sensor="ghost"),
    ]
    stream = b"".join(b + good_cot(10 + i) for i, b in enumerate(bad))
    pieces = [stream[i : i + 37] for i in range(0, len(stream), 37)]

    async def test(h: Harness) -> None:
        await send_tcp(h, pieces, pause=0.0005)
        await h.wait_for(detections=len(bad), rejections=6)

    h = run(test)
    assert sorted(d.seq for d in h.got) == [4] + [10 + i for i in range(len(bad))]
    assert h.sink.counts == {
        RejectReason.MALFORMED: 3,  # the truncated event and two garbage runs (text, DTD)
        RejectReason.SCHEMA: 1,
        RejectReason.FRIENDLY: 1,
        RejectReason.UNKNOWN_SENSOR: 1,
    }
    assert h.server.stats.garbage_bytes > 0 and h.server.stats.peer_errors == 0
    assert all(r.source.startswith("cot-tcp:127.0.0.1:") for r in h.sink.items)


def test_oversize_tcp_event_is_a_dead_letter_and_the_next_event_arrives() -> None:
    big = good_cot(1).replace(b"<detail>", b"<detail><remarks>" + b"x" * 3000 + b"</remarks>")

    async def test(h: Harness) -> None:
        await send_tcp(h, [big[:1000], big[1000:], good_cot(2)])
        await h.wait_for(detections=1, rejections=1)

    h = run(test, IngestLimits(max_event_bytes=2048, dead_letter_keep_bytes=100))
    assert [d.seq for d in h.got] == [2]
    assert h.sink.reasons() == [RejectReason.OVERSIZE] and len(h.sink.items[0].payload) == 100


def test_peers_are_isolated_and_duplicates_across_peers_dropped() -> None:
    async def test(h: Harness) -> None:
        await asyncio.gather(
            send_tcp(h, [b"\x00\xff" * 500, good_cot(1), b"<event <<<", good_cot(2)]),
            send_tcp(h, [good_cot(3), good_cot(1)]),  # seq 1 again, from another connection
        )
        await h.wait_for(detections=3)
        await asyncio.sleep(0.05)

    h = run(test)
    assert sorted(d.seq for d in h.got) == [1, 2, 3]
    assert h.server.delivery.duplicates == 1
    assert h.server.stats.connections == 2


def test_a_failing_pipeline_does_not_end_the_connection() -> None:
    calls: list[int] = []

    async def test(h: Harness) -> None:
        def flaky(detections: list[Detection]) -> None:
            calls.append(len(detections))
            if len(calls) == 1:
                raise RuntimeError("bus full")
            h.got.extend(detections)

        h.server.delivery.on_detections = flaky
        await send_tcp(h, [good_cot(1)], pause=0.05)
        await send_tcp(h, [good_cot(2)])
        await h.wait_for(detections=1)

    h = run(test)
    assert [d.seq for d in h.got] == [2] and h.server.stats.peer_errors == 1


def test_udp_datagrams_one_event_each() -> None:
    async def test(h: Harness) -> None:
        address = h.server.udp_address
        assert address is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for datagram in (
                good_cot(1, declaration=True),
                b"<event",
                BILLION_LAUGHS_HEAD + good_cot(3),
                good_cot(2),
            ):
                s.sendto(datagram, address)
        await h.wait_for(detections=2, rejections=2)

    h = run(test)
    assert sorted(d.seq for d in h.got) == [1, 2]
    assert sorted(h.sink.reasons()) == sorted([RejectReason.MALFORMED, RejectReason.UNSAFE_XML])
    assert h.server.stats.datagrams == 4


def test_stop_closes_open_connections() -> None:
    async def test(h: Harness) -> None:
        address = h.server.tcp_address
        assert address is not None
        reader, writer = await asyncio.open_connection(*address)
        writer.write(good_cot(1)[:50])
        await writer.drain()
        await asyncio.sleep(0.05)
        await h.server.stop()
        assert await asyncio.wait_for(reader.read(), 2.0) == b""  # closed by the server
        writer.close()

    h = run(test)
    assert h.server.tcp_address is None

"""A site's federation side, run beside its floor: forward, receive, and watch the links.

`FederatedSite.run` is what `limes serve --federation FILE --site NAME` and
`python -m limes.federation run` start: three loops on one NATS connection. The watch records a
`link` change whenever a link into this site turns silent, stalled or well again, so the floor
(map, stream, API) shows it; a stalled source is re-created, which resumes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import nats
from nats.aio.client import Client

from limes.federation.connect import connect_when_ready
from limes.federation.deployment import Deployment, Site
from limes.federation.errors import TRANSIENT
from limes.federation.forwarder import Forwarder
from limes.federation.links import LinkStatus, link_statuses
from limes.federation.pause import pause
from limes.federation.receiver import Receiver
from limes.federation.streams import ensure_streams, resource_sources
from limes.share.context import ShareContext
from limes.store.changes import record_changes

log = logging.getLogger(__name__)


class FederatedSite:
    """Forwarder, receiver and link watch of one site."""

    def __init__(
        self,
        share: ShareContext,
        deployment: Deployment,
        site: Site,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        heartbeat_s: float = 5.0,
        watch_s: float = 5.0,
        stall_after_s: float = 30.0,
    ) -> None:
        self.share = share
        self.db = share.db
        self.deployment = deployment
        self.site = site
        self.clock = clock
        self.heartbeat_s = heartbeat_s
        self.watch_s = watch_s
        self.stall_after_s = stall_after_s
        self.forwarder: Forwarder | None = None
        self.receiver: Receiver | None = None
        self.links: dict[str, LinkStatus] = {}
        self.cured = 0
        #: Per origin: the arrived sequence when it was first seen behind, and when.
        self._behind: dict[str, tuple[int | None, float]] = {}

    async def _connect(self) -> Client:
        async def on_error(error: Exception) -> None:
            log.warning("site %s: NATS connection: %r", self.site.name, error)

        return await nats.connect(
            self.site.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
            name=f"limes-{self.site.name}", error_cb=on_error,
        )  # fmt: skip

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; waits for the site's NATS server if it is not up yet."""

        async def prepare(nc: Client) -> None:
            await ensure_streams(nc.jetstream(), self.deployment, self.site)

        # The server may not be there yet: the site works on without it meanwhile.
        nc = await connect_when_ready(self._connect, prepare, stop, f"site {self.site.name}")
        if nc is None:
            return
        js = nc.jetstream()
        self.forwarder = Forwarder(self.share, js, self.deployment, self.site, clock=self.clock)
        tasks = [asyncio.create_task(self.forwarder.run(stop, heartbeat_s=self.heartbeat_s))]
        if self.deployment.inbound(self.site.name):
            self.receiver = Receiver(self.db, js, self.site.name, clock=self.clock)
            tasks.append(asyncio.create_task(self.receiver.run(stop)))
            tasks.append(asyncio.create_task(self._watch(nc, stop)))
        try:
            await asyncio.gather(*tasks)
        finally:
            await nc.close()

    async def _watch(self, nc: Client, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                statuses = await link_statuses(nc, self.deployment, self.site, now=self.clock())
                self._judge_stalls(statuses)
                await self._report(nc, statuses)
            except TRANSIENT as error:  # a link problem must never stop the site
                log.warning("site %s: link watch failed: %r", self.site.name, error)
            await pause(stop, self.watch_s)

    def _judge_stalls(self, statuses: list[LinkStatus]) -> None:
        """Stalled: behind the origin with no progress in what arrived for the stall limit."""
        now = time.monotonic()
        for status in statuses:
            if not status.behind:
                self._behind.pop(status.origin, None)
                continue
            held = self._behind.get(status.origin)
            if held is None or held[0] != status.arrived_sequence:
                self._behind[status.origin] = (status.arrived_sequence, now)
                continue
            status.stalled = now - held[1] > self.stall_after_s

    async def _report(self, nc: Client, statuses: list[LinkStatus]) -> None:
        changed = []
        for status in statuses:
            before = self.links.get(status.origin)
            state = _state(status)
            if before is None or _state(before) != state:
                changed.append(("link", {**status.as_dict(), "state": state}))
            self.links[status.origin] = status
        if changed:
            with self.db.session() as session:
                record_changes(session, changed, self.clock())
            for _kind, payload in changed:
                # A link coming back (or first heard) is news; one going quiet is a warning.
                level = logging.INFO if payload["state"] == "ok" else logging.WARNING
                log.log(level, "site %s: link from %s is %s", self.site.name, payload["origin"],
                        payload["state"])  # fmt: skip
        if any(s.stalled for s in statuses):
            await resource_sources(nc.jetstream(), self.deployment, self.site)
            self.cured += 1
            self._behind.clear()


def _state(status: LinkStatus) -> str:
    if status.stalled:
        return "stalled"
    if status.silent:
        return "silent"
    return "ok"

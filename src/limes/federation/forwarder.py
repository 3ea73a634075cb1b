"""Forward what a site may release to the sites it links to, through the one release guard.

The sharing layer's feed is the outbox: every alert, incident transition, sector status and
accepted intelligence report a site stores is fed (from the change log, in commit order) into
`shared_objects`, and `Feed.released` pages it for one partner through `share.release` — with
that partner's rules, delays, coarsening, withheld fields, originator consent and references
pruned — in the order versions became available to it. For each outbound link the forwarder
pages the feed as the destination's partner after that destination's cursor, publishes what
comes back to the site's own stream and waits for JetStream's acknowledgements, then moves the
cursor. A crash between publish and cursor repeats a few publishes, which the message id and
the receiver's idempotent apply absorb; nothing is skipped, and a delayed version goes when its
delay has run. While the site's NATS server is unreachable the cursor stays and the site keeps
working on its own database. What the guard withholds is never published.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nats.js.client import JetStreamContext

from limes.federation.deployment import Deployment, Site
from limes.federation.envelope import Envelope, heartbeat_subject
from limes.federation.errors import TRANSIENT
from limes.federation.pause import pause
from limes.share.context import ShareContext
from limes.share.feed import Cursor
from limes.share.shareable import to_record
from limes.store.federated import forwarded_to, set_forwarded

log = logging.getLogger(__name__)


@dataclass
class ForwardStats:
    """What the forwarder did since it started."""

    published: int = 0
    rounds: int = 0
    last_error: str | None = None
    by_destination: dict[str, int] = field(default_factory=dict)


class Forwarder:
    """One site's outbound side: shared-object feed → release guard → its JetStream stream."""

    def __init__(
        self,
        share: ShareContext,
        js: JetStreamContext,
        deployment: Deployment,
        site: Site,
        *,
        batch: int = 1000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.share = share
        self.db = share.db
        self.js = js
        self.deployment = deployment
        self.site = site
        self.batch = batch
        self.clock = clock
        self.stats = ForwardStats()

    async def forward_once(self) -> int:
        """Forward at most one page to every destination; returns how many were published."""
        now = self.clock()
        self.share.catch_up(now)
        published = 0
        for link in self.deployment.outbound(self.site.name):
            destination = self.deployment.site(link.destination)
            partner = self.share.partner(destination.as_partner)
            with self.db.reader() as session:
                held = forwarded_to(session, destination.name)
            after = None if held is None else Cursor(held[0], held[1])
            items, _more = self.share.feed.released(
                partner, now=now, after=after, limit=self.batch,
                settle_s=self.share.settle_s, latest_only=False,
            )  # fmt: skip
            if not items:
                continue
            envelopes = [
                Envelope(self.site.name, destination.name, item.release.object.kind.value,
                         item.release.object.key, item.release.object.version,
                         to_record(item.release.object))
                for item in items
                if item.release.object.kind.value in link.kinds
            ]  # fmt: skip
            await self._publish(envelopes)
            last = items[-1]
            with self.db.session() as session:
                set_forwarded(session, destination.name, (last.available, last.seq), now)
            published += len(envelopes)
            self.stats.by_destination[destination.name] = self.stats.by_destination.get(
                destination.name, 0
            ) + len(envelopes)
        self.stats.published += published
        self.stats.rounds += 1
        return published

    async def heartbeat(self) -> None:
        """Tell each destination, through the same stream, that this site is alive."""
        now = self.clock()
        for link in self.deployment.outbound(self.site.name):
            with self.db.reader() as session:
                held = forwarded_to(session, link.destination)
            body = json.dumps({"origin": self.site.name, "seq": 0 if held is None else held[1],
                               "time": now.isoformat()}).encode()  # fmt: skip
            await self.js.publish(heartbeat_subject(self.site.name, link.destination), body)

    async def run(
        self, stop: asyncio.Event, *, idle_s: float = 0.05, heartbeat_s: float = 5.0
    ) -> None:
        """Forward until `stop` is set; an unreachable server is retried, never fatal."""
        next_beat = 0.0
        backoff = idle_s
        while not stop.is_set():
            try:
                sent = await self.forward_once()
                if time.monotonic() >= next_beat:
                    await self.heartbeat()
                    next_beat = time.monotonic() + heartbeat_s
                self.stats.last_error = None
                backoff = idle_s
            except TRANSIENT as error:  # a link problem: keep the cursor, retry with backoff
                self.stats.last_error = repr(error)
                log.warning("forwarding from %s failed, will retry: %r", self.site.name, error)
                sent = 0
                backoff = min(backoff * 2, 2.0)
            if sent == 0:
                await pause(stop, backoff)

    async def _publish(self, envelopes: list[Envelope]) -> None:
        # No expected-stream header: it would travel with the message into the receivers'
        # streams, which then refuse it as addressed to another stream.
        for start in range(0, len(envelopes), 256):
            chunk = envelopes[start : start + 256]
            await asyncio.gather(*(
                self.js.publish(e.subject, e.encode(), headers={"Nats-Msg-Id": e.message_id})
                for e in chunk
            ))  # fmt: skip

"""Forward a site's change log to the sites it links to, each change released per destination.

The change log (store.changes) is the outbox: every alert, incident transition, track summary
and sector status a site stores is already there, in commit order, with a monotonic id. For each
outbound link the forwarder reads the changes after that destination's cursor, passes each
through the release guard as the destination's partner, publishes what comes back to the site's
own stream and waits for JetStream's acknowledgement, then moves the cursor. A crash between
publish and cursor repeats a few publishes, which the message id and the receiver's idempotent
apply absorb; nothing is skipped. While the site's NATS server is unreachable the cursor simply
stays, and the site keeps working on its own database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nats.js.client import JetStreamContext

from limes.federation.deployment import Deployment, Site
from limes.federation.envelope import Envelope, heartbeat_subject, object_id
from limes.federation.pause import pause
from limes.store.changes import changes_after
from limes.store.database import Database
from limes.store.federated import forwarded_to, set_forwarded

log = logging.getLogger(__name__)

#: The release guard as the forwarder calls it: (partner, kind, payload) → projection or None.
Releaser = Callable[[str, str, dict[str, Any]], dict[str, Any] | None]


@dataclass
class ForwardStats:
    """What the forwarder did since it started."""

    published: int = 0
    withheld: int = 0
    rounds: int = 0
    last_error: str | None = None
    by_destination: dict[str, int] = field(default_factory=dict)


class Forwarder:
    """One site's outbound side: change log → release guard → its JetStream stream."""

    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        deployment: Deployment,
        site: Site,
        release: Releaser,
        *,
        batch: int = 1000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.js = js
        self.deployment = deployment
        self.site = site
        self.release = release
        self.batch = batch
        self.clock = clock
        self.stats = ForwardStats()

    async def forward_once(self) -> int:
        """Forward at most one batch to every destination; returns how many were published."""
        published = 0
        for link in self.deployment.outbound(self.site.name):
            destination = self.deployment.site(link.destination)
            with self.db.reader() as session:
                cursor = forwarded_to(session, destination.name)
                logged = changes_after(session, cursor, self.batch)
                rows = [(r.id, r.kind, r.payload) for r in logged]
            if not rows:
                continue
            envelopes = []
            for change_id, kind, payload in rows:
                if kind not in link.kinds:
                    continue
                projected = self.release(destination.as_partner, kind, payload)
                if projected is None:
                    self.stats.withheld += 1
                    continue
                oid = object_id(kind, payload)
                envelopes.append(
                    Envelope(self.site.name, destination.name, kind, oid, change_id, projected)
                )
            await self._publish(envelopes)
            with self.db.session() as session:
                set_forwarded(session, destination.name, rows[-1][0], self.clock())
            published += len(envelopes)
            self.stats.by_destination[destination.name] = self.stats.by_destination.get(
                destination.name, 0
            ) + len(envelopes)
        self.stats.published += published
        self.stats.rounds += 1
        return published

    async def heartbeat(self) -> None:
        """Tell each destination, through the same stream, how far this site has forwarded."""
        now = self.clock()
        for link in self.deployment.outbound(self.site.name):
            with self.db.reader() as session:
                version = forwarded_to(session, link.destination)
            body = json.dumps({"origin": self.site.name, "version": version,
                               "time": now.isoformat()}).encode()  # fmt: skip
            await self.js.publish(heartbeat_subject(self.site.name, link.destination), body)

    async def run(self, stop: asyncio.Event, *, idle_s: float = 0.05,
                  heartbeat_s: float = 5.0) -> None:  # fmt: skip
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
            except Exception as error:  # a link problem: keep the cursor, retry with backoff
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
                self.js.publish(e.subject, e.encode(),
                                headers={"Nats-Msg-Id": e.message_id})
                for e in chunk
            ))  # fmt: skip

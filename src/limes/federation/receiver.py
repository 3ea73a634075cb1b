"""Apply what other sites released to this one: the inbound stream → the store, idempotently.

A durable pull consumer on the site's inbound stream hands out batches; each batch is applied
in one transaction (newest version per object wins, repeats and older copies are ignored and
counted) together with a change-log entry per applied object, so the map shows received objects
with their origin; only after the commit are the messages acknowledged. A crash before the ack
redelivers the batch, which applies as a no-op. Heartbeats update the link's last-heard time.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js.client import JetStreamContext

from limes.federation.envelope import decode
from limes.federation.errors import TRANSIENT, FederationError
from limes.federation.pause import pause
from limes.federation.streams import APPLY_CONSUMER, inbound_stream
from limes.store.changes import record_changes
from limes.store.database import Database
from limes.store.federated import apply_received

log = logging.getLogger(__name__)


@dataclass
class Heard:
    """The last word from one origin: when, and its feed position (sequence) for us."""

    time: datetime
    version: int


@dataclass
class ReceiveStats:
    """What the receiver did since it started."""

    applied: int = 0
    stale: int = 0
    rejected: int = 0
    heard: dict[str, Heard] = field(default_factory=dict)
    applied_version: dict[str, int] = field(default_factory=dict)
    #: The origin stream's sequence of the last message sourced from each origin.
    source_sequence: dict[str, int] = field(default_factory=dict)


class Receiver:
    """One site's inbound side: its inbound stream → idempotent apply → its store."""

    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        site: str,
        *,
        batch: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.js = js
        self.site = site
        self.batch = batch
        self.clock = clock
        self.stats = ReceiveStats()
        self._subscription: Any = None

    async def _pull(self, timeout: float) -> list[Any]:
        if self._subscription is None:
            self._subscription = await self.js.pull_subscribe_bind(
                APPLY_CONSUMER, stream=inbound_stream(self.site)
            )
        try:
            return list(await self._subscription.fetch(self.batch, timeout=timeout))
        except (NatsTimeout, TimeoutError):
            return []

    async def receive_once(self, timeout: float = 1.0) -> int:
        """Apply one batch; returns how many objects changed in the store."""
        messages = await self._pull(timeout)
        if not messages:
            return 0
        now = self.clock()
        changes = []
        applied = 0
        for message in messages:
            origin_seq = _source_sequence(message.headers)
            if message.subject.endswith(".heartbeat"):
                origin = self._heard(message.data, now)
                if origin is not None and origin_seq is not None:
                    self.stats.source_sequence[origin] = origin_seq
                continue
            try:
                envelope = decode(message.data)
            except FederationError as error:
                self.stats.rejected += 1
                log.error("dropped a message on %s: %s", message.subject, error)
                continue
            if envelope.destination != self.site:
                self.stats.rejected += 1  # never ours: the policy upstream would be broken
                log.error("dropped a change for %s arriving at %s", envelope.destination, self.site)
                continue
            if origin_seq is not None:
                self.stats.source_sequence[envelope.origin] = origin_seq
            changes.append(envelope.received())
        if changes:
            with self.db.session() as session:
                result = apply_received(session, changes, now)
                record_changes(
                    session,
                    [("federated", {"origin": c.origin, "kind": c.kind, "id": c.object_id,
                                    "version": c.version, "payload": c.payload})
                     for c in result.changes],
                    now,
                )  # fmt: skip
            applied = result.applied
            self.stats.applied += result.applied
            self.stats.stale += result.stale
            for change in result.changes:
                held = self.stats.applied_version.get(change.origin, 0)
                self.stats.applied_version[change.origin] = max(held, change.version)
        for message in messages:
            await message.ack()
        return applied

    def _heard(self, data: bytes, now: datetime) -> str | None:
        try:
            raw = json.loads(data)
            origin, version = str(raw["origin"]), int(raw["seq"])
        except (ValueError, KeyError, TypeError):
            self.stats.rejected += 1
            return None
        self.stats.heard[origin] = Heard(now, version)
        return origin

    async def run(self, stop: asyncio.Event) -> None:
        """Apply until `stop` is set; a lost server is retried, never fatal."""
        while not stop.is_set():
            try:
                await self.receive_once(timeout=0.5)
            except TRANSIENT as error:  # a link or server problem: retry, the consumer keeps state
                log.warning("receiving at %s failed, will retry: %r", self.site, error)
                self._subscription = None
                await pause(stop, 1.0)


def _source_sequence(headers: dict[str, str] | None) -> int | None:
    """The origin stream's sequence from a sourced message's `Nats-Stream-Source` header."""
    if not headers:
        return None
    raw = headers.get("Nats-Stream-Source")
    if not raw:
        return None
    parts = raw.split()
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None

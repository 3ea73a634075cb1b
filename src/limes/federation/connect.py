"""Reaching a site's NATS server that may not be up yet, without stopping the site meanwhile."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client

from limes.federation.errors import TRANSIENT
from limes.federation.pause import pause

log = logging.getLogger(__name__)


async def connect_when_ready(
    connect: Callable[[], Awaitable[Client]],
    prepare: Callable[[Client], Awaitable[None]],
    stop: asyncio.Event,
    what: str,
    retry_s: float = 1.0,
) -> Client | None:
    """Connect and `prepare` (streams, cursors) until both succeed or `stop` is set (None then).

    A transient failure (server down, JetStream not ready) is logged, the half-made connection
    closed, and tried again after `retry_s`; the caller's site keeps working meanwhile.
    """
    while not stop.is_set():
        nc: Client | None = None
        try:
            nc = await connect()
            await prepare(nc)
            return nc
        except TRANSIENT as error:
            log.warning("%s: NATS not ready (%r), retrying", what, error)
            if nc is not None:
                await nc.close()
            await pause(stop, retry_s)
    return None

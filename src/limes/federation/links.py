"""How each link into a site is doing: connected, behind, silent or stalled.

Read without any state of the receiver's, so `limes federation status` and the site's own watch
agree: the inbound stream's source info gives JetStream's lag and last activity; the origin's
newest heartbeat, read directly from its stream through its domain API, gives the sequence the
origin has reached; the newest heartbeat sourced into this site's stream carries, in its
`Nats-Stream-Source` header, the origin sequence that has arrived. JetStream's own lag figure
is known to read 0 while a source is stalled after a reconnect or a re-created stream, so a link
is *behind* from the sequences (the origin answers and is ahead of what arrived), and the site's
watch calls it stalled when it stays behind without progress for longer than its stall limit.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client
from nats.js.errors import Error as JetStreamError

from limes.federation.deployment import Deployment, Site
from limes.federation.envelope import heartbeat_subject
from limes.federation.receiver import _source_sequence
from limes.federation.streams import inbound_stream, outbound_stream


@dataclass
class LinkStatus:
    """One inbound link seen from the receiving site."""

    origin: str
    destination: str
    origin_reachable: bool
    origin_sequence: int | None
    arrived_sequence: int | None
    jetstream_lag: int | None
    last_heard: datetime | None
    silent_s: float | None
    silent: bool
    behind: bool
    stalled: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["last_heard"] = self.last_heard.isoformat() if self.last_heard else None
        return out


async def link_statuses(
    nc: Client,
    deployment: Deployment,
    site: Site,
    *,
    now: datetime | None = None,
    timeout: float = 2.0,
) -> list[LinkStatus]:
    """The status of every link into `site`."""
    now = now or datetime.now(UTC)
    js = nc.jetstream()
    lag: dict[str, int] = {}
    try:
        info = await js.stream_info(inbound_stream(site.name))
        for source in info.sources or []:
            lag[source.name] = int(source.lag or 0)
    except (JetStreamError, TimeoutError):
        pass
    out = []
    for link in deployment.inbound(site.name):
        origin = deployment.site(link.source)
        subject = heartbeat_subject(origin.name, site.name)
        origin_seq: int | None = None
        reachable = True
        try:
            remote = nc.jetstream(domain=origin.domain, timeout=timeout)
            origin_seq = (await remote.get_last_msg(outbound_stream(origin.name), subject)).seq
        except (JetStreamError, TimeoutError):
            reachable = False
        arrived: int | None = None
        heard: datetime | None = None
        try:
            local = await js.get_last_msg(inbound_stream(site.name), subject)
            arrived = _source_sequence(local.headers)
            if local.data:
                heard = datetime.fromisoformat(json.loads(local.data)["time"])
        except (JetStreamError, TimeoutError, ValueError, KeyError):
            pass
        silent_s = None if heard is None else max(0.0, (now - heard).total_seconds())
        silent = silent_s is None or silent_s > origin.silent_limit_s
        behind = reachable and origin_seq is not None and (arrived is None or origin_seq > arrived)
        out.append(LinkStatus(
            origin=origin.name, destination=site.name, origin_reachable=reachable,
            origin_sequence=origin_seq, arrived_sequence=arrived,
            jetstream_lag=lag.get(outbound_stream(origin.name)), last_heard=heard,
            silent_s=silent_s, silent=silent, behind=behind,
        ))  # fmt: skip
    return out

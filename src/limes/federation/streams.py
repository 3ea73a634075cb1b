"""The JetStream streams of a site: its outbound stream, and its inbound one that sources others.

Names are derived from site names so that every site, and `limes federation status`, finds
them without configuration: `LIMES_OUT_<site>` holds everything the site released to anyone
(subjects `limes.fed.<site>.>`), kept by limits (age and bytes) for the longest outage the
deployment plans for; `LIMES_IN_<site>` sources, from each origin's domain through the leaf
links, only the subjects released to this site.
"""

from __future__ import annotations

from nats.js.api import (
    ConsumerConfig,
    DiscardPolicy,
    ExternalStream,
    RetentionPolicy,
    StreamConfig,
    StreamSource,
)
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from limes.federation.deployment import Deployment, Site
from limes.federation.envelope import SUBJECT_ROOT

#: The receiver's durable consumer on the inbound stream.
APPLY_CONSUMER = "limes-apply"


def outbound_stream(site: str) -> str:
    return f"LIMES_OUT_{site}"


def inbound_stream(site: str) -> str:
    return f"LIMES_IN_{site}"


def domain_api(domain: str) -> str:
    """The JetStream API prefix that reaches `domain` across the leaf links."""
    return f"$JS.{domain}.API"


def inbound_sources(deployment: Deployment, site: Site) -> list[StreamSource]:
    """One source per link into `site`, filtered to what the origin released to it."""
    return [
        StreamSource(
            name=outbound_stream(link.source),
            filter_subject=f"{SUBJECT_ROOT}.{link.source}.{site.name}.>",
            external=ExternalStream(api=domain_api(link.source)),
        )
        for link in deployment.inbound(site.name)
    ]


async def ensure_streams(js: JetStreamContext, deployment: Deployment, site: Site) -> None:
    """Create or update the site's two streams and the apply consumer (idempotent)."""
    retention = deployment.retention
    out = StreamConfig(
        name=outbound_stream(site.name),
        subjects=[f"{SUBJECT_ROOT}.{site.name}.>"],
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=retention.max_age_s,
        max_bytes=retention.max_bytes,
    )
    await _put_stream(js, out)
    sources = inbound_sources(deployment, site)
    if sources:
        inbound = StreamConfig(
            name=inbound_stream(site.name), sources=sources,
            retention=RetentionPolicy.LIMITS, discard=DiscardPolicy.OLD,
            max_age=retention.max_age_s, max_bytes=retention.max_bytes,
        )  # fmt: skip
        await _put_stream(js, inbound)
        await js.add_consumer(
            inbound_stream(site.name),
            ConsumerConfig(durable_name=APPLY_CONSUMER, ack_wait=30.0, max_ack_pending=10_000),
        )


async def resource_sources(js: JetStreamContext, deployment: Deployment, site: Site) -> None:
    """Drop and re-add the inbound stream's sources: the cure for a stalled sourcing.

    The inbound stream keeps its messages; re-added sources resume from where the stream's
    own record of them says, and whatever they deliver twice the idempotent apply ignores.
    """
    config = (await js.stream_info(inbound_stream(site.name))).config
    config.sources = []
    await js.update_stream(config)
    config.sources = inbound_sources(deployment, site)
    await js.update_stream(config)


async def _put_stream(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        return
    await js.update_stream(config)

"""The federation's verbs as functions: node configurations, link status, and running a site.

`limes federation …` calls these with the same arguments.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from urllib.parse import urlsplit

import nats

from limes.federation.deployment import Deployment
from limes.federation.errors import TRANSIENT, FederationError
from limes.federation.links import LinkStatus, link_statuses
from limes.federation.nats_config import hub_config, site_config
from limes.federation.site import FederatedSite
from limes.share.context import ShareContext


def _port(url: str, what: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.port is None:
        raise FederationError(f"{what} {url!r} names no port")
    return parts.hostname or "127.0.0.1", parts.port


def write_nats_configs(deployment: Deployment, out: Path) -> list[Path]:
    """One nats-server configuration for the hub and one per site, JetStream stores below `out`."""
    out.mkdir(parents=True, exist_ok=True)
    host, client = _port(deployment.hub.client_url, "the hub's client URL")
    _, leaf = _port(deployment.hub.leaf_url, "the hub's leaf URL")
    written = [out / "hub.conf"]
    written[0].write_text(hub_config(client_port=client, leaf_port=leaf, store_dir=out / "hub",
                                     host=host))  # fmt: skip
    for site in deployment.sites:
        site_host, port = _port(site.nats_url, f"site {site.name}'s NATS URL")
        path = out / f"{site.name}.conf"
        config = site_config(site.name, client_port=port, hub_leaf_url=deployment.hub.leaf_url,
                             store_dir=out / site.name, host=site_host)  # fmt: skip
        path.write_text(config)
        written.append(path)
    return written


def federation_status(
    deployment: Deployment, site: str, *, timeout: float = 2.0
) -> list[LinkStatus]:
    """The status of every link into `site`, read from its NATS server."""
    target = deployment.site(site)

    async def read() -> list[LinkStatus]:
        try:
            nc = await nats.connect(target.nats_url, connect_timeout=timeout,
                                    max_reconnect_attempts=0, allow_reconnect=False)  # fmt: skip
        except TRANSIENT as error:  # the message says what the client met
            raise FederationError(f"site {site}'s NATS server {target.nats_url} does not answer: "
                                  f"{error!r}") from None  # fmt: skip
        try:
            return await link_statuses(nc, deployment, target, timeout=timeout)
        finally:
            await nc.close()

    return asyncio.run(read())


def run_site(share: ShareContext, deployment: Deployment, site: str) -> FederatedSite:
    """Run one site's federation until SIGINT/SIGTERM; returns it (with its counters) after."""
    federated = FederatedSite(share, deployment, deployment.site(site))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await federated.run(stop)

    asyncio.run(main())
    return federated

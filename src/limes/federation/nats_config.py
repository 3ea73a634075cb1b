"""nats-server configurations for a deployment: the hub, and one leaf node per site.

Each site's server runs JetStream in its own domain (the site's name) and connects to the hub as
a leaf node, so a site keeps storing and forwarding into its own stream while its link is down,
and other sites reach its stream through `$JS.<site>.API` once the link is back. The hub runs
no JetStream of its own; it only joins the leaves.
"""

from __future__ import annotations

from pathlib import Path


def hub_config(
    *, client_port: int, leaf_port: int, store_dir: Path, host: str = "127.0.0.1"
) -> str:
    """The hub: clients may connect for status; leaf nodes connect on `leaf_port`."""
    return (
        f"server_name: hub\nlisten: {host}:{client_port}\n"
        f'jetstream {{ domain: hub, store_dir: "{store_dir}" }}\n'
        f"leafnodes {{ listen: {host}:{leaf_port} }}\n"
    )


def site_config(
    site: str, *, client_port: int, hub_leaf_url: str, store_dir: Path,
    host: str = "127.0.0.1", max_store_bytes: int = 8 << 30,
) -> str:  # fmt: skip
    """One site's leaf node, with JetStream in the domain named after the site."""
    return (
        f"server_name: {site}\nlisten: {host}:{client_port}\n"
        f'jetstream {{ domain: {site}, store_dir: "{store_dir}", '
        f"max_file_store: {max_store_bytes} }}\n"
        f'leafnodes {{ remotes: [ {{ url: "{hub_leaf_url}" }} ] }}\n'
    )

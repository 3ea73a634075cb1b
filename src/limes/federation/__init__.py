"""Federation: each command site its own floor, one picture at the top, over NATS JetStream.

A site forwards its change log, projected for each destination by the release guard, to a
stream in its own JetStream domain; receiving sites source those streams through the leaf-node
links and apply what arrives idempotently by (origin, object id, version). See
docs/federation.md.
"""

from limes.federation.deployment import Deployment, Link, Site, load_deployment

__all__ = ["Deployment", "Link", "Site", "load_deployment"]

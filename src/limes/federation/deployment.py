"""A deployment: the sites, which sectors each holds, and what flows between them.

Loaded from YAML. Each site is one `limes serve` with its own database and its own NATS
server (a leaf node of the hub) in its own JetStream domain; a link says that changes flow from
one site to another, released to the destination as the partner it is in the sharing policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from limes.federation.errors import FederationError

_NAME = r"^[a-z][a-z0-9_]{0,31}$"


class Site(BaseModel):
    """One command site."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME, description="Site name; also its JetStream domain.")
    sectors: list[str] | Literal["all"] = Field(
        description="The sectors whose doors, tracker and floor this site holds ('all' for a "
        "headquarters that sees the whole border through what it receives)."
    )
    nats_url: str = Field(description="The site's own NATS server (a leaf node of the hub).")
    partner: str | None = Field(
        default=None,
        description="The partner this site is in the sharing policy: what other sites forward "
        "to it is what the release guard gives that partner. None: the site's own name.",
    )
    silent_limit_s: float = Field(
        default=300.0, gt=0,
        description="Seconds without any change or heartbeat from this site before receivers "
        "raise a 'site silent' alert.",
    )  # fmt: skip

    @property
    def domain(self) -> str:
        """The site's JetStream domain (its name)."""
        return self.name

    @property
    def as_partner(self) -> str:
        return self.partner or self.name


class Link(BaseModel):
    """Changes flow from `source` to `destination`, through the release guard."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from", description="The site whose changes flow.")
    destination: str = Field(alias="to", description="The site that receives them.")
    kinds: list[str] = Field(
        default_factory=lambda: ["alert", "incident", "track", "sector", "report"],
        description="The change kinds offered on this link (the release guard decides each).",
    )


class Retention(BaseModel):
    """How much each site's outbound stream keeps for a receiver that is away."""

    model_config = ConfigDict(extra="forbid")

    max_age_s: float = Field(
        default=7 * 24 * 3600.0, gt=0,
        description="Oldest message kept (limits-based retention): the longest outage covered.",
    )  # fmt: skip
    max_bytes: int = Field(default=1 << 30, gt=0, description="Bytes kept per outbound stream.")


class Hub(BaseModel):
    """The NATS server that joins the sites' leaf nodes."""

    model_config = ConfigDict(extra="forbid")

    client_url: str = Field(default="nats://127.0.0.1:4222", description="Its client port.")
    leaf_url: str = Field(
        default="nats-leaf://127.0.0.1:7422",
        description="Where the sites' leaf nodes connect (the hub listens there).",
    )


class Deployment(BaseModel):
    """The sites and the links between them."""

    model_config = ConfigDict(extra="forbid")

    hub: Hub = Field(default_factory=Hub)
    sites: list[Site] = Field(min_length=1)
    links: list[Link] = Field(default_factory=list)
    retention: Retention = Field(default_factory=Retention)

    @model_validator(mode="after")
    def _links_name_sites(self) -> Deployment:
        names = [s.name for s in self.sites]
        if len(set(names)) != len(names):
            raise ValueError(f"site names repeat: {sorted(names)}")
        for link in self.links:
            for end in (link.source, link.destination):
                if end not in names:
                    raise ValueError(f"link {link.source}->{link.destination}: no site {end!r}")
            if link.source == link.destination:
                raise ValueError(f"link {link.source}->{link.destination} goes nowhere")
        return self

    def site(self, name: str) -> Site:
        """The site called `name`; FederationError naming the known ones otherwise."""
        for site in self.sites:
            if site.name == name:
                return site
        raise FederationError(f"no site {name!r} in the deployment (sites: "
                              f"{', '.join(s.name for s in self.sites)})")  # fmt: skip

    def outbound(self, name: str) -> list[Link]:
        """The links that carry `name`'s changes away."""
        return [link for link in self.links if link.source == name]

    def inbound(self, name: str) -> list[Link]:
        """The links that bring changes to `name`."""
        return [link for link in self.links if link.destination == name]


def load_deployment(path: Path) -> Deployment:
    """Read a deployment file; a FederationError names the file and the field that is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FederationError(f"{path}: cannot read the deployment: {error}") from None
    try:
        return Deployment.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise FederationError(f"{path}: {where}: {first['msg']}") from None

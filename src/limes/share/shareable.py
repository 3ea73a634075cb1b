"""What the release guard sees: one object that may leave limes, in one shape for every kind.

Alerts, incidents, tracks, sector status and intelligence reports are put in this shape by
`limes.share.objects` (from the store's rows); the guard projects it for one partner; the
channels (STIX/TAXII, CoT, the partner API, federation) render the projection. Positions are
WGS84 lon/lat; times aware UTC. Objects an object refers to travel inside it (`refs`) so that
the guard can drop a reference to anything the partner may not see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from limes.scenario.sharing import ObjectKind, Tlp

LonLat = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Shareable:
    """One version of one object that may be released to partners.

    - `key`: stable across versions, `"<kind>:<local id>"` (e.g. `alert:1b4e…`).
    - `version`: rises by one with each stored change of the object.
    - `time`: when the thing happened (a release delay counts from here).
    - `originator`: the installation's home id, or the partner that shared it into limes.
    - `releasable_to`: None when the rules alone decide; otherwise the only partner ids that
      may receive it (`"*"`: any the rules allow). An empty set releases to nobody.
    - `topics`: what it is about (actors such as `IS`), for rules that filter on topics.
    - `fields`: the JSON-ready body; keys named in `WITHHELD_FIELDS` are what rules withhold,
      and no field holds the key of another object (references go in `refs`).
    """

    kind: ObjectKind
    key: str
    version: int
    time: datetime
    originator: str
    sector: str | None = None
    tlp: Tlp = Tlp.AMBER
    releasable_to: frozenset[str] | None = None
    topics: frozenset[str] = frozenset()
    position: LonLat | None = None
    area: tuple[LonLat, ...] | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    refs: tuple[Shareable, ...] = ()

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError(f"{self.key}: time must be timezone-aware UTC")
        if self.version < 1:
            raise ValueError(f"{self.key}: version starts at 1, got {self.version}")

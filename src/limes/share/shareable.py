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


def to_record(obj: Shareable) -> dict[str, Any]:
    """A shareable as JSON (what the shared-object feed stores)."""
    return {
        "kind": obj.kind.value,
        "key": obj.key,
        "version": obj.version,
        "time": obj.time.isoformat(),
        "originator": obj.originator,
        "sector": obj.sector,
        "tlp": obj.tlp.value,
        "releasable_to": None if obj.releasable_to is None else sorted(obj.releasable_to),
        "topics": sorted(obj.topics),
        "position": None if obj.position is None else list(obj.position),
        "area": None if obj.area is None else [list(p) for p in obj.area],
        "fields": dict(obj.fields),
        "refs": [to_record(r) for r in obj.refs],
    }


def from_record(record: Mapping[str, Any]) -> Shareable:
    """A shareable back from its JSON."""
    rel = record.get("releasable_to")
    pos = record.get("position")
    area = record.get("area")
    return Shareable(
        kind=ObjectKind(record["kind"]),
        key=record["key"],
        version=int(record["version"]),
        time=datetime.fromisoformat(record["time"]),
        originator=record["originator"],
        sector=record.get("sector"),
        tlp=Tlp(record.get("tlp", Tlp.AMBER.value)),
        releasable_to=None if rel is None else frozenset(rel),
        topics=frozenset(record.get("topics", ())),
        position=None if pos is None else (float(pos[0]), float(pos[1])),
        area=None if area is None else tuple((float(a), float(b)) for a, b in area),
        fields=dict(record.get("fields", {})),
        refs=tuple(from_record(r) for r in record.get("refs", ())),
    )

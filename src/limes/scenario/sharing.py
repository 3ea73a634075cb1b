"""The `sharing` section of a scenario: partners, what each may receive, and the vocabularies.

Who may see what is data, not code: each partner lists release rules (object kinds, sectors,
topics, position precision, delay, withheld fields, a TLP ceiling), may be reached only through
another partner (`via`, e.g. the SDF through the coalition), and says to whom its own objects may
be passed on (`consents_to`: originator control). An empty or missing rule shares nothing, and a
partner without rules receives nothing. The one function that applies this is
`limes.share.release`.

The vocabularies (TLP 2.0, the Admiralty grades) live here, at the bottom of the stack, so the
scenario, the intelligence pipeline and the sharing layer speak the same words.
"""

from __future__ import annotations

from collections import Counter
from enum import IntEnum, StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

PARTNER_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ALL_SECTORS = "*"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class ObjectKind(StrEnum):
    """What can be shared."""

    ALERT = "alert"
    INCIDENT = "incident"
    TRACK = "track"
    SECTOR_STATUS = "sector_status"  # a sector's impact and threat level
    INTEL_REPORT = "intel_report"


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 (FIRST): how far a recipient may pass something on."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def rank(self) -> int:
        """0 (CLEAR, anyone) to 4 (RED, named recipients only)."""
        return _TLP_ORDER.index(self)


_TLP_ORDER = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


class Withheld(StrEnum):
    """Fields a rule may withhold; `WITHHELD_FIELDS` says which keys of a record each covers."""

    SENSOR_IDS = "sensor_ids"
    SENSOR_POSITIONS = "sensor_positions"
    UNIT_IDS = "unit_ids"
    UNIT_POSITIONS = "unit_positions"
    SOURCE = "source"  # who told us (an intelligence report's source)
    TEXT = "text"  # an intelligence report's free text (the gist stays in the title)


#: The record keys each withheld class removes (the same names in every shared record).
WITHHELD_FIELDS: dict[Withheld, tuple[str, ...]] = {
    Withheld.SENSOR_IDS: ("sensor_id", "sensor_ids", "sensors"),
    Withheld.SENSOR_POSITIONS: ("sensor_positions",),
    Withheld.UNIT_IDS: ("unit_id", "unit_ids"),
    Withheld.UNIT_POSITIONS: ("unit_position", "unit_positions"),
    Withheld.SOURCE: ("source",),
    Withheld.TEXT: ("text",),
}


class Reliability(StrEnum):
    """Admiralty source reliability, graded apart from the information's credibility."""

    A = "A"  # completely reliable
    B = "B"  # usually reliable
    C = "C"  # fairly reliable
    D = "D"  # not usually reliable
    E = "E"  # unreliable
    F = "F"  # reliability cannot be judged


class Credibility(IntEnum):
    """Admiralty information credibility, graded apart from the source's reliability."""

    CONFIRMED = 1  # confirmed by other sources
    PROBABLY_TRUE = 2
    POSSIBLY_TRUE = 3
    DOUBTFUL = 4
    IMPROBABLE = 5
    CANNOT_BE_JUDGED = 6


class ReleaseRule(_Model):
    """One way a partner may receive objects; the first rule of a partner that fits decides.

    Every list defaults to empty, and empty means none: a rule that names no kinds or no
    sectors releases nothing. `sectors: ["*"]` means every sector; `topics` (None: any) keeps
    objects about at least one of the named topics (actors such as `IS`).
    """

    name: str
    kinds: list[ObjectKind] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list, description='sector names, or "*"')
    topics: list[str] | None = Field(default=None, description="None: any topic")
    originators: list[str] | None = Field(
        default=None,
        description="whose objects the rule covers (None: anyone whose consent allows it)",
    )
    precision_m: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="positions coarsened to a grid of this many metres"
    )
    delay_s: Annotated[float, Field(ge=0)] = Field(
        default=0.0, description="released only this many seconds after the object's time"
    )
    withhold: list[Withheld] = Field(default_factory=list)
    tlp_ceiling: Tlp = Field(
        default=Tlp.CLEAR, description="the most restrictive marking this rule may release"
    )


class Partner(_Model):
    """A party limes shares with: its rules, its relay, its consent for what it originates."""

    id: str = Field(pattern=PARTNER_ID)
    name: str
    description: str = ""
    via: str | None = Field(
        default=None, description="reached only through this partner, whose rules apply first"
    )
    consents_to: list[str] = Field(
        default_factory=list,
        description="partners this partner's own objects may be passed on to",
    )
    rules: list[ReleaseRule] = Field(default_factory=list)
    inbox: bool = Field(default=False, description="may share objects into limes")
    reliability: Reliability = Field(
        default=Reliability.F, description="Admiralty reliability of what it shares into limes"
    )


class Sharing(_Model):
    """The scenario's sharing section; missing, it shares nothing with anyone."""

    home: str = Field(
        default="home", pattern=PARTNER_ID, description="originator id of this installation"
    )
    marking: Tlp = Field(
        default=Tlp.AMBER,
        description="TLP of the floor's own alerts, incidents, tracks and sector status",
    )
    report_horizon_h: Annotated[float, Field(gt=0)] = Field(
        default=72.0,
        description="hours an intelligence report counts toward its sector's threat level",
    )
    partners: list[Partner] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Self:
        ids = [p.id for p in self.partners]
        twice = sorted(i for i, n in Counter(ids).items() if n > 1)
        if twice:
            raise ValueError(f"partner ids must be unique: {', '.join(twice)} repeated")
        if self.home in ids:
            raise ValueError(f"home {self.home!r} is also a partner id")
        known = set(ids)
        for p in self.partners:
            if p.via is not None and p.via not in known:
                raise ValueError(f"partner {p.id}: via {p.via!r} is not a partner")
            if p.via == p.id:
                raise ValueError(f"partner {p.id}: cannot be reached via itself")
            unknown = sorted(set(p.consents_to) - known)
            if unknown:
                raise ValueError(f"partner {p.id}: consents_to unknown partners {unknown}")
            for rule in p.rules:
                strangers = sorted(set(rule.originators or ()) - known - {self.home})
                if strangers:
                    raise ValueError(
                        f"partner {p.id}, rule {rule.name}: unknown originators {strangers}"
                    )
        _no_via_cycle(self.partners)
        return self

    def partner(self, partner_id: str) -> Partner | None:
        """The partner of that id, or None."""
        return next((p for p in self.partners if p.id == partner_id), None)


def _no_via_cycle(partners: list[Partner]) -> None:
    via = {p.id: p.via for p in partners}
    for start in via:
        seen = {start}
        hop = via[start]
        while hop is not None:
            if hop in seen:
                raise ValueError(f"partner {start}: the via chain loops back through {hop}")
            seen.add(hop)
            hop = via.get(hop)

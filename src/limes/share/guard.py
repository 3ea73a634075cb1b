"""The one release guard: what a partner may receive of an object, and in what form.

Every path out of limes — TAXII collections, CoT streams, the partner API, exports, federation —
calls `release(partner, obj)`; nothing else decides. The decision, in order:

1. **relay**: a partner reached `via` another receives only what that partner receives, in the
   form it receives it (its coarsening, delay and withheld fields apply first);
2. **originator control**: an object a partner shared into limes goes to a third partner only
   if its originator consents to that partner (`consents_to`); the originator itself may
   always have it back;
3. **releasability**: an object marked releasable to named partners goes to those only;
4. **rules**: the partner's first rule that covers the object's kind, sector, topics,
   originator and TLP marking decides its form; no rule, no release;
5. **delay**: the rule's delay counts from the object's time;
6. **projection**: withheld fields removed, positions coarsened, and references kept only to
   objects this partner may itself receive (in their projected form).

`explain` gives the same decision with its reasons (for `limes sharing explain` and audits);
`release` is `explain(...).release`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from limes.errors import ShareError
from limes.scenario.sharing import (
    ALL_SECTORS,
    WITHHELD_FIELDS,
    Partner,
    ReleaseRule,
    Sharing,
)
from limes.share.coarsen import coarsen, coarsen_any
from limes.share.shareable import Shareable


class UnknownPartner(ShareError):
    """A partner id the sharing policy does not name."""


@dataclass(frozen=True)
class PartnerPolicy:
    """One partner with the whole sharing section it is read against (relays, consents)."""

    partner: Partner
    sharing: Sharing

    @property
    def id(self) -> str:
        return self.partner.id

    @property
    def relay(self) -> PartnerPolicy | None:
        """The partner this one is reached through, if any."""
        if self.partner.via is None:
            return None
        return partner_policy(self.sharing, self.partner.via)


def partner_policy(sharing: Sharing, partner_id: str) -> PartnerPolicy:
    """The policy for one partner; `UnknownPartner` when the section does not name it."""
    found = sharing.partner(partner_id)
    if found is None:
        known = ", ".join(p.id for p in sharing.partners) or "none"
        raise UnknownPartner(f"no partner {partner_id!r} (partners: {known})")
    return PartnerPolicy(found, sharing)


@dataclass(frozen=True, slots=True)
class Release:
    """An object as one partner may receive it.

    `object` is the projection; `rule` the rule that decided (`relay/rule` through a relay);
    `available_at` the first moment it may go (object time plus every delay on the way).
    """

    partner: str
    object: Shareable
    rule: str
    available_at: datetime
    precision_m: float | None = None
    withheld: tuple[str, ...] = ()


@dataclass
class Decision:
    """A release decision with the reasons a person can read."""

    partner: str
    key: str
    release: Release | None = None
    reasons: list[str] = field(default_factory=list)
    #: The moment it would be released were it not for the delay (None: never).
    available_at: datetime | None = None


def release(
    partner: PartnerPolicy, obj: Shareable, *, now: datetime | None = None
) -> Release | None:
    """The projection of `obj` that `partner` may receive now, or None. The only way out."""
    return explain(partner, obj, now=now).release


def explain(partner: PartnerPolicy, obj: Shareable, *, now: datetime | None = None) -> Decision:
    """The release decision for one partner and object, with its reasons."""
    when = now or datetime.now(UTC)
    decision = Decision(partner.id, obj.key)
    form = _form(partner, obj, decision.reasons)
    if form is None:
        return decision
    decision.available_at = form.available_at
    if when < form.available_at:
        decision.reasons.append(
            f"held back until {form.available_at.isoformat()} (delay); not released yet"
        )
        return decision
    decision.release = _project(partner, form, when)
    decision.reasons.append(
        f"released under rule {form.rule!r}"
        + (f", positions coarsened to {form.precision_m:g} m" if form.precision_m else "")
        + (f", withheld {', '.join(form.withheld)}" if form.withheld else "")
    )
    return decision


@dataclass(frozen=True, slots=True)
class _Form:
    """The shape a release takes before references are resolved."""

    obj: Shareable
    rule: str
    available_at: datetime
    precision_m: float | None
    withheld: tuple[str, ...]


def _form(partner: PartnerPolicy, obj: Shareable, reasons: list[str]) -> _Form | None:
    """The form `obj` reaches `partner` in, ignoring the clock; None (with reasons) if never."""
    relay = partner.relay
    relayed: _Form | None = None
    if relay is not None:
        relayed = _form(relay, obj, reasons)
        if relayed is None:
            reasons.append(f"{partner.id} is reached via {relay.id}, which may not receive it")
            return None
        obj = relayed.obj
    if not _originator_consents(partner, obj, reasons):
        return None
    if obj.releasable_to is not None and not ({partner.id, "*"} & obj.releasable_to):
        shown = ", ".join(sorted(obj.releasable_to)) or "nobody"
        reasons.append(f"marked releasable to {shown} only")
        return None
    rule = _first_rule(partner.partner, obj, partner.sharing.home, reasons)
    if rule is None:
        return None
    available = obj.time + timedelta(seconds=rule.delay_s)
    withheld = tuple(w.value for w in rule.withhold)
    precision = rule.precision_m
    name = rule.name
    if relayed is not None:
        available = max(available, relayed.available_at)
        withheld = tuple(dict.fromkeys((*relayed.withheld, *withheld)))
        if relayed.precision_m is not None:
            precision = max(precision or 0.0, relayed.precision_m)
        name = f"{relayed.rule}/{rule.name}"
    shaped = _shape(obj, rule)
    return _Form(shaped, name, available, precision, withheld)


def _originator_consents(partner: PartnerPolicy, obj: Shareable, reasons: list[str]) -> bool:
    home = partner.sharing.home
    if obj.originator in (home, partner.id):
        return True
    origin = partner.sharing.partner(obj.originator)
    if origin is None:
        reasons.append(f"originated by {obj.originator!r}, not a known partner: never passed on")
        return False
    if partner.id not in origin.consents_to:
        reasons.append(f"originated by {origin.id}, which has not consented to {partner.id}")
        return False
    return True


def _first_rule(
    partner: Partner, obj: Shareable, home: str, reasons: list[str]
) -> ReleaseRule | None:
    if not partner.rules:
        reasons.append(f"{partner.id} has no release rules: it receives nothing")
        return None
    for rule in partner.rules:
        why = _misfit(rule, obj, home)
        if why is None:
            return rule
        reasons.append(f"rule {rule.name!r}: {why}")
    reasons.append("no rule releases it")
    return None


def _misfit(rule: ReleaseRule, obj: Shareable, home: str) -> str | None:
    """Why a rule does not cover an object (None: it does)."""
    if obj.kind not in rule.kinds:
        return f"kind {obj.kind.value} not among {[k.value for k in rule.kinds] or 'none'}"
    if ALL_SECTORS not in rule.sectors and (obj.sector is None or obj.sector not in rule.sectors):
        return f"sector {obj.sector!r} not among {rule.sectors or 'none'}"
    if rule.topics is not None and not set(rule.topics) & obj.topics:
        return f"topics {sorted(obj.topics) or 'none'} not among {rule.topics}"
    if rule.originators is not None and obj.originator not in rule.originators:
        return f"originator {obj.originator} not among {rule.originators}"
    if obj.tlp.rank > rule.tlp_ceiling.rank:
        return f"TLP:{obj.tlp.value.upper()} above the ceiling TLP:{rule.tlp_ceiling.value.upper()}"
    return None


def _shape(obj: Shareable, rule: ReleaseRule) -> Shareable:
    """Withheld fields removed and positions coarsened (references untouched here)."""
    drop = {key for w in rule.withhold for key in WITHHELD_FIELDS[w]}
    fields: Mapping[str, Any] = {k: v for k, v in obj.fields.items() if k not in drop}
    position, area = obj.position, obj.area
    p = rule.precision_m
    if p is not None:
        fields = {k: coarsen_any(v, p) for k, v in fields.items()}
        if position is not None:
            position = coarsen(position[0], position[1], p)
        if area is not None:
            area = tuple(coarsen(lon, lat, p) for lon, lat in area)
    return replace(obj, fields=fields, position=position, area=area)


def _project(partner: PartnerPolicy, form: _Form, now: datetime) -> Release:
    """The release, with references kept only to what the partner may itself receive now."""
    refs = tuple(r.object for r in (release(partner, ref, now=now) for ref in form.obj.refs) if r)
    return Release(
        partner=partner.id,
        object=replace(form.obj, refs=refs),
        rule=form.rule,
        available_at=form.available_at,
        precision_m=form.precision_m,
        withheld=form.withheld,
    )

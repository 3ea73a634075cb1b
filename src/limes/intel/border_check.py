"""Reports about the border's own state checked against the scenario, the planner's twin.

"140 of the 220 km closed" is a fact the scenario also holds (built barrier km in a stretch).
When a fortification claim gives a closed length, it is compared with the scenario's built
barrier km over the stretch it speaks of: a stretch of the stated total length ("of the 220
km"), else the sector of its place, else a sector named like an actor in it (the Peshmerga).
A mismatch beyond the tolerance is flagged for the planner: either the report is wrong or
the scenario is out of date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from limes.intel.extraction import Claim
from limes.scenario.model import Scenario
from limes.scenario.schema import BarrierStatus
from limes.scenario.summary import covered_km

_CLOSED = re.compile(
    r"\b(clos\w*|sealed|built|complet\w*|dug|fortified|finished|fenced|covered)\b", re.I
)
_OF_TOTAL = re.compile(r"\b(of|out of) (the|a|its)?\s*$", re.I)
_RUNNING_TOTAL = re.compile(
    r"\b(to|total of|totals?|now)\s+(about|some|nearly|around|almost)?\s*$", re.I
)


@dataclass(frozen=True)
class BorderCheck:
    """A reported closed length against the scenario's built barrier km on the same stretch."""

    reported_km: float
    stretch: str
    from_km: float
    to_km: float
    scenario_km: float
    agrees: bool

    def to_json(self) -> dict[str, object]:
        return {
            "reported_closed_km": self.reported_km,
            "stretch": self.stretch,
            "from_km": self.from_km,
            "to_km": self.to_km,
            "scenario_closed_km": round(self.scenario_km, 1),
            "agrees": self.agrees,
            "note": (
                "agrees with the scenario"
                if self.agrees
                else f"report says {self.reported_km:g} km closed on {self.stretch} "
                f"(km {self.from_km:g}–{self.to_km:g}); the scenario has "
                f"{self.scenario_km:.1f} km built there: check the report or update the scenario"
            ),
        }


def check_claim(
    claim: Claim, scenario: Scenario, tolerance_km: float = 5.0, tolerance_share: float = 0.1
) -> BorderCheck | None:
    """The check of one fortification claim, or None when it states no closed length."""
    if claim.event_type != "fortification":
        return None
    body = claim.document.body
    kms = [q for q in claim.quantities if q.unit == "km" and q.value >= 1.0]
    if not kms:
        return None
    reported = total = None
    # "another 25 km …, bringing the barrier to about 100 km": the running total is the state.
    running = [
        q for q in kms if _RUNNING_TOTAL.search(body[max(0, q.span.start - 20) : q.span.start])
    ]
    if running:
        kms = running + [q for q in kms if q not in running]
    for q in kms:
        before = body[max(0, q.span.start - 12) : q.span.start]
        if _OF_TOTAL.search(before) and reported is not None:
            total = q.value
        elif reported is None:
            sentence = next((s for s in claim.spans if s.contains(q.span)), claim.span)
            if _CLOSED.search(sentence.text(body)):
                reported = q.value
    if reported is None:
        return None
    stretch = _stretch(claim, scenario, total)
    if stretch is None:
        return None
    name, lo, hi = stretch
    built = covered_km(
        ((b.from_km, b.to_km) for b in scenario.spec.barriers if b.status is BarrierStatus.BUILT),
        lo,
        hi,
    )
    agrees = abs(built - reported) <= max(tolerance_km, tolerance_share * reported)
    return BorderCheck(reported, name, lo, hi, built, agrees)


def _stretch(
    claim: Claim, scenario: Scenario, total_km: float | None
) -> tuple[str, float, float] | None:
    spec = scenario.spec
    candidates = [(s.name, s.from_km, s.to_km) for s in spec.stretches] + [
        (s.name, s.from_km, s.to_km) for s in spec.sectors
    ]
    sector_names = {p.sector for p in claim.places if p.sector}
    sector_names |= {a.actor for a in claim.actors if any(s.name == a.actor for s in spec.sectors)}
    chains = [p.chainage_km for p in claim.places if p.chainage_km is not None]
    if total_km is not None:
        fits = [c for c in candidates if abs((c[2] - c[1]) - total_km) <= 0.1 * total_km]
        touching = [
            c
            for c in fits
            if any(c[1] <= k <= c[2] for k in chains)
            or any(s.name in sector_names and c[1] <= s.from_km < c[2] for s in spec.sectors)
        ]
        if touching or fits:
            return (touching or fits)[0]
    for s in spec.sectors:
        if s.name in sector_names:
            return s.name, s.from_km, s.to_km
    return None

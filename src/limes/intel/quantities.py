"""Quantities in a text with their units normalised: lengths in km, people and things counted.

"five or six kilometres" is one quantity 5–6 km; "ten feet" is 0.003 km; "20,000 IS fighters"
is 20,000 fighters (up to two words may stand between a number and its unit). Units are the
vocabulary of `UNITS`; the value is the low end of a range, `max` its high end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from limes.intel.text import Span

_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100, "a dozen": 12, "dozen": 12,
    "a thousand": 1000,
}  # fmt: skip
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9}

# Unit word → (normalised unit, factor to it).
UNITS: dict[str, tuple[str, float]] = {
    "km": ("km", 1.0), "kms": ("km", 1.0), "kilometre": ("km", 1.0), "kilometres": ("km", 1.0),
    "kilometer": ("km", 1.0), "kilometers": ("km", 1.0),
    "mile": ("km", 1.609344), "miles": ("km", 1.609344),
    "m": ("km", 0.001), "metre": ("km", 0.001), "metres": ("km", 0.001),
    "meter": ("km", 0.001), "meters": ("km", 0.001),
    "foot": ("km", 0.0003048), "feet": ("km", 0.0003048), "ft": ("km", 0.0003048),
    "fighters": ("fighters", 1.0), "fighter": ("fighters", 1.0), "militants": ("fighters", 1.0),
    "jihadists": ("fighters", 1.0), "gunmen": ("fighters", 1.0), "insurgents": ("fighters", 1.0),
    "members": ("fighters", 1.0),
    "families": ("families", 1.0), "family": ("families", 1.0),
    "people": ("people", 1.0), "persons": ("people", 1.0), "civilians": ("people", 1.0),
    "refugees": ("people", 1.0), "individuals": ("people", 1.0), "migrants": ("people", 1.0),
    "suspects": ("people", 1.0), "smugglers": ("people", 1.0), "women": ("people", 1.0),
    "children": ("people", 1.0), "men": ("people", 1.0), "detainees": ("people", 1.0),
    "citizens": ("people", 1.0), "residents": ("people", 1.0), "returnees": ("people", 1.0),
    "villagers": ("people", 1.0), "nationals": ("people", 1.0), "prisoners": ("people", 1.0),
    "infiltrators": ("people", 1.0),
    "soldiers": ("troops", 1.0), "troops": ("troops", 1.0), "personnel": ("troops", 1.0),
    "vehicles": ("vehicles", 1.0), "vehicle": ("vehicles", 1.0), "trucks": ("vehicles", 1.0),
    "pickups": ("vehicles", 1.0), "cars": ("vehicles", 1.0), "lorries": ("vehicles", 1.0),
    "pills": ("pills", 1.0), "tablets": ("pills", 1.0),
    "kg": ("kg", 1.0), "kilograms": ("kg", 1.0), "kilos": ("kg", 1.0),
    "tonnes": ("kg", 1000.0), "tons": ("kg", 1000.0),
    "rifles": ("weapons", 1.0), "weapons": ("weapons", 1.0), "rockets": ("weapons", 1.0),
    "guns": ("weapons", 1.0), "mortars": ("weapons", 1.0),
    "towers": ("towers", 1.0), "watchtowers": ("towers", 1.0), "cameras": ("cameras", 1.0),
}  # fmt: skip

_NUM_WORD = "|".join(sorted(_WORDS, key=len, reverse=True))
_NUMBER = rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?|{_NUM_WORD})(?: (?:thousand|million))?"
_UNIT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_FILLER = r"(?:[A-Za-z][\w'’-]*\s+){0,2}?"
_QUANTITY = re.compile(
    rf"(?<![\w.,])(?P<lo>{_NUMBER})(?:\s*(?:-|–|to|or|and)\s*(?P<hi>{_NUMBER}))?"
    rf"(?:[\s-]+|(?<=\d)(?=[a-z]))(?P<fill>{_FILLER})(?P<unit>{_UNIT})(?![\w-])",
    re.I,
)
_NOT_FILLER = re.compile(r"\b(of|the|and|or|to|from|in|at|by|per|than|were|was|had|have)\b", re.I)


@dataclass(frozen=True)
class Quantity:
    """A number (or range) with its unit, normalised."""

    value: float
    max: float | None
    unit: str
    span: Span
    text: str

    def to_json(self) -> dict[str, object]:
        return {
            "value": _round(self.value),
            "max": None if self.max is None else _round(self.max),
            "unit": self.unit,
            "text": self.text,
            "span": [self.span.start, self.span.end],
        }


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def parse_number(text: str) -> float:
    """A number written in digits or words ("20,000", "five", "two thousand")."""
    t = text.lower().strip()
    scale = 1.0
    for word, factor in _SCALE.items():
        if t.endswith(" " + word):
            scale, t = factor, t[: -len(word) - 1]
    if t in _WORDS:
        return _WORDS[t] * scale
    return float(t.replace(",", "")) * scale


def find_quantities(body: str) -> list[Quantity]:
    """Every number-with-unit in the body, in order."""
    out: list[Quantity] = []
    pos = 0
    while (m := _QUANTITY.search(body, pos)) is not None:
        # A rejected match may hide a good one inside it ("Patrol 7 intercepted three
        # vehicles"): search again just after its first number.
        pos = m.end("lo")
        fill = m.group("fill") or ""
        if fill and (
            _NOT_FILLER.search(fill)
            or any(w.lower() in _WORDS or any(c.isdigit() for c in w) for w in fill.split())
        ):
            continue
        unit_word = m.group("unit")
        if unit_word == "m" and fill:  # "5 IS m…" is not metres
            continue
        unit, factor = UNITS[unit_word.lower()] if unit_word.lower() in UNITS else UNITS[unit_word]
        lo = parse_number(m.group("lo")) * factor
        hi = parse_number(m.group("hi")) * factor if m.group("hi") else None
        out.append(Quantity(lo, hi, unit, Span(m.start(), m.end()), m.group(0)))
        pos = m.end()
    return out

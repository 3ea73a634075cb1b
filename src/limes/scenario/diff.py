"""What differs between two scenarios of a border: the inputs a comparison is about.

Lists of named things (sensors, barriers, units, sensor models, sectors, roads, places,
stretches, threats, controllers) are matched by their id or name: each is added, removed or
changed (with the fields that changed, old and new). Single sections (strip, terrain,
movement, response, rules, border) are compared field by field. The order is the file's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from limes.scenario.model import Scenario

# (section, key field) of every list the format holds, in file order.
LISTS: tuple[tuple[str, str], ...] = (
    ("controllers", "name"),
    ("sectors", "name"),
    ("stretches", "name"),
    ("barriers", "id"),
    ("sensor_models", "name"),
    ("sensors", "id"),
    ("units", "id"),
    ("roads", "name"),
    ("places", "name"),
    ("threats", "name"),
)
SECTIONS: tuple[str, ...] = ("border", "strip", "frame", "terrain", "movement", "response", "rules")


@dataclass(frozen=True)
class InputChange:
    """One difference: `kind` is the section (`sensors`, …), `name` the id, `change` one of
    added / removed / changed; `fields` maps a dotted field path to (base value, other value)."""

    kind: str
    name: str
    change: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        """One line a reader takes in at a glance."""
        what = f"{self.kind.rstrip('s').replace('_', ' ')} {self.name}"
        if self.change != "changed":
            return f"{what} {self.change}"
        parts = [f"{k} {_short(a)} → {_short(b)}" for k, (a, b) in list(self.fields.items())[:4]]
        more = f" (+{len(self.fields) - 4} more)" if len(self.fields) > 4 else ""
        return f"{what} changed: " + "; ".join(parts) + more


def _short(v: Any, limit: int = 40) -> str:
    text = "—" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A model or dict as dotted paths to leaf values (lists of numbers stay whole)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def field_changes(a: Any, b: Any) -> dict[str, tuple[Any, Any]]:
    """The dotted fields whose values differ between two records."""
    fa, fb = _flat(a), _flat(b)
    return {k: (fa.get(k), fb.get(k)) for k in dict.fromkeys([*fa, *fb]) if fa.get(k) != fb.get(k)}


def scenario_diff(base: Scenario, other: Scenario) -> list[InputChange]:
    """Every input difference from `base` to `other`, section by section in file order."""
    out: list[InputChange] = []
    for section in SECTIONS:
        changed = field_changes(getattr(base.spec, section), getattr(other.spec, section))
        if changed:
            out.append(InputChange(section, section, "changed", changed))
    for section, key in LISTS:
        a = {getattr(x, key): x for x in getattr(base.spec, section)}
        b = {getattr(x, key): x for x in getattr(other.spec, section)}
        for name in dict.fromkeys([*a, *b]):
            if name not in b:
                out.append(InputChange(section, str(name), "removed"))
            elif name not in a:
                out.append(InputChange(section, str(name), "added"))
            else:
                changed = field_changes(a[name], b[name])
                if changed:
                    out.append(InputChange(section, str(name), "changed", changed))
    return out

"""The source register: which outlet a text came from and how reliable that outlet is.

Admiralty source reliability is a property of the source, graded A (completely reliable) to
F (cannot be judged); it is assessed apart from the credibility of any one piece of
information (see `corroboration`). An outlet not in the register is F.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from limes.intel.errors import IntelError

RELIABILITY = ("A", "B", "C", "D", "E", "F")
UNKNOWN = "F"


@dataclass(frozen=True)
class Outlet:
    """One register entry."""

    name: str
    aliases: tuple[str, ...]
    kind: str
    reliability: str


@dataclass(frozen=True)
class SourceRegister:
    """Outlets by every name they go by (case-insensitive)."""

    outlets: tuple[Outlet, ...]

    def _by_key(self) -> dict[str, Outlet]:
        keys: dict[str, Outlet] = {}
        for o in self.outlets:
            for k in (o.name, *o.aliases):
                keys[k.casefold()] = o
        return keys

    def lookup(self, name: str | None) -> Outlet | None:
        """The outlet a name, alias or domain (or a sub-domain of one) stands for."""
        if not name:
            return None
        keys = self._by_key()
        key = name.strip().casefold()
        if key in keys:
            return keys[key]
        host = key.split("@")[-1]
        parts = host.split(".")
        for i in range(len(parts) - 1):
            if ".".join(parts[i:]) in keys:
                return keys[".".join(parts[i:])]
        return None

    def find_in(self, line: str) -> Outlet | None:
        """The outlet whose name appears in a line (a dateline, a credit), longest name first."""
        for o in sorted(self.outlets, key=lambda o: -len(o.name)):
            for k in (o.name, *o.aliases):
                if len(k) > 3 and re.search(rf"(?<!\w){re.escape(k)}(?!\w)", line, re.I):
                    return o
        return None

    def reliability(self, name: str | None) -> str:
        """The outlet's Admiralty reliability letter, F when unknown."""
        o = self.lookup(name)
        return o.reliability if o else UNKNOWN


def load_register(path: Path | None = None) -> SourceRegister:
    """Read a register file (the shipped demonstration register when no path is given)."""
    where = str(path) if path else "the shipped source register"
    try:
        text = (
            path.read_text(encoding="utf-8")
            if path
            else resources.files("limes.intel").joinpath("data/sources.yaml").read_text("utf-8")
        )
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise IntelError(f"{where}: not YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise IntelError(f"{where}: needs a top-level 'sources' list")
    outlets = []
    for i, row in enumerate(data["sources"]):
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            raise IntelError(f"{where}: sources[{i}] needs a 'name'")
        grade = str(row.get("reliability", UNKNOWN)).upper()
        if grade not in RELIABILITY:
            raise IntelError(f"{where}: sources[{i}].reliability is {grade!r}; expected one of A–F")
        aliases = row.get("aliases") or []
        if not isinstance(aliases, list):
            raise IntelError(f"{where}: sources[{i}].aliases must be a list")
        outlets.append(
            Outlet(row["name"], tuple(str(a) for a in aliases), str(row.get("kind", "")), grade)
        )
    return SourceRegister(tuple(outlets))

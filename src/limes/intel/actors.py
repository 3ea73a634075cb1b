"""Actors named in a text, each under one canonical id whatever alias the press used.

IS / ISIS / ISIL / Daesh are one actor; so are PMF / Hashed al-Shaabi / Popular Mobilization
Forces. The alias table is data (`data/actors.yaml`); acronyms match case-sensitively so that
"is" and "sdf" in running text are not actors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

import yaml

from limes.intel.text import Span


@dataclass(frozen=True)
class ActorMention:
    """An actor named in the body: canonical id and where."""

    actor: str
    span: Span
    text: str

    def to_json(self) -> dict[str, object]:
        return {"actor": self.actor, "text": self.text, "span": [self.span.start, self.span.end]}


@dataclass(frozen=True)
class ActorTable:
    """Alias → canonical id, compiled into two matchers (case-sensitive and not)."""

    by_alias: dict[str, str]
    by_alias_nocase: dict[str, str]

    @staticmethod
    def _compile(names: list[str], flags: int) -> re.Pattern[str] | None:
        if not names:
            return None
        alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", flags)

    @cached_property
    def _sensitive(self) -> re.Pattern[str] | None:
        return self._compile(list(self.by_alias), 0)

    @cached_property
    def _insensitive(self) -> re.Pattern[str] | None:
        return self._compile(list(self.by_alias_nocase), re.I)

    def find(self, body: str) -> list[ActorMention]:
        """Every actor mention, in order, the longer alias winning where two overlap."""
        found: list[ActorMention] = []
        taken = [False] * len(body)
        text = body.replace("’", "'")
        for pattern, table, fold in (
            (self._sensitive, self.by_alias, False),
            (self._insensitive, self.by_alias_nocase, True),
        ):
            if pattern is None:
                continue
            for m in pattern.finditer(text):
                if any(taken[m.start() : m.end()]):
                    continue
                key = m.group(0).lower() if fold else m.group(0)
                for i in range(m.start(), m.end()):
                    taken[i] = True
                found.append(
                    ActorMention(table[key], Span(m.start(), m.end()), body[m.start() : m.end()])
                )
        found.sort(key=lambda a: a.span.start)
        return found


@cache
def actor_table() -> ActorTable:
    """The shipped alias table."""
    text = resources.files("limes.intel").joinpath("data/actors.yaml").read_text("utf-8")
    rows = yaml.safe_load(text)["actors"]
    by_alias: dict[str, str] = {}
    nocase: dict[str, str] = {}
    for row in rows:
        for name in row.get("names", []):
            by_alias[str(name)] = str(row["id"])
        for name in row.get("names_nocase", []):
            nocase[str(name).lower()] = str(row["id"])
    return ActorTable(by_alias, nocase)

"""Scenario errors: every problem names the file, the field path, the line, the value and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from limes.errors import LimesError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario."""

    path: str
    reason: str
    value: Any = None
    line: int | None = None
    file: str | None = None
    #: "error" (the scenario cannot be used) or "warning" (it can, but something looks wrong).
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        shown = "" if self.value is None else f" (got {_short(self.value)})"
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}: {tag}{self.path or '<root>'}: {self.reason}{shown}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ScenarioError(LimesError):
    """A scenario that cannot be used, with every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """One line per problem, for a terminal."""
        head = f"scenario rejected: {len(self.problems)} problem(s)"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])

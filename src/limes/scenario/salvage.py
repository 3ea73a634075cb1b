"""Every problem of a scenario at once: schema problems, and the cross-field ones behind them.

The schema (`ScenarioSpec`) must pass before the checks that need geometry (overlapping sectors,
unknown controllers, positions off the strip) can run. So that a user sees all of them in one
go, the schema's problems are explained (a misspelt key gets a did-you-mean), and then a copy of
the data is *salvaged*: a misspelt key takes the name it was likely meant to have, any other
unknown key is dropped, and a list item with a bad value is left out. The checks run on what
remains; problems of a list that lost an item, or naming an item left out, are not reported
(they may only follow from the leaving-out) and come back once the schema's problems are fixed.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from limes.scenario.errors import Problem
from limes.scenario.schema import ScenarioSpec

Loc = tuple[str | int, ...]

#: Rounds of salvaging (each can reveal problems the previous one hid).
ROUNDS = 5


def _strip(annotation: Any) -> Any:
    """The type inside Annotated[...] and Optional[...] (the first non-None member)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip(typing.get_args(annotation)[0])
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
        return _strip((models or members)[0])
    return annotation


def _step(annotation: Any, part: str | int) -> Any:
    """The type one step down `annotation`: a field of a model, an item of a list or a dict."""
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return typing.get_args(annotation)[0]
    if origin is dict:
        return typing.get_args(annotation)[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
        info = annotation.model_fields.get(part)
        return None if info is None else info.annotation
    return None


def fields_at(loc: Loc, root: type[BaseModel] = ScenarioSpec) -> list[str]:
    """The field names a mapping at `loc` may hold (empty when it is not a known record)."""
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model = _strip(annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def did_you_mean(key: str, loc: Loc) -> str | None:
    """The field at `loc` a misspelt `key` most likely meant, or None."""
    close = difflib.get_close_matches(key, fields_at(loc), n=1, cutoff=0.6)
    return close[0] if close else None


def explain(err: Any) -> tuple[Loc, str, Any]:
    """(location, reason, value) of one pydantic error, with a did-you-mean for unknown keys."""
    loc = tuple(err.get("loc", ()))
    loc = tuple(p for p in loc if isinstance(p, int) or not str(p).startswith("function-"))
    reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    value = None if err.get("type") == "missing" else err.get("input")
    if err.get("type") == "extra_forbidden" and loc and isinstance(loc[-1], str):
        guess = did_you_mean(loc[-1], loc[:-1])
        reason = f"{reason}: did you mean {guess!r}?" if guess else f"{reason} (unknown field)"
        value = None
    return loc, reason, value


def schema_problems(errors: list[Any]) -> list[tuple[Loc, str, Any]]:
    """The schema's problems explained; a required field reported missing is left out when a
    misspelt key beside it was likely meant to be it (its did-you-mean says so)."""
    explained = [(explain(e), e.get("type")) for e in errors]
    meant = {
        (*loc[:-1], guess)
        for (loc, _, _), kind in explained
        if kind == "extra_forbidden" and loc and (guess := did_you_mean(str(loc[-1]), loc[:-1]))
    }
    return [p for p, kind in explained if not (kind == "missing" and p[0] in meant)]


def _parent(data: Any, loc: Loc) -> Any:
    node = data
    for part in loc[:-1]:
        node = node[part]
    return node


def salvage(data: dict[str, Any]) -> tuple[ScenarioSpec | None, dict[str, set[int]], set[str]]:
    """A spec made valid by leaving out what the schema refuses, if one can be made.

    Returns the spec (None when even the salvaged data fails), the indices left out of each
    top-level list (by the list's name), and the names and ids of the items left out.
    """
    work = copy.deepcopy(data)
    dropped: dict[str, set[int]] = {}
    names: set[str] = set()
    kept: dict[str, list[int]] = {
        k: list(range(len(v))) for k, v in work.items() if isinstance(v, list)
    }
    for _ in range(ROUNDS):
        try:
            return ScenarioSpec.model_validate(work), dropped, names
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        removals: dict[str, set[int]] = {}
        # Renames first: a misspelt key may be what a "missing field" error misses.
        errors.sort(key=lambda e: e.get("type") != "extra_forbidden")
        for err in errors:
            loc, _, _ = explain(err)
            if not loc:
                return None, dropped, names
            try:
                parent = _parent(work, loc)
            except (KeyError, IndexError, TypeError):
                return None, dropped, names
            if err.get("type") == "extra_forbidden" and isinstance(parent, dict):
                value = parent.pop(loc[-1], None)
                guess = did_you_mean(str(loc[-1]), loc[:-1])
                if guess is not None and guess not in parent:
                    parent[guess] = value
            elif err.get("type") == "missing" and isinstance(parent, dict) and loc[-1] in parent:
                continue  # supplied by a rename above
            elif len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
                removals.setdefault(loc[0], set()).add(loc[1])
            else:
                return None, dropped, names  # a top-level field the spec cannot do without
        for section, indices in removals.items():
            items = work[section]
            for i in sorted(indices, reverse=True):
                item = items.pop(i)
                if isinstance(item, dict):
                    names.update(str(item[k]) for k in ("name", "id") if k in item)
                dropped.setdefault(section, set()).add(kept[section].pop(i))
    return None, dropped, names


_INDEX = re.compile(r"^(\w+)\[(\d+)\]")


def relevant(
    problems: list[Problem], dropped: dict[str, set[int]], names: set[str], data: dict[str, Any]
) -> list[Problem]:
    """The salvaged scenario's problems that stand on their own, with the original indices."""
    kept = {
        k: [i for i in range(len(v)) if i not in dropped.get(k, set())]
        for k, v in data.items()
        if isinstance(v, list)
    }
    out = []
    for p in problems:
        section = re.split(r"[.\[]", p.path, maxsplit=1)[0]
        if section in dropped:
            continue
        if any(repr(n) in p.reason or f"{n!r}" == repr(p.value) for n in names):
            continue
        if p.value is not None and str(p.value) in names:
            continue
        found = _INDEX.match(p.path)
        if found and found.group(1) in kept:
            original = kept[found.group(1)][int(found.group(2))]
            p = Problem(
                f"{found.group(1)}[{original}]{p.path[found.end():]}", p.reason, p.value,
                p.line, p.file, p.severity,
            )  # fmt: skip
        out.append(p)
    return out


def by_line(problems: list[Problem]) -> list[Problem]:
    """Problems in the order of the file (those without a line last, in their own order)."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))

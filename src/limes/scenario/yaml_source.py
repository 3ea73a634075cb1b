"""Reading YAML while remembering where each field was written, for errors that name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from limes.scenario.errors import Problem, ScenarioError

Key = str | int

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlSource:
    """A parsed YAML document and a map from field path to the line it starts on (1-based)."""

    def __init__(self, text: str, file: str | None = None) -> None:
        self.file = file
        self.lines: dict[tuple[Key, ...], int] = {}
        # Parse once (libyaml when present): the node tree gives the lines, then the data.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            self.data: Any = loader.construct_document(node) if node is not None else None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise YamlSyntaxError(_reason(exc), file, line) from None
        finally:
            loader.dispose()
        if node is not None:
            self._index(node, ())

    @classmethod
    def from_path(cls, path: Path) -> YamlSource:
        """Read and parse a YAML file."""
        return cls(path.read_text(encoding="utf-8"), str(path))

    def _index(self, node: yaml.Node, path: tuple[Key, ...]) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Key, int] = {}
            for key, value in node.value:
                k = key.value if isinstance(key, yaml.ScalarNode) else str(key)
                line = key.start_mark.line + 1
                if k in seen:
                    # PyYAML keeps the last silently; a repeated field is almost always a slip.
                    raise YamlSyntaxError(
                        f"duplicate key {k!r} (first on line {seen[k]})", self.file, line
                    )
                seen[k] = line
                self._index(value, (*path, k))
                # A field's line is its key's, not where its value starts.
                self.lines[(*path, k)] = line
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, (*path, i))

    def line_of(self, path: tuple[Key, ...]) -> int | None:
        """The line of the deepest known part of a field path."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line is not None:
                return line
        return None


class YamlSyntaxError(ScenarioError):
    """The file is not valid YAML (one problem, at the line the parser stopped)."""

    def __init__(self, reason: str, file: str | None, line: int | None) -> None:
        self.reason, self.file, self.line = reason, file, line
        super().__init__([Problem("", f"not valid YAML: {reason}", None, line, file)])


def _reason(exc: yaml.YAMLError) -> str:
    """PyYAML's complaint in one line: the problem, then what it was parsing and from where."""
    problem = getattr(exc, "problem", None)
    if not problem:
        return str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    mark = getattr(exc, "context_mark", None)
    if context and mark is not None:
        return f"{problem} ({context} started on line {mark.line + 1})"
    return f"{problem} ({context})" if context else str(problem)

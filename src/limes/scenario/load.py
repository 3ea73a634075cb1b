"""Loading a scenario by built-in name or from a YAML file, with errors that point at the line."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from limes.errors import GeoError
from limes.geo.border import BorderLine
from limes.geo.frame import Frame
from limes.scenario.checks import check_scenario
from limes.scenario.errors import Problem, ScenarioError
from limes.scenario.model import Scenario
from limes.scenario.salvage import by_line, relevant, salvage, schema_problems
from limes.scenario.schema import ScenarioSpec, Side
from limes.scenario.yaml_source import YamlSource, YamlSyntaxError

BUILTIN_PACKAGE = "limes.scenario.builtin"


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with limes."""
    root = resources.files(BUILTIN_PACKAGE)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "scenario.yaml").is_file())


def resolve_source(name_or_path: str | Path) -> Path:
    """The YAML file for a built-in name or a path; a clear error when it is neither."""
    path = Path(name_or_path)
    if path.is_dir() and (path / "scenario.yaml").is_file():
        return path / "scenario.yaml"
    if path.is_file():
        return path
    names = builtin_names()
    if str(name_or_path) in names:
        return Path(str(resources.files(BUILTIN_PACKAGE) / str(name_or_path) / "scenario.yaml"))
    raise ScenarioError(
        [
            Problem(
                "",
                f"no scenario file or built-in scenario of that name "
                f"(built-in: {', '.join(names) or 'none'})",
                str(name_or_path),
            )
        ]
    )


def load_scenario(name_or_path: str | Path, *, check: bool = True) -> Scenario:
    """Load, validate and place a scenario; raises ScenarioError listing every problem."""
    path = resolve_source(name_or_path)
    try:
        src = YamlSource.from_path(path)
    except YamlSyntaxError as exc:
        problem = Problem("", f"not valid YAML: {exc.reason}", None, exc.line, exc.file)
        raise ScenarioError([problem]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem("", f"cannot read the file: {exc}", file=str(path))]) from None
    return scenario_from_data(src.data, base_dir=path.parent, source=src, check=check)


def scenario_from_data(
    data: Any,
    *,
    base_dir: Path | None = None,
    source: YamlSource | None = None,
    check: bool = True,
) -> Scenario:
    """Build a scenario from already-parsed data (a dict as YAML or JSON would give)."""
    file = source.file if source else None

    def locate(path: tuple[str | int, ...]) -> int | None:
        return source.line_of(path) if source else None

    if not isinstance(data, dict):
        raise ScenarioError([Problem("", "a scenario must be a mapping of fields", data, 1, file)])
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        schema = [
            Problem(_path_text(loc), reason, value, locate(loc), file)
            for loc, reason, value in schema_problems(exc.errors(include_url=False))
        ]
        behind = _problems_behind(data, base_dir, check)
        raise ScenarioError(
            by_line(schema + [_with_source(p, locate, file) for p in behind])
        ) from None
    try:
        sc = place(spec, base_dir)
    except ScenarioError as exc:
        raise ScenarioError([_with_source(p, locate, file) for p in exc.problems]) from None
    sc.source = file
    if check:
        problems = check_scenario(sc)
        if problems:
            raise ScenarioError(by_line([_with_source(p, locate, file) for p in problems]))
    return sc


def _problems_behind(data: dict[str, Any], base_dir: Path | None, check: bool) -> list[Problem]:
    """The cross-field problems of what the schema accepts (see `limes.scenario.salvage`)."""
    spec, dropped, names = salvage(data)
    if spec is None:
        return []
    try:
        sc = place(spec, base_dir)
    except ScenarioError as exc:
        return relevant(exc.problems, dropped, names, data)
    return relevant(check_scenario(sc), dropped, names, data) if check else []


def place(spec: ScenarioSpec, base_dir: Path | None = None) -> Scenario:
    """Put a validated spec into its frame: project the line, build the border geometry."""
    lonlat = _border_vertices(spec, base_dir)
    if spec.frame.crs:
        try:
            frame = Frame.from_user_input(spec.frame.crs)
        except GeoError as exc:
            problem = Problem("frame.crs", f"not a usable CRS: {exc}", spec.frame.crs)
            raise ScenarioError([problem]) from None
    else:
        lo = lonlat.min(axis=0)
        hi = lonlat.max(axis=0)
        frame = Frame.transverse_mercator(*(lo + hi) / 2)
    x, y = frame.to_xy(lonlat[:, 0], lonlat[:, 1])
    try:
        border = BorderLine(np.column_stack([x, y]), inside_left=spec.border.inside is Side.LEFT)
    except ValueError as exc:
        raise ScenarioError([Problem("border.line", str(exc))]) from None
    return Scenario(spec=spec, frame=frame, border=border, base_dir=base_dir)


def _border_vertices(spec: ScenarioSpec, base_dir: Path | None) -> np.ndarray:
    if spec.border.line is not None:
        return np.asarray(spec.border.line, dtype=float)
    assert spec.border.line_file is not None
    path = (base_dir or Path.cwd()) / spec.border.line_file
    where = "border.line_file"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problem = Problem(where, f"cannot read {path}: {exc.strerror}", str(path))
        raise ScenarioError([problem]) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            [Problem(where, f"{path} is not JSON (line {exc.lineno}: {exc.msg})", str(path))]
        ) from None
    coords = _first_linestring(doc)
    if coords is None:
        raise ScenarioError([Problem(where, f"{path} holds no LineString", str(path))])
    arr = np.asarray(coords, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < 2 or len(arr) < 2 or not np.isfinite(arr).all():
        raise ScenarioError([Problem(where, f"{path}: the LineString needs ≥ 2 lon/lat vertices")])
    return arr[:, :2]


def _first_linestring(doc: Any) -> list[Any] | None:
    if not isinstance(doc, dict):
        return None
    kind = doc.get("type")
    if kind == "LineString":
        coords = doc.get("coordinates")
        return coords if isinstance(coords, list) else None
    if kind == "Feature":
        return _first_linestring(doc.get("geometry"))
    if kind == "FeatureCollection":
        for feat in doc.get("features") or []:
            found = _first_linestring(feat)
            if found is not None:
                return found
    return None


def _with_source(p: Problem, locate: Any, file: str | None) -> Problem:
    return Problem(p.path, p.reason, p.value, p.line or locate(_path_tuple(p.path)), p.file or file)


def _path_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _path_tuple(path: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for chunk in path.replace("]", "").split("."):
        if not chunk:
            continue
        name, *idx = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in idx)
    return tuple(parts)

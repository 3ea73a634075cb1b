"""The layout's import rules, held as data and checked over every module of src/limes.

Dependencies point one way (README, "Layout"; docs/architecture.md): a package may import the
packages of the layers below its own, never those above, and within its own layer only where
`SIDEWAYS` says so. Every import counts: at module level, inside functions, under
`TYPE_CHECKING`. A top-level package that no layer names fails too, so a new package is placed
before it lands.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "limes"

#: Lowest first. A package may import any package of a lower layer.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "lazy"}),  # the root of every error; lazy package names. Imported by all
    frozenset({"clock", "geo", "model_options"}),  # the exercise clock, frames, option plumbing
    frozenset({"scenario"}),
    frozenset({"sensing"}),
    frozenset({"analysis", "sim", "ops", "intel"}),
    frozenset({"store", "share"}),
    frozenset({"api", "web"}),
    frozenset({"service", "federation"}),
    # The application layer: the simulator with a live system.
    frozenset({"exercise", "demo", "demo_sites"}),
    frozenset({"cli"}),  # imported by nothing
)

#: Imports allowed within one layer (importer, imported); every other sideways import is not.
#: So `sim` and `ops` never know each other (the simulator reaches the live system only
#: through the inputs a real sensor uses), and `analysis` knows none of its neighbours.
SIDEWAYS: frozenset[tuple[str, str]] = frozenset({
    ("sim", "analysis"),  # the simulator reads the plan's outputs
    ("ops", "analysis"),  # alert severity from the plan's P(interruption)
    ("share", "store"),  # the release guard reads and audits through the store
    ("web", "api"),  # the map's routes use the API's auth and services
    ("service", "federation"),  # `limes serve --federation` runs its site of a federation
    ("demo", "exercise"),
    ("demo_sites", "demo"),  # `limes demo --sites` runs the demo's exercise across sites
    ("demo_sites", "exercise"),
})  # fmt: skip

#: Single modules a package may import although its layer rules forbid the package: the
#: seam where the simulator reads its own messages with the live system's JSON reader.
SEAMS: frozenset[tuple[str, str]] = frozenset({("sim", "limes.ops.ingest.json_format")})


@dataclass(frozen=True)
class Import:
    """One `import limes.…` found in a module of the tree."""

    path: Path
    line: int
    importer: str  # top-level package (or module) of the tree that imports
    module: str  # the full dotted name imported


def imports(root: Path) -> Iterator[Import]:
    """Every import of a `limes` module by another top-level package, over the tree at root."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        importer = rel.parts[0].removesuffix(".py")
        package = ["limes", *rel.parts[:-1]]  # what a relative import is relative to
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                # `from limes import sim` imports the package `limes.sim`.
                names = (
                    [f"{module}.{a.name}" for a in node.names] if module == "limes" else [module]
                )
            for name in names:
                parts = name.split(".")
                if parts[0] == "limes" and len(parts) > 1 and parts[1] != importer:
                    yield Import(path, node.lineno, importer, name)


def violations(
    root: Path,
    layers: Sequence[Collection[str]] = LAYERS,
    sideways: Collection[tuple[str, str]] = SIDEWAYS,
    seams: Collection[tuple[str, str]] = SEAMS,
) -> list[str]:
    """What breaks the rules in the tree at root, one line each (file:line: why)."""
    rank = {name: i for i, layer in enumerate(layers) for name in layer}
    found = []
    tops = {p.name.removesuffix(".py") for p in root.iterdir() if p.suffix == ".py" or p.is_dir()}
    tops -= {"__init__", "__pycache__"}
    for name in sorted(tops - set(rank)):
        found.append(f"{root / name}: top-level `{name}` is in no layer")
    for imp in imports(root):
        imported = imp.module.split(".")[1]
        where = f"{imp.path}:{imp.line}"
        if imp.importer == "__init__":
            found.append(f"{where}: the package root imports {imp.module}")
            continue
        if imp.importer not in rank or imported not in rank:
            continue  # reported above as a package in no layer
        if (imp.importer, imp.module) in seams or any(
            imp.importer == s and imp.module.startswith(m + ".") for s, m in seams
        ):
            continue
        a, b = rank[imp.importer], rank[imported]
        if b > a:
            found.append(f"{where}: {imp.importer} imports {imp.module}, a layer above it")
        elif b == a and (imp.importer, imported) not in sideways:
            found.append(f"{where}: {imp.importer} imports {imp.module}, beside it in its layer")
    return found


def test_src_limes_keeps_the_layout() -> None:
    assert violations(SRC) == []


def test_every_rule_names_a_package_of_some_layer() -> None:
    placed = {name for layer in LAYERS for name in layer}
    assert {name for pair in SIDEWAYS for name in pair} <= placed
    assert {importer for importer, _ in SEAMS} <= placed
    assert all(rank_a == rank_b for rank_a, rank_b in (
        (_rank(a), _rank(b)) for a, b in SIDEWAYS
    )), "a sideways pair must share a layer"  # fmt: skip


def _rank(name: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if name in layer)


# --- the checker itself, on trees made to break it -------------------------------------------


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "limes" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "limes"


CLEAN = {
    "__init__.py": '"""root"""\n',
    "geo/__init__.py": "",
    "geo/frame.py": "import numpy\n",
    "scenario/__init__.py": "",
    "scenario/model.py": "from limes.geo.frame import x\n",
    "sim/__init__.py": "",
    "sim/run.py": "from limes.scenario import model\nfrom limes.analysis.result import A\n",
    "analysis/__init__.py": "",
    "analysis/result.py": "from . import helpers\nfrom ..geo import frame\n",
    "ops/__init__.py": "",
    "ops/ingest/json_format.py": "",
    "cli.py": "from limes.sim.run import simulate\n",
}


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    assert violations(tree(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(
    ("path", "text", "why"),
    [
        ("geo/grid.py", "from limes.scenario.model import Scenario\n", "a layer above it"),
        ("sim/door.py", "def f():\n    from limes.ops.pipeline import P\n", "beside it"),
        ("sim/typed.py", "if TYPE_CHECKING:\n    import limes.service.run\n", "a layer above"),
        ("ops/mount.py", "from limes import web\n", "a layer above it"),
        ("analysis/plan.py", "from limes.ops import alert\n", "beside it"),
        ("analysis/store.py", "from ..store import database\n", "a layer above it"),
        ("service/run.py", "from limes.cli import app\n", "a layer above it"),
        ("newthing/x.py", "", "in no layer"),
        ("__init__.py", "from limes.geo import frame\n", "the package root imports"),
    ],
)
def test_a_tree_that_breaks_a_rule_fails(tmp_path: Path, path: str, text: str, why: str) -> None:
    root = tree(tmp_path, {**CLEAN, path: text})
    found = violations(root)
    assert len(found) == 1 and why in found[0], found
    assert path.split("/")[0].removesuffix(".py") in found[0] or "__init__" in found[0]


def test_the_json_reader_seam_is_the_only_way_from_sim_to_ops(tmp_path: Path) -> None:
    seam = {"sim/senders.py": "from limes.ops.ingest.json_format import parse_json_message\n"}
    assert violations(tree(tmp_path, {**CLEAN, **seam})) == []
    beyond = {"sim/senders.py": "from limes.ops.ingest.context import IngestContext\n"}
    (found,) = violations(tree(tmp_path, {**CLEAN, **beyond}))
    assert "sim imports limes.ops.ingest.context" in found

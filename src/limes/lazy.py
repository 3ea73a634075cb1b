"""Packages whose public names load on first use, so `limes --help` does not import them all.

`lazy_names(__name__, {"assess": "limes.analysis.assess", …})` at the bottom of a package's
`__init__` makes `from limes.analysis import assess` import `limes.analysis.assess` only then.
Where a public function shares its name with a submodule (`analysis.assess`, `store.migrate`),
the import system would bind the submodule to that name the moment anything imports it, and
`from limes.analysis import assess` would then give the module: the package refuses that
binding, so the name always means the function; the submodule stays in `sys.modules` and
`from limes.analysis.assess import AssessConfig` works as ever. (So `import
limes.analysis.assess as m` would give the function: write `from limes.analysis import assess
as m` style imports of such modules as `from limes.analysis.assess import …`.)
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import Any


def lazy_names(package: str, where: dict[str, str]) -> None:
    """Serve `where`'s names (name → module) from `package` on first use."""

    class LazyPackage(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            if name in where:
                return getattr(import_module(where[name]), name)
            raise AttributeError(f"module {package!r} has no attribute {name!r}")

        def __setattr__(self, name: str, value: Any) -> None:
            shadowing = (
                name in where
                and isinstance(value, types.ModuleType)
                and value.__name__ == f"{package}.{name}"
            )
            if not shadowing:
                super().__setattr__(name, value)

    sys.modules[package].__class__ = LazyPackage

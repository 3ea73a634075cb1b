"""`python -m limes.service`: the same command as `limes serve`, for shells and supervisors.

An entry point, not a library module: it runs the `limes` command with `serve` in front of the
arguments, so both spellings have one set of options (those of `ServiceConfig`).
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Run `limes serve` with these arguments (default: the process's own)."""
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["python -m limes.service", "serve", *args]
    runpy.run_module("limes.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()

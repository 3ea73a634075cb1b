"""`python -m limes.service`: the same command as `limes serve`, for shells and supervisors."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Run `limes serve` with these arguments (default: the process's own)."""
    from limes.cli import app

    args = list(sys.argv[1:] if argv is None else argv)
    app(args=["serve", *args], prog_name="python -m limes.service")


if __name__ == "__main__":
    main()

"""Plan: line of sight, detection fields, response times, interruption, reports."""

# The names below are loaded on first use, so importing one light module of this package (or
# the package for one name) does not import all of it: `limes --help` stays fast.
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from limes.analysis.assess import AssessConfig, AssessError, assess

_WHERE = {
    "AssessConfig": "limes.analysis.assess",
    "AssessError": "limes.analysis.assess",
    "assess": "limes.analysis.assess",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AssessConfig", "AssessError", "assess"]

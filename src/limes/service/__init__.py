"""`limes serve`: inputs, pipeline, store writer, API and map in one process.

`serve(ServiceConfig(...))` runs it until SIGTERM/SIGINT; `Service` starts and stops the same
in process; `python -m limes.service --help` runs it from a shell.
"""

# The names below are loaded on first use, so importing one light module of this package (or
# the package for one name) does not import all of it: `limes --help` stays fast.
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from limes.errors import ServiceError
    from limes.service.config import ServiceConfig
    from limes.service.run import Service, serve

_WHERE = {
    "ServiceConfig": "limes.service.config",
    "ServiceError": "limes.errors",
    "Service": "limes.service.run",
    "serve": "limes.service.run",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Service", "ServiceConfig", "ServiceError", "serve"]

"""`limes serve`: inputs, pipeline, store writer, API and map in one process.

`serve(ServiceConfig(...))` runs it until SIGTERM/SIGINT; `Service` starts and stops the same
in process; `python -m limes.service --help` runs it from a shell.
"""

# The names below are loaded on first use, so importing one light module of this package (or
# the package for one name) does not import all of it: `limes --help` stays fast.
from typing import TYPE_CHECKING

from limes.lazy import lazy_names

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

lazy_names(__name__, _WHERE)


__all__ = ["Service", "ServiceConfig", "ServiceError", "serve"]

"""`limes serve`: inputs, pipeline, store writer, API and map in one process.

`serve(ServiceConfig(...))` runs it until SIGTERM/SIGINT; `Service` starts and stops the same
in process; `python -m limes.service --help` runs it from a shell.
"""

from limes.service.config import ServiceConfig, ServiceError
from limes.service.run import Service, serve

__all__ = ["Service", "ServiceConfig", "ServiceError", "serve"]

"""The federation's exception family."""

from __future__ import annotations

import nats.errors
from sqlalchemy.exc import OperationalError

from limes.errors import LimesError

#: What a link or a busy database raises and a retry can cure: the federation's loops retry
#: these; anything else is a bug and ends the loop with its traceback.
TRANSIENT: tuple[type[Exception], ...] = (
    nats.errors.Error,
    OSError,
    TimeoutError,
    OperationalError,
)


class FederationError(LimesError):
    """A deployment or link problem; the message says what and where."""

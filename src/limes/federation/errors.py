"""The federation's exception family."""

from __future__ import annotations

from limes.errors import LimesError


class FederationError(LimesError):
    """A deployment or link problem; the message says what and where."""

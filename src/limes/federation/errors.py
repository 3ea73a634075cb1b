"""The federation's exception family."""

from __future__ import annotations


class FederationError(Exception):
    """A deployment or link problem; the message says what and where."""

"""The store's exception family: one base, with the kinds the API maps to HTTP statuses."""

from __future__ import annotations

from limes.errors import LimesError


class StoreError(LimesError):
    """A store operation could not be done; the message says what and why."""


class NotFound(StoreError):
    """The thing asked for does not exist (HTTP 404)."""


class Conflict(StoreError):
    """The request clashes with the current state (HTTP 409)."""

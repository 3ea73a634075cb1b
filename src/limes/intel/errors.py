"""The intelligence layer's error family: bad input named with its file and what is wrong."""

from __future__ import annotations

from limes.errors import LimesError


class IntelError(LimesError):
    """A text, register or corpus that cannot be read; the message names the file and why."""

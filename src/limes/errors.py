"""The one root of limes's errors, and one family beneath it per layer.

A `LimesError` is something a person can fix from its message alone (a bad scenario, a file that
cannot be read, a port already taken): the message says what and where. The edges (the CLI, the
API) turn these into clear messages; anything else is a bug and keeps its traceback. This module
imports nothing, so every layer (and the CLI, before it imports any layer) can use it.

The scenario and store families live in their layers (`limes.scenario.errors.ScenarioError`,
`limes.store.errors.StoreError`) because they carry more than a message; they derive from
`LimesError` too.
"""

from __future__ import annotations


class LimesError(Exception):
    """An error a person can act on; its message says what is wrong and where."""

    def render(self) -> str:
        """The message for a terminal (one or more lines)."""
        return f"error: {self}"


class UsageError(LimesError):
    """A command asked for something impossible (options that exclude each other, a bad time)."""


class GeoError(LimesError):
    """Geodesy and terrain: a frame, a DEM or a line that cannot be used."""


class SensingError(LimesError):
    """Sensing models: bad input to line of sight, coverage or detection laws."""


class AnalysisError(LimesError):
    """Planning analysis (`limes assess`): an assessment that cannot run or be read."""


class OpsError(LimesError):
    """Operations: reports, tracks, alerts, incidents, dispatch and plan lookups."""


class SimError(LimesError):
    """The exercise simulator: a run that cannot go as asked, a door it cannot reach."""


class ServiceError(LimesError):
    """The live service: configuration, start-up (ports, database, scenario)."""


class WebError(LimesError):
    """The HTTP edge (API and map): settings, assessments served, the front end's build."""


class ShareError(LimesError):
    """Sharing: an unknown partner, an object that was never shared, a policy that cannot hold."""

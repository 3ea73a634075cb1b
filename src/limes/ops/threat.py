"""Sector threat levels from intelligence: the board alert severity reads.

Intelligence reports (filed by analysts, or shared in by partners) raise a sector's threat
level; `limes.share.threat` works the level out from the reports and sets it here. The rule
engine reads it for every alert (see `SeverityPolicy.threat_step`), so a crossing in a sector
where a cell is reported gathering is more urgent than the same crossing elsewhere.
Thread-safe: the API sets, the pipeline thread reads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from limes.ops.alert import Severity


class ThreatBoard:
    """The current threat level of each sector (absent: low) and the actors reported there."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._levels: dict[str, Severity] = {}
        self._actors: dict[str, frozenset[str]] = {}

    def level(self, sector: str) -> Severity:
        """The sector's threat level (low when nothing is reported)."""
        return self._levels.get(sector, Severity.LOW)

    def actors(self, sector: str) -> frozenset[str]:
        """Who the sector's current reports are about."""
        return self._actors.get(sector, frozenset())

    def replace(self, levels: Mapping[str, Severity], actors: Mapping[str, frozenset[str]]) -> None:
        """Set every sector's level and actors at once (sectors not named fall to low)."""
        with self._lock:
            self._levels = dict(levels)
            self._actors = dict(actors)

    def snapshot(self) -> dict[str, Severity]:
        """Every sector above low."""
        return dict(self._levels)

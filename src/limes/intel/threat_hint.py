"""The threat level a draft suggests to the analyst (who decides; the suggestion is a start).

Words are the EUROSUR impact levels the sharing reports use (low, medium, high, critical). An
attempt to cross or a strike at the line is high, critical when a second independent origin
confirms it and IS is named; weapons moving across, or a large fighter estimate, is medium;
the rest (works on the line, drugs, refugees, arrests) is low. A claim far from the border
(no sector) is low whatever it says: it does not bear on a sector's watch.
"""

from __future__ import annotations

from collections.abc import Sequence

_HIGH = frozenset({"infiltration", "strike"})
_MEDIUM = frozenset({"smuggling_weapons", "reinforcement"})
_LARGE_ESTIMATE_FIGHTERS = 1000.0


def suggested_threat(
    event_type: str,
    *,
    sector: str | None,
    independent_origins: int,
    actors: Sequence[str],
    fighters: float = 0.0,
) -> str:
    """low / medium / high / critical for one draft."""
    if sector is None:
        return "low"
    if event_type in _HIGH:
        return "critical" if independent_origins >= 2 and "IS" in actors else "high"
    if event_type in _MEDIUM:
        return "medium"
    if event_type == "threat_estimate" and fighters >= _LARGE_ESTIMATE_FIGHTERS:
        return "medium"
    return "low"

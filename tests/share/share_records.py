"""Small builders of shareable objects for the sharing tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from limes.scenario.sharing import ObjectKind, Tlp
from limes.share.shareable import Shareable

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
HOME = "watch-floor"


def alert(
    n: int = 1,
    *,
    sector: str = "Jazeera",
    topics: frozenset[str] = frozenset({"IS"}),
    originator: str = HOME,
    tlp: Tlp = Tlp.GREEN,
    position: tuple[float, float] = (41.2412345, 35.6012345),
    time: datetime = T0,
    **fields: Any,
) -> Shareable:
    body: dict[str, Any] = {
        "rule": "crossed",
        "sensors": ["tw-jz-02"],
        "sensor_positions": {"tw-jz-02": [41.25, 35.61]},
        "unit_id": "jz-patrol-1",
        "unit_position": [41.30, 35.55],
        **fields,
    }
    return Shareable(
        kind=ObjectKind.ALERT,
        key=f"alert:{n}",
        version=1,
        time=time,
        originator=originator,
        sector=sector,
        tlp=tlp,
        topics=topics,
        position=position,
        fields=body,
    )


def report(
    n: int = 1,
    *,
    sector: str = "Jazeera",
    originator: str = HOME,
    tlp: Tlp = Tlp.GREEN,
    releasable_to: frozenset[str] | None = frozenset({"*"}),
    topics: frozenset[str] = frozenset({"IS"}),
    refs: tuple[Shareable, ...] = (),
    time: datetime = T0 - timedelta(hours=2),
) -> Shareable:
    return Shareable(
        kind=ObjectKind.INTEL_REPORT,
        key=f"intel_report:{n}",
        version=1,
        time=time,
        originator=originator,
        sector=sector,
        tlp=tlp,
        releasable_to=releasable_to,
        topics=topics,
        position=(41.2, 35.6),
        fields={
            "title": "cell gathering",
            "text": "an IS cell seen",
            "source": "informant 7",
            "reliability": "B",
            "credibility": 2,
            "reported": time.isoformat(),
        },
        refs=refs,
    )

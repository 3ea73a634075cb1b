"""What the sharing channels share in one process: the policy, the feed, the threat board.

Built once by the API assembly (and by `limes serve` for the CoT out streams) from the
scenario's `sharing` section; nothing lives in module globals.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from limes.ops.threat import ThreatBoard
from limes.scenario.model import Scenario
from limes.scenario.sharing import Sharing
from limes.share.feed import Feed, FeedItem
from limes.share.guard import PartnerPolicy, partner_policy
from limes.share.stix import render
from limes.share.threat import refresh_board
from limes.store.database import Database


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ShareContext:
    """The sharing side of one running limes."""

    db: Database
    sharing: Sharing
    scenario: Scenario | None = None
    board: ThreatBoard = field(default_factory=ThreatBoard)
    #: Seconds a fed version waits before it is paged (a commit racing a read lands after the
    #: cursor, not behind it).
    settle_s: float = 2.0
    clock: Callable[[], datetime] = _utc_now
    #: Rendered STIX kept for this many released versions (rendering dominates a page).
    render_cache: int = 50_000
    feed: Feed = field(init=False)
    _rendered: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = field(
        init=False, default_factory=OrderedDict
    )
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.feed = Feed(self.db, self.sharing, self.scenario, self.board)

    def render(self, item: FeedItem) -> list[dict[str, Any]]:
        """The STIX objects of one released version (cached by everything the form depends on).

        A version's projection for a partner is fixed by the row, the partner, the rule that
        released it and the references that survived; the same four give the same objects.
        """
        rel = item.release
        key = (item.seq, rel.partner, rel.rule, tuple(r.key for r in rel.object.refs))
        with self._lock:
            found = self._rendered.get(key)
            if found is not None:
                self._rendered.move_to_end(key)
                return found
        out = render(rel, item.modified)
        with self._lock:
            self._rendered[key] = out
            while len(self._rendered) > self.render_cache:
                self._rendered.popitem(last=False)
        return out

    @classmethod
    def for_scenario(
        cls, db: Database, scenario: Scenario | None, **kwargs: object
    ) -> ShareContext:
        """The context of a scenario's sharing section (none: shares nothing)."""
        sharing = scenario.spec.sharing if scenario is not None else Sharing()
        return cls(db, sharing, scenario, **kwargs)  # type: ignore[arg-type]

    def partner(self, partner_id: str) -> PartnerPolicy:
        """The policy of one partner (`UnknownPartner` if the section does not name it)."""
        return partner_policy(self.sharing, partner_id)

    def refresh_threat(self, now: datetime | None = None) -> None:
        """Recompute the sector threat levels from the stored reports."""
        refresh_board(self.board, self.db, now or self.clock(), self.sharing.report_horizon_h)

    def catch_up(self, now: datetime | None = None) -> int:
        """Feed what the change log holds that the feed has not seen."""
        return self.feed.catch_up(now or self.clock())

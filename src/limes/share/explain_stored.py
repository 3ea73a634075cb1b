"""`limes sharing explain`: the release decision for a stored object, from the command line."""

from __future__ import annotations

from datetime import UTC, datetime

from limes.errors import ShareError
from limes.scenario.model import Scenario
from limes.share.context import ShareContext
from limes.share.guard import Decision, explain
from limes.share.shareable import from_record
from limes.store.database import Database


def explain_stored(
    db: Database, scenario: Scenario, partner_id: str, key: str, now: datetime | None = None
) -> Decision:
    """Why the newest version of `key` (e.g. `alert:<id>`) is or is not released to a partner."""
    when = now or datetime.now(UTC)
    share = ShareContext.for_scenario(db, scenario)
    share.refresh_threat(when)
    share.catch_up(when)
    partner = share.partner(partner_id)
    record = share.feed.latest(key)
    if record is None:
        raise ShareError(
            f"no shared object {key!r} in {db.url} (keys look like alert:<id>, incident:<id>, "
            "sector_status:<name>, intel_report:<id>)"
        )
    return explain(partner, from_record(record), now=when)

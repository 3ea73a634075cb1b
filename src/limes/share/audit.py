"""The release audit: every object version handed to a partner, on which channel, by which rule.

Written in the same breath as the release (TAXII answers, CoT sends, partner API answers), read
by admins (`GET /api/share/releases`) and by the map's "who has received this" view.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import insert, select

from limes.share.guard import Release
from limes.store.database import Database
from limes.store.tables import ReleaseRow


class Channel(StrEnum):
    """The ways out of limes."""

    TAXII = "taxii"
    COT = "cot"
    API = "api"
    EXPORT = "export"
    FEDERATION = "federation"


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    """One audited release."""

    id: int
    time: datetime
    partner: str
    key: str
    version: int
    rule: str
    channel: str


def record_releases(
    db: Database, releases: Iterable[Release], channel: Channel, now: datetime
) -> int:
    """Append one audit row per release (the objects referenced inside count as released too)."""
    rows = []
    for rel in releases:
        objects = [rel.object, *rel.object.refs]
        rows += [
            {"time": now, "partner": rel.partner, "key": o.key, "version": o.version,
             "rule": rel.rule, "channel": channel.value}
            for o in objects
        ]  # fmt: skip
    if rows:
        with db.session() as session:
            session.execute(insert(ReleaseRow), rows)
    return len(rows)


def releases(
    db: Database,
    *,
    key: str | None = None,
    partner: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[ReleaseRecord]:
    """Audited releases, newest first, optionally of one object or to one partner."""
    query = select(ReleaseRow).order_by(ReleaseRow.id.desc()).limit(limit)
    if key is not None:
        query = query.where(ReleaseRow.key == key)
    if partner is not None:
        query = query.where(ReleaseRow.partner == partner)
    if before_id is not None:
        query = query.where(ReleaseRow.id < before_id)
    with db.reader() as session:
        return [
            ReleaseRecord(r.id, r.time, r.partner, r.key, r.version, r.rule, r.channel)
            for r in session.scalars(query)
        ]

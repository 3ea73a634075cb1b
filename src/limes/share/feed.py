"""The shared-object feed: every version of everything that may leave limes, in one order.

`catch_up` turns the change log's alerts, incidents, sector levels and accepted intelligence
reports into `shared_objects` rows (idempotent by change id, so two callers or a restart store
each change once). `released` reads the feed for one partner through the release guard, in the
order of the moment each version became available *to that partner* — the later of when it was
stored and when its delay ran out — with ties broken by the row's sequence number. A cursor is
that pair, taken from stored data, so paging survives restarts and never skips a delayed object.

Why the scan is bounded: a version becomes available at `stored` plus at most the partner's
largest delay (`max_delay_s`), so rows available after a cursor are all stored after the
cursor minus that delay, and once the scan passes rows stored after the last available moment
it has collected, nothing later can come before it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from limes.ops.threat import ThreatBoard
from limes.scenario.model import Scenario
from limes.scenario.sharing import Sharing
from limes.share.guard import PartnerPolicy, Release, explain
from limes.share.objects import (
    FloorContext,
    alert_object,
    incident_object,
    report_object,
    sector_object,
)
from limes.share.shareable import Shareable, from_record, to_record
from limes.share.stix import stix_uid
from limes.store.changes import changes_after
from limes.store.database import Database
from limes.store.rows import upsert_insert
from limes.store.tables import AlertRow, SharedObjectRow, TrackRow, UnitRow

#: Change-log kinds the feed keeps.
FEED_KINDS = frozenset({"alert", "incident", "sector", "intel_report"})
CATCH_UP_BATCH = 2000
SCAN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in one partner's view of the feed: (available, seq, index within the row)."""

    available: datetime
    seq: int
    sub: int = -1

    def key(self) -> tuple[datetime, int, int]:
        return (self.available, self.seq, self.sub)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One released version: its feed row and its projection for the partner."""

    seq: int
    stored: datetime
    available: datetime
    modified: datetime
    release: Release


def max_delay_s(partner: PartnerPolicy) -> float:
    """The longest any object can wait for this partner (its rules and its relays')."""
    longest = max((r.delay_s for r in partner.partner.rules), default=0.0)
    relay = partner.relay
    return longest if relay is None else max(longest, max_delay_s(relay))


class Feed:
    """Fills `shared_objects` from the change log and reads it for partners."""

    def __init__(
        self,
        db: Database,
        sharing: Sharing,
        scenario: Scenario | None = None,
        board: ThreatBoard | None = None,
    ) -> None:
        self.db = db
        self.sharing = sharing
        self.scenario = scenario
        self.board = board
        self._lock = threading.Lock()

    # -- filling ---------------------------------------------------------------------------------

    def catch_up(self, now: datetime) -> int:
        """Feed every change not yet fed; returns how many rows were added."""
        added = 0
        with self._lock:
            while True:
                n, more = self._catch_up_batch(now)
                added += n
                if not more:
                    return added

    def _catch_up_batch(self, now: datetime) -> tuple[int, bool]:
        with self.db.reader() as session:
            last = session.scalar(select(func.max(SharedObjectRow.change_id))) or 0
            changes = changes_after(session, int(last), CATCH_UP_BATCH)
            kept = [(c.id, c.kind, dict(c.payload)) for c in changes if c.kind in FEED_KINDS]
            more = len(changes) == CATCH_UP_BATCH
            if not kept:
                if changes:  # nothing to keep, but remember how far we read
                    return self._mark_read(changes[-1].id, now), more
                return 0, False
            objects = self._objects(session, kept)
            versions = self._next_versions(session, [o.key for _, o in objects])
            modified = self._last_modified(session, [o.key for _, o in objects])
        rows = []
        for change_id, obj in objects:
            version = versions.get(obj.key, 1)
            versions[obj.key] = version + 1
            # STIX wants each version's `modified` later than the one before it.
            before = modified.get(obj.key)
            mod = now if before is None else max(now, before + timedelta(milliseconds=1))
            modified[obj.key] = mod
            record = to_record(_with_version(obj, version, min(obj.time, now)))
            record["modified"] = mod.isoformat()
            rows.append(
                {"key": obj.key, "uid": stix_uid(obj.key), "kind": obj.kind.value,
                 "version": version, "stored": now,
                 "time": min(obj.time, now), "sector": obj.sector, "originator": obj.originator,
                 "change_id": change_id, "record": record}
            )  # fmt: skip
        if changes and changes[-1].id != kept[-1][0]:
            rows.append(self._marker(changes[-1].id, now))
        with self.db.session() as session:
            session.execute(upsert_insert(session, SharedObjectRow).on_conflict_do_nothing(), rows)
        return len(objects), more

    def _mark_read(self, change_id: int, now: datetime) -> int:
        with self.db.session() as session:
            session.execute(
                upsert_insert(session, SharedObjectRow).on_conflict_do_nothing(),
                [self._marker(change_id, now)],
            )
        return 0

    @staticmethod
    def _marker(change_id: int, now: datetime) -> dict[str, Any]:
        """A row that only remembers how far the log was read (never released: no kind)."""
        return {"key": f"read:{change_id}", "uid": "", "kind": "", "version": 1, "stored": now,
                "time": now, "sector": None, "originator": "", "change_id": change_id,
                "record": {}}  # fmt: skip

    def _context(self) -> FloorContext:
        actors = {}
        if self.board is not None:
            actors = {s: self.board.actors(s) for s in self.board.snapshot()}
        return FloorContext(self.scenario, self.sharing, actors)

    def _objects(
        self, session: Session, changes: Sequence[tuple[int, str, dict[str, Any]]]
    ) -> list[tuple[int, Shareable]]:
        ctx = self._context()
        out: list[tuple[int, Shareable]] = []
        track_ids = {p.get("track_id") for _, k, p in changes if k == "alert"}
        sensors = _sensors_of(session, {str(t) for t in track_ids if t})
        for change_id, kind, payload in changes:
            if kind == "alert":
                seen = sensors.get(str(payload.get("track_id")), [])
                out.append((change_id, alert_object(payload, 1, ctx, seen)))
            elif kind == "incident":
                alerts = session.scalars(
                    select(AlertRow).where(AlertRow.incident_id == payload["id"])
                ).all()
                by_track = _sensors_of(session, {a.track_id for a in alerts})
                refs = [alert_object(_row(a), 1, ctx, by_track.get(a.track_id, [])) for a in alerts]
                unit = payload.get("unit_id")
                position = None
                if unit:
                    u = session.get(UnitRow, unit)
                    if u is not None and u.lon is not None and u.lat is not None:
                        position = [u.lon, u.lat]
                out.append((change_id, incident_object(payload, 1, ctx, refs, position)))
            elif kind == "sector":
                threat = self.board.level(payload["name"]).value if self.board else "low"
                out.append((change_id, sector_object(payload, 1, ctx, threat)))
            elif kind == "intel_report" and payload.get("status") == "accepted":
                out.append((change_id, report_object(payload, 1)))
        return out

    @staticmethod
    def _next_versions(session: Session, keys: Sequence[str]) -> dict[str, int]:
        if not keys:
            return {}
        rows = session.execute(
            select(SharedObjectRow.key, func.max(SharedObjectRow.version))
            .where(SharedObjectRow.key.in_(set(keys)))
            .group_by(SharedObjectRow.key)
        ).all()
        return {k: int(v) + 1 for k, v in rows}

    @staticmethod
    def _last_modified(session: Session, keys: Sequence[str]) -> dict[str, datetime]:
        """The `modified` stamp of each key's newest stored version."""
        if not keys:
            return {}
        rows = session.execute(
            select(SharedObjectRow.key, SharedObjectRow.record)
            .where(SharedObjectRow.key.in_(set(keys)))
            .order_by(SharedObjectRow.key, SharedObjectRow.version.desc())
        ).all()
        out: dict[str, datetime] = {}
        for key, record in rows:
            if key not in out:
                out[key] = datetime.fromisoformat(record["modified"])
        return out

    # -- reading ---------------------------------------------------------------------------------

    def released(
        self,
        partner: PartnerPolicy,
        *,
        now: datetime,
        after: Cursor | None = None,
        limit: int = 100,
        settle_s: float = 0.0,
        latest_only: bool = True,
    ) -> tuple[list[FeedItem], bool]:
        """Up to `limit` versions released to `partner`, in availability order after `after`.

        Only versions available by `now - settle_s` are given (a commit racing the read lands
        after the cursor, not behind it). Returns the items and whether more may follow.
        """
        horizon = now - timedelta(seconds=settle_s)
        delay = timedelta(seconds=max_delay_s(partner))
        start: tuple[datetime, int] | None = None
        if after is not None:
            # Rows stored before the cursor less the longest delay cannot come after it.
            start = (after.available - delay, -1) if delay else (after.available, after.seq - 1)
        found: list[FeedItem] = []
        dropped = more = False
        for row in self._scan(start, horizon):
            if len(found) >= limit:
                found.sort(key=_order)
                dropped = dropped or len(found) > limit
                found = found[:limit]
                # Every later row is available at or after its own (stored, seq).
                if (row.stored, row.seq) > (found[-1].available, found[-1].seq):
                    more = True
                    break
            if after is not None and (row.stored + delay, row.seq) < (after.available, after.seq):
                continue
            item = self._decide(partner, row, now, horizon)
            if item is None:
                continue
            if (
                after is not None
                and (item.available, item.seq) <= (after.available, after.seq)
                and not (item.seq == after.seq and after.sub >= 0)
            ):
                continue
            found.append(item)
        found.sort(key=_order)
        more = more or dropped or len(found) > limit
        found = found[:limit]
        if latest_only:
            found = self._latest(partner, found, now, horizon)
        return found, more

    def _scan(
        self, start: tuple[datetime, int] | None, horizon: datetime
    ) -> Iterator[SharedObjectRow]:
        """Feed rows after `start` (stored, seq) and stored by `horizon`, in that order."""
        last = start
        while True:
            query = (
                select(SharedObjectRow)
                .where(SharedObjectRow.stored <= horizon, SharedObjectRow.kind != "")
                .order_by(SharedObjectRow.stored, SharedObjectRow.seq)
                .limit(SCAN_CHUNK)
            )
            if last is not None:
                query = query.where(
                    tuple_(SharedObjectRow.stored, SharedObjectRow.seq) > tuple_(*last)
                )
            with self.db.reader() as session:
                rows = session.scalars(query).all()
                session.expunge_all()
            yield from rows
            if len(rows) < SCAN_CHUNK:
                return
            last = (rows[-1].stored, rows[-1].seq)

    @staticmethod
    def _decide(
        partner: PartnerPolicy, row: SharedObjectRow, now: datetime, horizon: datetime
    ) -> FeedItem | None:
        obj = from_record(row.record)
        decision = explain(partner, obj, now=now)
        if decision.release is None or decision.available_at is None:
            return None
        available = max(row.stored, decision.available_at)
        if available > horizon:
            return None
        modified = datetime.fromisoformat(row.record.get("modified", row.stored.isoformat()))
        return FeedItem(row.seq, row.stored, available, modified, decision.release)

    def _latest(
        self, partner: PartnerPolicy, items: list[FeedItem], now: datetime, horizon: datetime
    ) -> list[FeedItem]:
        """Items without a newer version this partner may already see."""
        keys = {i.release.object.key for i in items}
        if not keys:
            return items
        with self.db.reader() as session:
            newer = session.scalars(
                select(SharedObjectRow)
                .where(SharedObjectRow.key.in_(keys), SharedObjectRow.stored <= horizon)
                .order_by(SharedObjectRow.key, SharedObjectRow.version.desc())
            ).all()
            session.expunge_all()
        best: dict[str, int] = {}
        for row in newer:
            if row.key in best:
                continue
            if self._decide(partner, row, now, horizon) is not None:
                best[row.key] = row.version
        return [i for i in items if i.release.object.version >= best.get(i.release.object.key, 0)]

    def latest(self, key: str) -> dict[str, Any] | None:
        """The stored record of an object's newest version (None: never fed)."""
        with self.db.reader() as session:
            found = session.scalar(
                select(SharedObjectRow.record)
                .where(SharedObjectRow.key == key)
                .order_by(SharedObjectRow.version.desc())
                .limit(1)
            )
        return None if found is None else dict(found)

    def versions(
        self, partner: PartnerPolicy, key: str, *, now: datetime, settle_s: float = 0.0
    ) -> list[FeedItem]:
        """Every version of one object released to the partner, oldest first."""
        horizon = now - timedelta(seconds=settle_s)
        with self.db.reader() as session:
            rows = session.scalars(
                select(SharedObjectRow)
                .where(SharedObjectRow.key == key, SharedObjectRow.stored <= horizon)
                .order_by(SharedObjectRow.version)
            ).all()
            session.expunge_all()
        return [i for i in (self._decide(partner, r, now, horizon) for r in rows) if i]


def _order(item: FeedItem) -> tuple[datetime, int]:
    return (item.available, item.seq)


def _with_version(obj: Shareable, version: int, time: datetime) -> Shareable:
    from dataclasses import replace

    return replace(obj, version=version, time=time)


def _row(alert: AlertRow) -> dict[str, Any]:
    from limes.store.rows import row_dict

    return row_dict(alert)


def _sensors_of(session: Session, track_ids: set[str]) -> dict[str, list[str]]:
    """The sensors that saw each of these tracks (one query)."""
    if not track_ids:
        return {}
    rows = session.execute(
        select(TrackRow.track_id, TrackRow.sensors).where(TrackRow.track_id.in_(track_ids))
    ).all()
    return {t: [str(s) for s in sensors] for t, sensors in rows}


def key_of_uid(db: Database, uid: str) -> str | None:
    """The limes key whose STIX ids carry this UUID (None: no such object)."""
    with db.reader() as session:
        found = session.scalar(
            select(SharedObjectRow.key).where(SharedObjectRow.uid == uid).limit(1)
        )
    return None if found is None else str(found)

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
#: Rows × partners whose availability is remembered (a few hundred bytes each).
FORM_MEMORY = 1_000_000
_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class _Row:
    """A feed row as a scan sees it: the record only where the guard must look at it."""

    seq: int
    stored: datetime
    record: dict[str, Any] | None
    known: datetime | None = None  # remembered: released, available from then


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
        self._forms: dict[tuple[int, str], datetime | None] = {}
        self._forms_lock = threading.Lock()

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
            if not changes:
                return 0, False
            kept = [(c.id, c.kind, dict(c.payload)) for c in changes if c.kind in FEED_KINDS]
            objects = self._objects(session, kept)
            rows = self._rows(session, objects, now)
        if changes[-1].id not in {change_id for change_id, _ in objects}:
            rows.append(self._marker(changes[-1].id, now))  # remember how far the log was read
        with self.db.session() as session:
            session.execute(upsert_insert(session, SharedObjectRow).on_conflict_do_nothing(), rows)
        return len(objects), len(changes) == CATCH_UP_BATCH

    def append(self, objects: Sequence[Shareable], now: datetime) -> int:
        """Add versions that did not come from this installation's change log (objects
        another site or a test hands over); each gets the next version of its key."""
        with self._lock:
            with self.db.reader() as session:
                rows = self._rows(session, [(None, o) for o in objects], now)
            with self.db.session() as session:
                session.execute(upsert_insert(session, SharedObjectRow), rows)
        return len(rows)

    def _rows(
        self, session: Session, objects: Sequence[tuple[int | None, Shareable]], now: datetime
    ) -> list[dict[str, Any]]:
        """Feed rows for new versions: numbered after the stored ones, `modified` rising."""
        keys = [o.key for _, o in objects]
        versions = self._next_versions(session, keys)
        modified = self._last_modified(session, keys)
        rows = []
        for change_id, obj in objects:
            version = versions.get(obj.key, 1)
            versions[obj.key] = version + 1
            # STIX wants each version's `modified` later than the one before it.
            before = modified.get(obj.key)
            mod = now if before is None else max(now, before + timedelta(milliseconds=1))
            modified[obj.key] = mod
            # An object's time cannot lie after it was stored (so its delay ends by
            # `stored + delay`, which bounds the feed's scans).
            time = min(obj.time, now)
            record = to_record(_with_version(obj, version, time))
            record["modified"] = mod.isoformat()
            rows.append(
                {"key": obj.key, "uid": stix_uid(obj.key), "kind": obj.kind.value,
                 "version": version, "stored": now, "time": time, "sector": obj.sector,
                 "originator": obj.originator, "change_id": change_id, "record": record}
            )  # fmt: skip
        return rows

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
        # Candidates as (available, seq, item or bare row): a row whose availability is
        # remembered is decided again only if it makes the page.
        found: list[tuple[datetime, int, FeedItem | _Row]] = []
        dropped = more = False
        for row in self._scan(partner, after, delay, start, horizon):
            if len(found) >= limit:
                found.sort(key=_first_two)
                dropped = dropped or len(found) > limit
                found = found[:limit]
                # Every later row is available at or after its own (stored, seq).
                if (row.stored, row.seq) > (found[-1][0], found[-1][1]):
                    more = True
                    break
            if row.known is not None:
                found.append((max(row.stored, row.known), row.seq, row))
                continue
            if row.record is None:
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
            found.append((item.available, item.seq, item))
        found.sort(key=_first_two)
        more = more or dropped or len(found) > limit
        items = self._items(partner, [c[2] for c in found[:limit]], now, horizon)
        if latest_only:
            items = self._latest(partner, items, now, horizon)
        return items, more

    def _items(
        self, partner: PartnerPolicy, page: list[FeedItem | _Row], now: datetime, horizon: datetime
    ) -> list[FeedItem]:
        """The page's items, deciding the rows that were passed on their remembered form."""
        bare = [r.seq for r in page if isinstance(r, _Row)]
        records: dict[int, dict[str, Any]] = {}
        if bare:
            with self.db.reader() as session:
                records = dict(
                    session.execute(
                        select(SharedObjectRow.seq, SharedObjectRow.record).where(
                            SharedObjectRow.seq.in_(bare)
                        )
                    ).all()
                )
        out = []
        for entry in page:
            if isinstance(entry, _Row):
                decided = self._decide(
                    partner, _Row(entry.seq, entry.stored, records[entry.seq]), now, horizon
                )
                if decided is None:
                    continue
                entry = decided
            out.append(entry)
        return out

    def _scan(
        self,
        partner: PartnerPolicy,
        after: Cursor | None,
        delay: timedelta,
        start: tuple[datetime, int] | None,
        horizon: datetime,
    ) -> Iterator[_Row]:
        """Feed rows after `start` (stored, seq) and stored by `horizon`, in that order.

        Only rows that may be released after the cursor carry their record: a row the guard
        never releases to this partner (remembered per row and partner: a stored version and
        a policy do not change) or one that cannot come after the cursor is passed bare.
        """
        last = start
        while True:
            query = (
                select(SharedObjectRow.seq, SharedObjectRow.stored)
                .where(SharedObjectRow.stored <= horizon, SharedObjectRow.kind != "")
                .order_by(SharedObjectRow.stored, SharedObjectRow.seq)
                .limit(SCAN_CHUNK)
            )
            if last is not None:
                query = query.where(
                    tuple_(SharedObjectRow.stored, SharedObjectRow.seq) > tuple_(*last)
                )
            with self.db.reader() as session:
                light = session.execute(query).all()
                verdicts = {
                    seq: self._may_come(partner.id, seq, stored, after, delay, horizon)
                    for seq, stored in light
                }
                wanted = [seq for seq, v in verdicts.items() if v is True]
                records: dict[int, dict[str, Any]] = dict(
                    session.execute(
                        select(SharedObjectRow.seq, SharedObjectRow.record).where(
                            SharedObjectRow.seq.in_(wanted)
                        )
                    ).all()
                ) if wanted else {}  # fmt: skip
            for seq, stored in light:
                v = verdicts[seq]
                yield _Row(seq, stored, records.get(seq), v if isinstance(v, datetime) else None)
            if len(light) < SCAN_CHUNK:
                return
            last = (light[-1].stored, light[-1].seq)

    def _may_come(
        self,
        pid: str,
        seq: int,
        stored: datetime,
        after: Cursor | None,
        delay: timedelta,
        horizon: datetime,
    ) -> bool | datetime:
        """False: cannot come after the cursor; True: the guard must look at the record;
        a time: released, available then (remembered from an earlier look)."""
        if after is not None and (stored + delay, seq) < (after.available, after.seq):
            return False
        known = self._forms.get((seq, pid), _UNKNOWN)
        if known is _UNKNOWN:
            return True
        if known is None:
            return False
        assert isinstance(known, datetime)
        available = max(stored, known)
        if available > horizon:
            return False
        if after is not None and (available, seq) <= (after.available, after.seq):
            # the row the cursor stands in, part-consumed, is looked at again
            return seq == after.seq and after.sub >= 0
        return known

    def _decide(
        self, partner: PartnerPolicy, row: _Row | SharedObjectRow, now: datetime, horizon: datetime
    ) -> FeedItem | None:
        assert row.record is not None
        obj = from_record(row.record)
        decision = explain(partner, obj, now=now)
        self._remember(row.seq, partner.id, decision.available_at)
        if decision.release is None or decision.available_at is None:
            return None
        available = max(row.stored, decision.available_at)
        if available > horizon:
            return None
        modified = datetime.fromisoformat(row.record.get("modified", row.stored.isoformat()))
        return FeedItem(row.seq, row.stored, available, modified, decision.release)

    def _remember(self, seq: int, pid: str, available: datetime | None) -> None:
        """Keep when (if ever) a row becomes available to a partner: it never changes."""
        with self._forms_lock:
            self._forms[(seq, pid)] = available
            if len(self._forms) > FORM_MEMORY:
                for key in list(self._forms)[: FORM_MEMORY // 10]:
                    del self._forms[key]

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


def _first_two(entry: tuple[datetime, int, object]) -> tuple[datetime, int]:
    return (entry[0], entry[1])


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

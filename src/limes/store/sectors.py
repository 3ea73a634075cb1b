"""Sector impact levels: set by commanders, raised automatically by open incidents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from limes.ops.incidents import ImpactLevel, ImpactRule
from limes.store.audit import audit
from limes.store.incidents import open_severities
from limes.store.rows import row_dict, upsert_insert
from limes.store.tables import SectorRow


def ensure_sectors(session: Session, names: Iterable[str], now: datetime) -> None:
    """Create missing sector rows at level low (existing rows are left alone)."""
    rows = [
        {"name": n, "set_level": ImpactLevel.LOW.value, "level": ImpactLevel.LOW.value,
         "set_by": None, "set_at": None, "note": "", "updated": now}
        for n in dict.fromkeys(names)
    ]  # fmt: skip
    if rows:
        session.execute(
            upsert_insert(session, SectorRow.__table__).on_conflict_do_nothing(
                index_elements=["name"]
            ),
            rows,
        )


def refresh_impact(
    session: Session, sector: str, rule: ImpactRule, now: datetime
) -> dict[str, Any] | None:
    """Recompute a sector's effective level from its open incidents; the new row (JSON-ready)
    when the level changed, else None."""
    ensure_sectors(session, [sector], now)
    row = session.get(SectorRow, sector, with_for_update=True)
    assert row is not None
    level = rule.effective(ImpactLevel(row.set_level), open_severities(session, sector))
    if level.value == row.level:
        return None
    row.level = level.value
    row.updated = now
    session.flush()
    return row_dict(row)


def set_impact(
    session: Session,
    sector: str,
    level: ImpactLevel,
    *,
    actor: str,
    note: str,
    rule: ImpactRule,
    now: datetime,
) -> SectorRow:
    """A commander sets a sector's level; open incidents may still hold it higher."""
    ensure_sectors(session, [sector], now)
    row = session.get(SectorRow, sector, with_for_update=True)
    assert row is not None
    before = row_dict(row)
    row.set_level = level.value
    row.set_by = actor
    row.set_at = now
    row.note = note
    row.level = rule.effective(level, open_severities(session, sector)).value
    row.updated = now
    session.flush()
    audit(session, actor=actor, action="set_impact", entity="sector", entity_id=sector,
          before=before, after=row_dict(row), time=now)  # fmt: skip
    return row


def list_sectors(session: Session) -> Sequence[SectorRow]:
    """Every sector with a stored level, by name."""
    return session.scalars(select(SectorRow).order_by(SectorRow.name)).all()

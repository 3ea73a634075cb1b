"""Response units' reported status and position (the scenario holds what they are)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from limes.store.audit import audit
from limes.store.rows import row_dict
from limes.store.tables import DispatchRow, UnitReportRow, UnitRow


class UnitStatus(StrEnum):
    """What a unit reports it is doing."""

    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RETURNING = "returning"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class UnitReport:
    """One status and/or position report of a unit."""

    unit_id: str
    time: datetime
    status: UnitStatus
    lon: float | None = None
    lat: float | None = None


def report_unit(
    session: Session, report: UnitReport, *, actor: str, now: datetime
) -> tuple[UnitRow, dict[str, Any] | None]:
    """Append a report and update the unit's latest state if the report is newer.

    Returns the unit's row and its JSON for the change log when the latest state changed.
    A report without a position keeps the last known one. Audited when `actor` is a person.
    """
    session.add(
        UnitReportRow(
            unit_id=report.unit_id,
            time=report.time,
            status=report.status.value,
            lon=report.lon,
            lat=report.lat,
            reported_by=actor,
        )
    )
    row = session.get(UnitRow, report.unit_id, with_for_update=True)
    before = row_dict(row) if row is not None else None
    if row is None:
        row = UnitRow(unit_id=report.unit_id, status=report.status.value, time=report.time,
                      lon=report.lon, lat=report.lat, reported_by=actor)  # fmt: skip
        session.add(row)
    elif report.time >= row.time:
        row.status = report.status.value
        row.time = report.time
        if report.lon is not None and report.lat is not None:
            row.lon, row.lat = report.lon, report.lat
        row.reported_by = actor
    else:
        return row, None  # an older report is history only
    session.flush()
    after = row_dict(row)
    audit(session, actor=actor, action="report", entity="unit", entity_id=report.unit_id,
          before=before, after=after, time=now)  # fmt: skip
    return row, after


def unit_states(session: Session) -> dict[str, UnitRow]:
    """Every unit's latest reported state, by id."""
    return {row.unit_id: row for row in session.scalars(select(UnitRow))}


def active_dispatches(session: Session) -> dict[str, DispatchRow]:
    """The running dispatch of each unit that has one, by unit id."""
    query = select(DispatchRow).where(DispatchRow.ended.is_(None)).order_by(DispatchRow.id)
    return {row.unit_id: row for row in session.scalars(query)}


def unit_reports(
    session: Session, unit_id: str, *, after_id: int | None = None, limit: int = 100
) -> Sequence[UnitReportRow]:
    """A unit's reports in storage order (`after_id`: paging)."""
    query = (
        select(UnitReportRow)
        .where(UnitReportRow.unit_id == unit_id)
        .order_by(UnitReportRow.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(UnitReportRow.id > after_id)
    return session.scalars(query).all()

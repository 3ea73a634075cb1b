"""Keeping intelligence reports: file, review, list; each version goes to the change log.

The change log entry (`intel_report`) is what the live stream shows and what the shared-object
feed turns into a releasable version (see `limes.share.feed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from limes.share.report import IntelReport, ReportStatus
from limes.store.audit import audit
from limes.store.changes import record_changes
from limes.store.database import Database
from limes.store.errors import NotFound
from limes.store.tables import IntelReportRow


def file_report(db: Database, report: IntelReport, *, actor: str, now: datetime) -> int:
    """Store a report (a new one, or a new version of one with the same id); its version."""
    record = report.model_dump(mode="json")
    with db.session() as session:
        row = session.get(IntelReportRow, report.report_id, with_for_update=True)
        before = None if row is None else dict(row.record)
        if row is None:
            row = IntelReportRow(report_id=report.report_id, version=0)
            session.add(row)
        row.version += 1
        row.time = report.time
        row.reported = report.reported
        row.updated = now
        row.sector = report.sector
        row.status = report.status.value
        row.originator = report.originator
        row.author = report.author
        row.record = record
        session.flush()
        version = row.version
        audit(session, actor=actor, action="file" if before is None else "revise",
              entity="intel_report", entity_id=report.report_id, before=before, after=record,
              time=now)  # fmt: skip
        record_changes(session, [("intel_report", {**record, "version": version})], now)
    return version


def get_report(db: Database, report_id: str) -> tuple[IntelReport, int]:
    """A report and its version, or `NotFound`."""
    with db.reader() as session:
        row = session.get(IntelReportRow, report_id)
        if row is None:
            raise NotFound(f"no intelligence report {report_id!r}")
        return IntelReport.model_validate(row.record), row.version


def list_reports(
    db: Database,
    *,
    sector: str | None = None,
    status: ReportStatus | None = None,
    limit: int = 100,
    before: datetime | None = None,
) -> Sequence[tuple[IntelReport, int]]:
    """Reports, newest event first, optionally of one sector or status."""
    query = select(IntelReportRow).order_by(IntelReportRow.time.desc()).limit(limit)
    if sector is not None:
        query = query.where(IntelReportRow.sector == sector)
    if status is not None:
        query = query.where(IntelReportRow.status == status.value)
    if before is not None:
        query = query.where(IntelReportRow.time < before)
    with db.reader() as session:
        return [(IntelReport.model_validate(r.record), r.version) for r in session.scalars(query)]

"""A sector's threat level from its intelligence reports.

A report counts toward its sector's threat level when it is accepted, graded credible (source
reliability A–C and information credibility 1–3: a rumour from an unknown source raises
nothing), and its event lies within the scenario's `sharing.report_horizon_h` before now. The
sector's level is the highest threat among the reports that count; its actors are the union of
theirs (an alert in that sector is then "about" them, for rules that filter on topics).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from limes.ops.alert import Severity
from limes.ops.threat import ThreatBoard
from limes.scenario.sharing import Credibility, Reliability
from limes.share.report import IntelReport, ReportStatus
from limes.store.database import Database
from limes.store.tables import IntelReportRow

CREDIBLE_SOURCES = frozenset({Reliability.A, Reliability.B, Reliability.C})
CREDIBLE_INFORMATION = frozenset(
    {Credibility.CONFIRMED, Credibility.PROBABLY_TRUE, Credibility.POSSIBLY_TRUE}
)
_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


@dataclass(frozen=True)
class SectorThreat:
    """One sector's threat level and who it is about."""

    level: Severity
    actors: frozenset[str]


def counts(report: IntelReport, now: datetime, horizon_h: float) -> bool:
    """Whether a report weighs on its sector's threat level now."""
    return (
        report.status is ReportStatus.ACCEPTED
        and report.sector is not None
        and report.reliability in CREDIBLE_SOURCES
        and report.credibility in CREDIBLE_INFORMATION
        and now - timedelta(hours=horizon_h) <= report.time <= now
    )


def sector_threats(
    reports: Iterable[IntelReport], now: datetime, horizon_h: float
) -> dict[str, SectorThreat]:
    """The threat of every sector some counting report names."""
    levels: dict[str, Severity] = {}
    actors: dict[str, set[str]] = {}
    for r in reports:
        if not counts(r, now, horizon_h):
            continue
        assert r.sector is not None
        level = Severity(r.threat.value)
        old = levels.get(r.sector, Severity.LOW)
        levels[r.sector] = level if _ORDER.index(level) > _ORDER.index(old) else old
        actors.setdefault(r.sector, set()).update(r.actors)
    return {s: SectorThreat(levels[s], frozenset(actors.get(s, ()))) for s in levels}


def recent_reports(db: Database, now: datetime, horizon_h: float) -> list[IntelReport]:
    """Accepted reports whose event lies within the horizon before now."""
    since = now - timedelta(hours=horizon_h)
    with db.reader() as session:
        rows = session.scalars(
            select(IntelReportRow.record).where(
                IntelReportRow.status == ReportStatus.ACCEPTED.value,
                IntelReportRow.time >= since,
                IntelReportRow.time <= now,
            )
        ).all()
    return [IntelReport.model_validate(r) for r in rows]


def refresh_board(board: ThreatBoard, db: Database, now: datetime, horizon_h: float) -> None:
    """Set the board from the stored reports."""
    threats = sector_threats(recent_reports(db, now, horizon_h), now, horizon_h)
    board.replace(
        {s: t.level for s, t in threats.items()}, {s: t.actors for s, t in threats.items()}
    )

"""What people do through the API, each in one transaction with its audit entry and changes.

Incident transitions and notes, sector impact levels and unit reports: the repository call,
the impact level it may move, and the change-log entries the live map needs, together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from limes.ops.incidents import ImpactLevel, ImpactRule, IncidentAction, Transition
from limes.store.changes import record_changes
from limes.store.database import Database
from limes.store.errors import Conflict, NotFound
from limes.store.incidents import add_note, apply_transition, merge_incidents
from limes.store.rows import row_dict
from limes.store.sectors import refresh_impact, set_impact
from limes.store.units import UnitReport, report_unit


class Workflow:
    """People's actions on the store (see module docstring); `on_commit(n)` as for the writer."""

    def __init__(
        self,
        db: Database,
        *,
        impact_rule: ImpactRule | None = None,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.db = db
        self.impact_rule = impact_rule or ImpactRule()
        self.on_commit = on_commit

    def _done(self, n: int) -> None:
        if n and self.on_commit is not None:
            self.on_commit(n)

    def transition(
        self, incident_id: int, transition: Transition, *, actor: str, now: datetime
    ) -> dict[str, Any]:
        """Apply a transition; returns the incident (JSON-ready). Raises `Conflict`/`NotFound`."""
        with self.db.session() as session:
            incident = apply_transition(session, incident_id, transition, actor=actor, now=now)
            changes = [("incident", row_dict(incident))]
            level = refresh_impact(session, incident.sector, self.impact_rule, now)
            if level is not None:
                changes.append(("sector", level))
            n = record_changes(session, changes, now)
            out = row_dict(incident)
        self._done(n)
        return out

    def acknowledge_many(
        self, incident_ids: list[int], *, actor: str, note: str, now: datetime
    ) -> tuple[list[int], dict[int, str]]:
        """Acknowledge several incidents, each in its own transaction (one refused leaves the
        others done); returns (acknowledged ids, {refused id: why})."""
        done: list[int] = []
        refused: dict[int, str] = {}
        step = Transition(IncidentAction.ACKNOWLEDGE, note=note)
        for incident_id in dict.fromkeys(incident_ids):
            try:
                self.transition(incident_id, step, actor=actor, now=now)
            except (Conflict, NotFound) as error:
                refused[incident_id] = str(error)
            else:
                done.append(incident_id)
        return done, refused

    def merge(
        self, into_id: int, other_ids: list[int], *, actor: str, note: str, now: datetime
    ) -> dict[str, Any]:
        """Fold open incidents into one (`store.incidents.merge_incidents`); returns it."""
        with self.db.session() as session:
            rows = merge_incidents(session, into_id, other_ids, actor=actor, note=note, now=now)
            changes = [("incident", row_dict(r)) for r in rows]
            for sector in sorted({r.sector for r in rows}):
                level = refresh_impact(session, sector, self.impact_rule, now)
                if level is not None:
                    changes.append(("sector", level))
            n = record_changes(session, changes, now)
            out = row_dict(rows[0])
        self._done(n)
        return out

    def note(self, incident_id: int, note: str, *, actor: str, now: datetime) -> dict[str, Any]:
        """Add a note; returns the incident (JSON-ready)."""
        with self.db.session() as session:
            incident = add_note(session, incident_id, note, actor=actor, now=now)
            n = record_changes(session, [("incident", row_dict(incident))], now)
            out = row_dict(incident)
        self._done(n)
        return out

    def set_impact(
        self, sector: str, level: ImpactLevel, *, actor: str, note: str, now: datetime
    ) -> dict[str, Any]:
        """A commander sets a sector's level; returns the sector (JSON-ready)."""
        with self.db.session() as session:
            row = set_impact(session, sector, level, actor=actor, note=note,
                             rule=self.impact_rule, now=now)  # fmt: skip
            out = row_dict(row)
            n = record_changes(session, [("sector", out)], now)
        self._done(n)
        return out

    def report_unit(self, report: UnitReport, *, actor: str, now: datetime) -> dict[str, Any]:
        """Store a unit's status/position report; returns the unit's latest state."""
        with self.db.session() as session:
            row, changed = report_unit(session, report, actor=actor, now=now)
            n = record_changes(session, [("unit", changed)] if changed else [], now)
            out = row_dict(row)
        self._done(n)
        return out

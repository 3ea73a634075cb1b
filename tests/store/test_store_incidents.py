"""The incident workflow: every legal and illegal transition, with who did what in the audit log."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from store_records import FRAME, NOW, alert

from limes.ops.alert import Rule, Severity
from limes.ops.incidents import (
    ImpactLevel,
    ImpactRule,
    IncidentAction,
    IncidentError,
    IncidentState,
    Outcome,
    Transition,
    allowed_actions,
    next_state,
)
from limes.store.audit import audit_entries
from limes.store.database import Database
from limes.store.errors import Conflict
from limes.store.incidents import (
    get_incident,
    incident_dispatches,
    incident_events,
    list_incidents,
)
from limes.store.sectors import list_sectors
from limes.store.workflow import Workflow
from limes.store.writer import StoreWriter

S, A, Oc = IncidentState, IncidentAction, Outcome
ON_GROUND = {Oc.INTERCEPTED}

# The workflow written out independently of the module's table: (state, action) -> next.
EXPECTED = {
    (S.NEW, A.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.ASSIGN): S.ASSIGNED,
    (S.ACKNOWLEDGED, A.RESOLVE): S.RESOLVED,
    (S.ASSIGNED, A.RESOLVE): S.RESOLVED,
}


def _request(action: IncidentAction, outcome: Outcome | None = None) -> Transition:
    if action is A.ASSIGN:
        return Transition(action, unit_id="qrf-1")
    if action is A.RESOLVE:
        return Transition(action, outcome=outcome or Oc.LOST)
    return Transition(action)


@pytest.mark.parametrize(("state", "action"), list(itertools.product(S, A)))
def test_every_state_and_action_follows_the_written_workflow(
    state: IncidentState, action: IncidentAction
) -> None:
    if (state, action) in EXPECTED:
        assert next_state(state, _request(action)) is EXPECTED[(state, action)]
        return
    with pytest.raises(IncidentError) as refused:
        next_state(state, _request(action))
    message = str(refused.value)
    assert f"cannot {action.value} an incident that is {state.value}" in message
    for allowed in allowed_actions(state):
        assert allowed.value in message
    if state is S.RESOLVED:
        assert "closed" in message


@pytest.mark.parametrize(
    ("state", "outcome"), list(itertools.product([S.ACKNOWLEDGED, S.ASSIGNED], Oc))
)
def test_outcomes_needing_a_unit_on_the_ground_need_an_assignment(
    state: IncidentState, outcome: Outcome
) -> None:
    step = Transition(A.RESOLVE, outcome=outcome)
    if state is S.ACKNOWLEDGED and outcome in ON_GROUND:
        with pytest.raises(IncidentError, match="assign a unit first"):
            next_state(state, step)
    else:
        assert next_state(state, step) is S.RESOLVED


@pytest.mark.parametrize(
    ("state", "step", "words"),
    [
        (S.ACKNOWLEDGED, Transition(A.ASSIGN), "needs the unit_id"),
        (S.ASSIGNED, Transition(A.RESOLVE), "needs an outcome"),
        (S.NEW, Transition(A.ACKNOWLEDGE, unit_id="u"), "only for assign"),
        (S.NEW, Transition(A.ACKNOWLEDGE, outcome=Oc.LOST), "only for resolve"),
    ],
)
def test_malformed_requests_are_refused_with_the_reason(
    state: IncidentState, step: Transition, words: str
) -> None:
    with pytest.raises(IncidentError, match=words):
        next_state(state, step)


def _open(db: Database, track_id: str = "T1", severity: Severity = Severity.MEDIUM) -> int:
    StoreWriter(db, FRAME, clock=lambda: NOW).write(alerts=[alert(track_id, severity=severity)])
    with db.reader() as s:
        return next(i.id for i in list_incidents(s, track_id=track_id))


def test_a_full_workflow_is_recorded_as_events_dispatches_and_audit(db: Database) -> None:
    flow = Workflow(db)
    incident = _open(db)
    t = [NOW + timedelta(minutes=m) for m in range(5)]
    flow.transition(
        incident, Transition(A.ACKNOWLEDGE, note="on camera"), actor="ops.amal", now=t[0]
    )
    flow.transition(incident, Transition(A.ASSIGN, unit_id="qrf-1"), actor="ops.amal", now=t[1])
    flow.note(incident, "group of 7, families", actor="ops.karim", now=t[2])
    flow.transition(incident, Transition(A.ASSIGN, unit_id="patrol-2"), actor="cmd.saif", now=t[3])
    flow.transition(
        incident, Transition(A.RESOLVE, outcome=Oc.HUMANITARIAN, note="handed to UNHCR post"),
        actor="ops.karim", now=t[4],
    )  # fmt: skip
    with db.reader() as s:
        row = get_incident(s, incident)
        events = incident_events(s, incident)
        dispatches = incident_dispatches(s, incident)
        entries = list(reversed(audit_entries(s, entity="incident", entity_id=str(incident))))
    assert (row.state, row.outcome, row.unit_id, row.resolved) == (
        "resolved",
        "humanitarian",
        "patrol-2",
        t[4],
    )
    assert [(e.actor, e.action, e.from_state, e.to_state) for e in events] == [
        ("system", "open", None, "new"),
        ("ops.amal", "acknowledge", "new", "acknowledged"),
        ("ops.amal", "assign", "acknowledged", "assigned"),
        ("ops.karim", "note", None, None),
        ("cmd.saif", "assign", "assigned", "assigned"),
        ("ops.karim", "resolve", "assigned", "resolved"),
    ]
    assert events[-1].note == "handed to UNHCR post" and events[3].note == "group of 7, families"
    assert [(d.unit_id, d.ended, d.end_reason) for d in dispatches] == [
        ("qrf-1", t[3], "reassigned"),
        ("patrol-2", t[4], "resolved"),
    ]
    assert [(e.actor, e.action, e.time) for e in entries] == [
        ("ops.amal", "acknowledge", t[0]),
        ("ops.amal", "assign", t[1]),
        ("ops.karim", "note", t[2]),
        ("cmd.saif", "assign", t[3]),
        ("ops.karim", "resolve", t[4]),
    ]
    assert entries[0].before is not None and entries[0].after is not None
    assert (entries[0].before["state"], entries[0].after["state"]) == ("new", "acknowledged")
    assert (entries[-1].before["unit_id"], entries[-1].after["outcome"]) == (
        "patrol-2",
        "humanitarian",
    )


@pytest.mark.parametrize(
    ("state", "action"), [k for k in itertools.product(S, A) if k not in EXPECTED]
)
def test_illegal_transitions_are_refused_by_the_store_and_change_nothing(
    db: Database, state: IncidentState, action: IncidentAction
) -> None:
    flow = Workflow(db)
    incident = _open(db)
    path = {S.NEW: [], S.ACKNOWLEDGED: [A.ACKNOWLEDGE], S.ASSIGNED: [A.ACKNOWLEDGE, A.ASSIGN],
            S.RESOLVED: [A.ACKNOWLEDGE, A.RESOLVE]}[state]  # fmt: skip
    for step in path:
        flow.transition(incident, _request(step), actor="ops", now=NOW)
    with db.reader() as s:
        before = (get_incident(s, incident).state, len(incident_events(s, incident)))
    with pytest.raises(Conflict, match=f"incident {incident}: cannot {action.value}"):
        flow.transition(incident, _request(action), actor="ops", now=NOW)
    with db.reader() as s:
        assert (get_incident(s, incident).state, len(incident_events(s, incident))) == before


def test_a_new_alert_after_resolution_opens_a_new_incident(db: Database) -> None:
    flow = Workflow(db)
    first = _open(db, "T5")
    flow.transition(first, Transition(A.ACKNOWLEDGE), actor="ops", now=NOW)
    flow.transition(first, Transition(A.RESOLVE, outcome=Oc.FALSE_ALARM), actor="ops", now=NOW)
    StoreWriter(db, FRAME, clock=lambda: NOW).write(alerts=[alert("T5", rule=Rule.LOITERING)])
    with db.reader() as s:
        rows = list_incidents(s, track_id="T5")
    assert [(r.state, r.alert_count) for r in rows] == [("new", 1), ("resolved", 1)]


@pytest.mark.parametrize(
    ("severities", "commander", "expected"),
    [
        ([], ImpactLevel.LOW, ImpactLevel.LOW),
        ([], ImpactLevel.HIGH, ImpactLevel.HIGH),
        ([Severity.LOW], ImpactLevel.LOW, ImpactLevel.MEDIUM),
        ([Severity.LOW] * 3, ImpactLevel.LOW, ImpactLevel.HIGH),
        ([Severity.MEDIUM] * 6, ImpactLevel.LOW, ImpactLevel.CRITICAL),
        ([Severity.HIGH], ImpactLevel.LOW, ImpactLevel.HIGH),
        ([Severity.LOW, Severity.CRITICAL], ImpactLevel.MEDIUM, ImpactLevel.CRITICAL),
        ([Severity.LOW], ImpactLevel.CRITICAL, ImpactLevel.CRITICAL),
    ],
)
def test_impact_rule_raises_the_commanders_level_by_open_incidents(
    severities: list[Severity], commander: ImpactLevel, expected: ImpactLevel
) -> None:
    assert ImpactRule().effective(commander, severities) is expected


def test_sector_level_rises_with_open_incidents_and_falls_back_to_the_commanders(
    db: Database,
) -> None:
    flow = Workflow(db)
    flow.set_impact("Anbar", ImpactLevel.MEDIUM, actor="cmd.saif", note="tension", now=NOW)
    incident = _open(db, "T1", Severity.HIGH)

    def level() -> str:
        with db.reader() as s:
            return {r.name: r.level for r in list_sectors(s)}["Anbar"]

    assert level() == "high"
    flow.transition(incident, Transition(A.ACKNOWLEDGE), actor="ops", now=NOW)
    flow.transition(incident, Transition(A.RESOLVE, outcome=Oc.TURNED_BACK), actor="ops", now=NOW)
    assert level() == "medium"
    with db.reader() as s:
        (entry,) = audit_entries(s, entity="sector")
    assert (entry.actor, entry.after and entry.after["set_level"]) == ("cmd.saif", "medium")

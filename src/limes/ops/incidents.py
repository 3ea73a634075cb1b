"""The incident workflow: states, the transitions people may make, and sector impact levels.

An incident is the human work around the alerts of one track. Its life is

    new ─acknowledge─► acknowledged ─assign─► assigned ─resolve─► resolved
                            └──────────resolve (no unit needed)──────┘

`assign` may be repeated while assigned (a different unit takes over). Resolving needs an
outcome, and none is ever assumed. `intercepted` needs a unit on the ground, so it is allowed
only from `assigned`. `humanitarian` means the people were refugees or migrants handed to the
humanitarian process: they are recorded apart from hostile outcomes and never counted as a
hostile interception. It is reachable wherever a group of people could be met — by a unit
sent (`assigned`) and by a post or patrol they walked up to (`acknowledged`) — so an operator
is never left with only hostile-sounding outcomes for people in need. Notes can be added in
any state and are not transitions. `workflow_table()` is this table as data, for clients
that must offer only what the server will accept.

This module is pure logic (no database): the store applies it and records who did what.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from limes.errors import OpsError
from limes.ops.alert import Severity


class IncidentState(StrEnum):
    """Where an incident is in its workflow."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class IncidentAction(StrEnum):
    """What a person can do to an incident (each a transition)."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    RESOLVE = "resolve"


class Outcome(StrEnum):
    """How an incident ended."""

    INTERCEPTED = "intercepted"
    TURNED_BACK = "turned_back"
    LOST = "lost"
    FALSE_ALARM = "false_alarm"
    HUMANITARIAN = "humanitarian"


class ImpactLevel(StrEnum):
    """A sector's impact level, as in EUROSUR (Regulation (EU) 2019/1896, Art. 34)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_IMPACT_ORDER = {level: i for i, level in enumerate(ImpactLevel)}
_SEVERITY_ORDER = {level: i for i, level in enumerate(Severity)}

#: The transition table: (state, action) -> next state.
TRANSITIONS: Mapping[tuple[IncidentState, IncidentAction], IncidentState] = {
    (IncidentState.NEW, IncidentAction.ACKNOWLEDGE): IncidentState.ACKNOWLEDGED,
    (IncidentState.ACKNOWLEDGED, IncidentAction.ASSIGN): IncidentState.ASSIGNED,
    (IncidentState.ASSIGNED, IncidentAction.ASSIGN): IncidentState.ASSIGNED,
    (IncidentState.ACKNOWLEDGED, IncidentAction.RESOLVE): IncidentState.RESOLVED,
    (IncidentState.ASSIGNED, IncidentAction.RESOLVE): IncidentState.RESOLVED,
}

#: Outcomes allowed when resolving from each state.
OUTCOMES_FROM: Mapping[IncidentState, frozenset[Outcome]] = {
    IncidentState.ACKNOWLEDGED: frozenset(
        {Outcome.TURNED_BACK, Outcome.LOST, Outcome.FALSE_ALARM, Outcome.HUMANITARIAN}
    ),
    IncidentState.ASSIGNED: frozenset(Outcome),
}


class IncidentError(OpsError):
    """A request the workflow refuses; the message says which state, what and what is allowed."""


def allowed_actions(state: IncidentState) -> list[IncidentAction]:
    """The actions allowed from a state, in workflow order."""
    return [action for action in IncidentAction if (state, action) in TRANSITIONS]


def allowed_outcomes(state: IncidentState) -> list[Outcome]:
    """The outcomes a resolve from this state accepts, in a fixed order (none when closed)."""
    allowed = OUTCOMES_FROM.get(state, frozenset())
    return [o for o in Outcome if o in allowed]


def workflow_table() -> dict[str, dict[str, object]]:
    """Per state: the actions allowed (with the state each leads to) and the outcomes a
    resolve accepts, exactly as `next_state` decides them."""
    return {
        state.value: {
            "actions": {a.value: TRANSITIONS[(state, a)].value for a in allowed_actions(state)},
            "outcomes": [o.value for o in allowed_outcomes(state)],
        }
        for state in IncidentState
    }


@dataclass(frozen=True, slots=True)
class Transition:
    """One person's request to move an incident on: what, to which unit, with what outcome."""

    action: IncidentAction
    unit_id: str | None = None
    outcome: Outcome | None = None
    note: str = ""


def next_state(state: IncidentState, transition: Transition) -> IncidentState:
    """The state after a transition, or `IncidentError` saying why it is refused."""
    action = transition.action
    target = TRANSITIONS.get((state, action))
    if target is None:
        allowed = ", ".join(allowed_actions(state)) or "none (the incident is closed)"
        raise IncidentError(
            f"cannot {action.value} an incident that is {state.value}; "
            f"allowed from {state.value}: {allowed}"
        )
    if action is IncidentAction.ASSIGN and not transition.unit_id:
        raise IncidentError("assign needs the unit_id of the unit sent")
    if action is not IncidentAction.ASSIGN and transition.unit_id is not None:
        raise IncidentError(f"unit_id is only for assign, not {action.value}")
    if action is IncidentAction.RESOLVE:
        outcomes = OUTCOMES_FROM[state]
        if transition.outcome is None:
            raise IncidentError(f"resolve needs an outcome: one of {_names(outcomes)}")
        if transition.outcome not in outcomes:
            raise IncidentError(
                f"cannot resolve an incident that is {state.value} as "
                f"{transition.outcome.value}; allowed from {state.value}: {_names(outcomes)}"
                + (" (assign a unit first)" if state is IncidentState.ACKNOWLEDGED else "")
            )
    elif transition.outcome is not None:
        raise IncidentError(f"outcome is only for resolve, not {action.value}")
    return target


def _names(outcomes: Iterable[Outcome]) -> str:
    return ", ".join(o.value for o in Outcome if o in set(outcomes))


def raise_severity(current: Severity, new: Severity) -> Severity:
    """The higher of two severities (an incident is as severe as its worst alert)."""
    return new if _SEVERITY_ORDER[new] > _SEVERITY_ORDER[current] else current


def max_impact(*levels: ImpactLevel) -> ImpactLevel:
    """The highest of some impact levels."""
    return max(levels, key=_IMPACT_ORDER.__getitem__)


@dataclass(frozen=True)
class ImpactRule:
    """How open incidents raise a sector's impact level above the commander's setting.

    The automatic level of a sector is the highest of:
    - by count of open (not resolved) incidents: `medium_at` or more → medium (default 1),
      `high_at` or more → high (default 3), `critical_at` or more → critical (default 6);
    - by the worst severity among them, mapped by `by_severity` (default: a high alert makes
      the sector high, a critical one critical; low and medium alerts add nothing beyond the
      count rule).
    The effective level is the higher of the automatic level and the level a commander set;
    when the incidents are resolved the sector falls back to the commander's level.
    """

    medium_at: int = 1
    high_at: int = 3
    critical_at: int = 6
    by_severity: Mapping[Severity, ImpactLevel] = field(
        default_factory=lambda: {
            Severity.LOW: ImpactLevel.LOW,
            Severity.MEDIUM: ImpactLevel.LOW,
            Severity.HIGH: ImpactLevel.HIGH,
            Severity.CRITICAL: ImpactLevel.CRITICAL,
        }
    )

    def __post_init__(self) -> None:
        if not 1 <= self.medium_at <= self.high_at <= self.critical_at:
            raise ValueError("ImpactRule needs 1 <= medium_at <= high_at <= critical_at")

    def automatic(self, open_severities: Iterable[Severity]) -> ImpactLevel:
        """The level open incidents of these severities call for."""
        severities = list(open_severities)
        n = len(severities)
        level = ImpactLevel.LOW
        for threshold, raised in (
            (self.medium_at, ImpactLevel.MEDIUM),
            (self.high_at, ImpactLevel.HIGH),
            (self.critical_at, ImpactLevel.CRITICAL),
        ):
            if n >= threshold:
                level = raised
        for severity in severities:
            level = max_impact(level, self.by_severity.get(severity, ImpactLevel.LOW))
        return level

    def effective(self, commander: ImpactLevel, open_severities: Iterable[Severity]) -> ImpactLevel:
        """The sector's level: the commander's, raised by its open incidents."""
        return max_impact(commander, self.automatic(open_severities))

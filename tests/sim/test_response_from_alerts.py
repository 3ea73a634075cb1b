"""The exercise's response starts from the live system's alerts, or from the referee."""

from __future__ import annotations

from dataclasses import replace

from limes.exercise.door import Door
from limes.exercise.run import simulate
from limes.scenario.model import Scenario
from limes.sim.config import SimConfig


def test_units_go_to_the_first_alert_on_a_group_not_to_its_first_report(small: Scenario) -> None:
    cfg = replace(SimConfig(), actors_per_day=200.0)
    by_alert = simulate(small, 6.0, None, 5, Door("in-process"), config=cfg)
    by_referee = simulate(small, 6.0, None, 5, Door("in-process"), config=cfg, dispatch="referee")
    alerted = {c.actor_id: c.first_alert_s for c in by_alert.scorecard.crossings if c.alerted}
    reported = {c.actor_id: c.first_report_s for c in by_referee.scorecard.crossings}
    assert by_alert.dispatches and by_referee.dispatches
    # Referee: each call at the group's first report as it was sent.
    for d in by_referee.dispatches:
        assert d.ordered_s == reported[d.actor_id]
    # Watch floor: a call only for a group the live system alerted on, never before its first
    # alert, and never before its first report.
    for d in by_alert.dispatches:
        assert d.actor_id in alerted
        assert d.ordered_s >= alerted[d.actor_id] - 1e-6
        first = next(c for c in by_alert.scorecard.crossings if c.actor_id == d.actor_id)
        assert first.first_report_s is not None and d.ordered_s >= first.first_report_s
    # Same groups, same reports up to the first calls: the two runs start alike.
    assert [a.id for a in by_alert.actors] == [a.id for a in by_referee.actors]

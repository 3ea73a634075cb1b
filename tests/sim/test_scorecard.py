"""The scorecard and files: alerts matched to truth, counts that add up, pages that stand alone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from limes.scenario.model import Scenario
from limes.sim.config import SimConfig
from limes.sim.run import SimulationResult, simulate
from limes.sim.scorecard import score

BUSY = SimConfig(actors_per_day=80.0)


@dataclass(frozen=True)
class Alert:
    time: datetime
    lon: float
    lat: float


@pytest.fixture(scope="module")
def run(small: Scenario, tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(small, 24, seed=5, config=BUSY, out_dir=tmp_path_factory.mktemp("ex"))


def test_counts_add_up_against_truth(run: SimulationResult) -> None:
    card = run.scorecard
    crossing = [a for a in run.actors if a.crossing]
    assert card.totals.attempted == len(crossing) > 5
    assert card.nuisance_groups == len(run.actors) - len(crossing) > 0
    assert sum(t.attempted for t in card.sectors) == card.totals.attempted
    assert card.totals.interrupted == sum(1 for a in crossing if a.stop_s is not None)
    assert card.totals.interrupted == sum(1 for d in run.dispatches if d.interrupted)
    seen = {e.actor_id for e in run.emissions if e.actor_id}
    assert card.totals.detected == len(seen & {a.id for a in crossing})
    assert card.false_alarm_reports == sum(1 for e in run.emissions if e.actor_id is None)
    # Every interrupted group was detected first, and its unit arrived before its goal.
    for d in run.dispatches:
        if d.interrupted:
            actor = next(a for a in run.actors if a.id == d.actor_id)
            assert actor.goal_s is not None and d.arrive_s < actor.goal_s


def test_intercepted_groups_are_not_seen_afterwards(run: SimulationResult) -> None:
    stop = {a.id: a.stop_s for a in run.actors if a.stop_s is not None}
    assert stop
    assert all(e.time_s < stop[e.actor_id] for e in run.emissions if e.actor_id in stop)


def test_alerts_at_groups_count_as_alerted_and_others_as_false(
    small: Scenario, run: SimulationResult
) -> None:
    start = run.config.start
    crossing = [a for a in run.actors if a.crossing and a.cross_s is not None]
    alerts = []
    for a in crossing[:4]:
        assert a.cross_s is not None
        x, y = a.position(np.array([a.cross_s]))
        lon, lat = small.frame.to_lonlat(x[0], y[0])
        alerts.append(Alert(start + timedelta(seconds=a.cross_s), float(lon), float(lat)))
    far_lon, far_lat = small.frame.to_lonlat(*small.border.point_at(5000.0, 9000.0))
    alerts.append(Alert(start + timedelta(hours=1), float(far_lon), float(far_lat)))
    card = score(small, run.actors, run.emissions, run.dispatches, 24.0, 5, run.config,
                 alerts=alerts)  # fmt: skip
    assert card.totals.alerted == len({a.id for a in crossing[:4]})
    assert card.false_alerts == 1
    assert card.false_alerts_per_day == pytest.approx(1.0)
    alerted = {c.actor_id: c for c in card.crossings if c.alerted}
    for a in crossing[:4]:
        assert alerted[a.id].first_alert_s == pytest.approx(a.cross_s, abs=1e-3)


def test_files_hold_what_was_sent_and_what_happened(run: SimulationResult) -> None:
    d = run.files["detections.jsonl"].parent
    lines = (d / "detections.jsonl").read_bytes().splitlines()
    assert len(lines) == len(run.emissions)
    for line, e in zip(lines, run.emissions, strict=True):
        row = json.loads(line)
        assert row["message"] == json.loads(e.payload)
        assert row["actor_id"] == e.actor_id and row["send_s"] == e.send_s
    truth = [json.loads(t) for t in (d / "truth.jsonl").read_bytes().splitlines()]
    kinds = [t["kind"] for t in truth]
    assert kinds.count("unit") == len(run.units)
    assert len(truth) == len(run.actors) + len(run.units)
    for t in truth:
        assert len(t["times_s"]) == len(t["lon"]) == len(t["lat"])
        assert t["times_s"] == sorted(t["times_s"])
    card = json.loads((d / "scorecard.json").read_text())
    assert card["totals"]["attempted"] == run.scorecard.totals.attempted
    html = (d / "scorecard.html").read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert all(s.name in html for s in run.scorecard.sectors)


def test_scorecard_html_escapes_names(small: Scenario, tmp_path: Path) -> None:
    from limes.sim.outputs import scorecard_html

    sectors = [dict(s.model_dump(), name="<b>west</b>") for s in small.spec.sectors[:1]]
    sectors.append(small.spec.sectors[1].model_dump())
    from sim_fixtures import small_scenario

    odd = small_scenario(sectors=sectors)
    card = simulate(odd, 2, seed=1, config=BUSY).scorecard
    page = scorecard_html(card)
    assert "<b>west</b>" not in page and "&lt;b&gt;west&lt;/b&gt;" in page


def test_a_group_on_a_plans_path_is_set_against_that_paths_km(small: Scenario) -> None:
    from limes.analysis.result import Assessment, KmResult, Run, Weakness
    from limes.scenario.schema import Light, Mode
    from limes.sim.actors import Actor
    from limes.sim.routes import Route

    # Km 3's best path drifts along the line and meets it in km 4; a straight route meets it
    # in km 4 too. The plan says 0.2 for km 3 and 0.9 for km 4.
    s = np.array([3500.0, 4400.0, 4600.0])
    x, y = small.border.point_at(s, np.array([-2000.0, 0.0, 2000.0]))
    xy = np.column_stack([x, y])
    times = np.array([0.0, 1800.0, 3600.0])
    profile = small.spec.threats[0]
    per_km = [KmResult(float(k), 0.2 if k == 3 else 0.9, "west", Weakness.SEEN_TOO_LATE, 0.5, 0.5,
                       p_easi=0.2 if k == 3 else 0.9) for k in range(11)]  # fmt: skip
    plan = Assessment(small.name, 100.0, [Run(Mode.FOOT, li, per_km, []) for li in Light])
    actors = [
        Actor(f"a{i}", i, profile, True, 2, Route(xy, source, km), times, xy, cross_s=1800.0,
              crossing_chainage_m=4400.0, goal_s=3600.0)
        for i, (source, km) in enumerate((("plan", 3), ("straight", None)))
    ]  # fmt: skip
    card = score(small, actors, [], [], 2.0, 0, SimConfig(), plan)
    on_path, straight = card.crossings
    assert (on_path.chainage_km, on_path.plan_km, on_path.plan_p) == (4, 3, 0.2)
    assert (straight.chainage_km, straight.plan_km, straight.plan_p) == (4, 4, 0.9)
    assert card.totals.plan_p_mean == pytest.approx(0.55)

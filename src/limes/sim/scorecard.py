"""The exercise scorecard: what was tried, seen, alerted and stopped, against truth and the plan.

Per crossing group (nuisance groups do not cross): the km it crossed, the light then, whether a
sensor reported it (`detected`), whether the live system raised an alert for it (`alerted`:
an alert within `alert_match_m` of the group's true position at the alert's time, within
`alert_match_s` of its presence; only when alerts were given), whether a unit reached it in
time (`interrupted`: by a unit, or at the line by a patrol when patrols are played; `patrol`
says which groups crossed where a patrol was and whether it caught them), and the plan's
P(interruption) for that km, mode and light (for a group on the plan's best path of a km,
that km's, `plan_km`, wherever the path meets the line). Per sector
and in total: counts, the observed interruption rate with its 95 % Wilson interval beside the
plan's mean P, detection-to-alert times, and false alerts per day (alerts that match no
crossing group: nuisance, false alarms, or nothing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from limes.analysis.monte_carlo import wilson
from limes.analysis.result import Assessment
from limes.scenario.model import Scenario
from limes.sim.actors import Actor
from limes.sim.config import SimConfig
from limes.sim.daylight import is_day, light_of
from limes.sim.emission import Emission
from limes.sim.patrols import PatrolResult
from limes.sim.response import Dispatch
from limes.sim.routes import plan_run


class AlertLike(Protocol):
    """What the scorecard needs of an alert (`limes.ops.alert.Alert` has it)."""

    @property
    def time(self) -> datetime: ...
    @property
    def lon(self) -> float: ...
    @property
    def lat(self) -> float: ...


@dataclass(frozen=True)
class CrossingOutcome:
    """One crossing group, as truth, the live system and the plan saw it."""

    actor_id: str
    profile: str
    stance: str
    mode: str
    group_size: int
    route: str
    sector: str
    chainage_km: int | None
    light: str | None
    start_s: float
    cross_s: float | None
    goal_s: float | None
    outcome: str  # interrupted, crossed, blocked, unfinished
    detected: bool
    reports: int
    first_detection_s: float | None
    first_report_s: float | None
    alerted: bool | None
    first_alert_s: float | None
    unit_id: str | None
    plan_p: float | None
    plan_p_easi: float | None
    patrol: str | None = None  # caught, missed (a patrol was there), None: no patrol there
    plan_km: int | None = None  # the km whose plan P is shown (a plan route's own km)

    @property
    def interrupted(self) -> bool:
        return self.outcome == "interrupted"

    @property
    def finished(self) -> bool:
        """Its outcome is known and is a question for the response: caught or through."""
        return self.outcome in ("interrupted", "crossed")


@dataclass(frozen=True)
class Tally:
    """Counts and rates over a set of crossings (a sector, or all)."""

    name: str
    attempted: int
    finished: int
    blocked: int
    detected: int
    alerted: int | None
    interrupted: int
    p_observed: float | None
    p_low: float | None
    p_high: float | None
    plan_p_mean: float | None
    plan_p_easi_mean: float | None
    plan_crossings: int
    detection_to_alert_s: dict[str, float] | None
    patrol_caught: int | None = None


@dataclass(frozen=True)
class Scorecard:
    """The whole exercise's score, ready for JSON."""

    scenario: str
    seed: int
    hours: float
    start: str
    totals: Tally
    sectors: list[Tally]
    crossings: list[CrossingOutcome]
    nuisance_groups: int
    reports: int
    false_alarm_reports: int
    alerts: int | None
    false_alerts: int | None
    false_alerts_per_day: float | None
    plan: bool
    notes: list[str] = field(default_factory=list)
    patrols: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (floats rounded to what a reader needs)."""
        return _rounded(asdict(self))


def score(
    scenario: Scenario,
    actors: Sequence[Actor],
    emitted: Sequence[Emission],
    dispatches: Sequence[Dispatch],
    hours: float,
    seed: int,
    cfg: SimConfig,
    assessment: Assessment | None = None,
    alerts: Sequence[AlertLike] | None = None,
    patrols: PatrolResult | None = None,
) -> Scorecard:
    """Score a run: truth (actors), what sensors sent, what units did, the alerts, the plan,
    and the patrols when they were played."""
    horizon = hours * 3600.0
    by_actor: dict[str, list[Emission]] = {}
    for e in emitted:
        if e.actor_id is not None:
            by_actor.setdefault(e.actor_id, []).append(e)
    unit_of = {d.actor_id: d.unit_id for d in dispatches}
    first_alert = _match_alerts(scenario, actors, alerts, cfg) if alerts is not None else None
    outcomes = [
        _outcome(
            scenario,
            a,
            by_actor.get(a.id, []),
            unit_of.get(a.id),
            first_alert,
            horizon,
            cfg,
            assessment,
            patrols,
        )
        for a in actors
        if a.crossing
    ]
    played = patrols is not None
    sectors = [
        _tally(s.name, [o for o in outcomes if o.sector == s.name], alerts is not None, played)
        for s in scenario.spec.sectors
    ]
    n_alerts = len(alerts) if alerts is not None else None
    false_alerts = None
    per_day = None
    if alerts is not None and first_alert is not None:
        false_alerts = int(first_alert.pop("__false__", 0))
        per_day = false_alerts / (hours / 24.0) if hours > 0 else None
    notes = []
    if assessment is None:
        notes.append("no assessment given: the plan's P(interruption) is not shown")
    if alerts is None:
        notes.append("no alerts given: alerted counts and false alerts are not scored")
    return Scorecard(
        scenario=scenario.name,
        seed=seed,
        hours=hours,
        start=cfg.start.isoformat(),
        totals=_tally("all", outcomes, alerts is not None, played),
        sectors=sectors,
        crossings=outcomes,
        nuisance_groups=sum(1 for a in actors if not a.crossing),
        reports=len(emitted),
        false_alarm_reports=sum(1 for e in emitted if e.actor_id is None),
        alerts=n_alerts,
        false_alerts=false_alerts,
        false_alerts_per_day=per_day,
        plan=assessment is not None,
        notes=notes,
        patrols=patrols.summary() if patrols is not None else None,
    )


def _outcome(
    scenario: Scenario,
    a: Actor,
    seen: list[Emission],
    unit_id: str | None,
    first_alert: dict[str, Any] | None,
    horizon: float,
    cfg: SimConfig,
    assessment: Assessment | None,
    patrols: PatrolResult | None = None,
) -> CrossingOutcome:
    if a.stop_s is not None and a.stop_s < horizon:
        outcome = "interrupted"
    elif a.goal_s is not None and a.goal_s < horizon:
        outcome = "crossed"
    elif a.blocked and a.end_s < horizon:
        outcome = "blocked"
    else:
        outcome = "unfinished"
    s_m = a.crossing_chainage_m
    if s_m is None:
        s_m = float(scenario.locate(a.xy[0, 0], a.xy[0, 1])[0])
    sector = scenario.spec.sectors[int(scenario.sector_index(s_m))].name
    light = None
    plan_p = plan_easi = None
    km = math.floor(s_m / 1000.0)
    # A group on the plan's best path of a km is that km's crossing, wherever the path meets
    # the line: its P is the one to set beside the group's outcome.
    plan_km = a.route.plan_km if a.route.plan_km is not None else km
    if a.cross_s is not None:
        lon, _ = scenario.frame.to_lonlat(*a.position(np.array([a.cross_s])))
        day = bool(is_day(cfg.start, a.cross_s, float(lon[0]), cfg.day_start_h, cfg.day_end_h))
        li = light_of(day)
        light = li.value
        run = plan_run(assessment, a.mode, li)
        if run is not None:
            for k in run.per_km:
                if int(k.chainage_km) == plan_km:
                    plan_p, plan_easi = k.p_interruption, k.p_easi
                    break
    alerted = None
    t_alert = None
    if first_alert is not None:
        t_alert = first_alert.get(a.id)
        alerted = t_alert is not None
    return CrossingOutcome(
        actor_id=a.id,
        profile=a.profile.name,
        stance=a.stance.value,
        mode=a.mode.value,
        group_size=a.group_size,
        route=a.route.source,
        sector=sector,
        chainage_km=km if a.crossing_chainage_m is not None else None,
        light=light,
        start_s=a.start_s,
        cross_s=a.cross_s,
        goal_s=a.goal_s,
        outcome=outcome,
        detected=bool(seen),
        reports=len(seen),
        first_detection_s=min((e.time_s for e in seen), default=None),
        first_report_s=min((e.send_s for e in seen), default=None),
        alerted=alerted,
        first_alert_s=t_alert,
        unit_id=unit_id,
        plan_p=plan_p,
        plan_p_easi=plan_easi,
        patrol=None
        if patrols is None or a.id not in patrols.patrolled
        else ("caught" if a.id in patrols.caught else "missed"),
        plan_km=plan_km if plan_p is not None else None,
    )


def matched_actor(
    scenario: Scenario, actors: Sequence[Actor], alert: AlertLike, cfg: SimConfig
) -> tuple[int, float, float, float] | None:
    """(actor index, alert second, x, y) of the group an alert is about, or None.

    The group nearest the alert's position at the alert's time, within `alert_match_m` (and
    alive within `alert_match_s` of it): the one matching the scorecard uses throughout.
    """
    t = (alert.time - cfg.start).total_seconds()
    ax, ay = scenario.frame.to_xy(alert.lon, alert.lat)
    best: tuple[float, int] | None = None
    for k, a in enumerate(actors):
        if not (a.start_s - cfg.alert_match_s <= t <= a.end_s + cfg.alert_match_s):
            continue
        px, py = a.position(np.array([t]))
        d = float(math.hypot(float(px[0]) - float(ax), float(py[0]) - float(ay)))
        if d <= cfg.alert_match_m and (best is None or d < best[0]):
            best = (d, k)
    if best is None:
        return None
    return best[1], t, float(ax), float(ay)


def first_alert_calls(
    scenario: Scenario,
    actors: Sequence[Actor],
    raised: Sequence[tuple[float, AlertLike]],
    cfg: SimConfig,
) -> dict[int, tuple[float, float, float]]:
    """Per crossing group (actor index): when its first alert was raised, and where it put it."""
    out: dict[int, tuple[float, float, float]] = {}
    for when, alert in sorted(raised, key=lambda r: r[0]):
        match = matched_actor(scenario, actors, alert, cfg)
        if match is None or not actors[match[0]].crossing or match[0] in out:
            continue
        out[match[0]] = (max(when, match[1]), match[2], match[3])
    return out


def _match_alerts(
    scenario: Scenario,
    actors: Sequence[Actor],
    alerts: Sequence[AlertLike],
    cfg: SimConfig,
) -> dict[str, Any]:
    """First alert time (s) per crossing actor id; '__false__': alerts matching none of them."""
    out: dict[str, Any] = {}
    false = 0
    for alert in alerts:
        match = matched_actor(scenario, actors, alert, cfg)
        if match is None or not actors[match[0]].crossing:
            false += 1
            continue
        aid, t = actors[match[0]].id, match[1]
        out[aid] = min(out.get(aid, t), t)
    out["__false__"] = false
    return out


def _tally(
    name: str, outs: Sequence[CrossingOutcome], with_alerts: bool, with_patrols: bool = False
) -> Tally:
    finished = [o for o in outs if o.finished]
    hits = sum(o.interrupted for o in finished)
    p = lo = hi = None
    if finished:
        p = hits / len(finished)
        lo, hi = wilson(hits, len(finished))
    planned = [o for o in finished if o.plan_p is not None]
    plan_p = float(np.mean([o.plan_p for o in planned])) if planned else None
    easi = [o.plan_p_easi for o in planned if o.plan_p_easi is not None]
    delays = [
        o.first_alert_s - o.first_detection_s
        for o in outs
        if o.first_alert_s is not None and o.first_detection_s is not None
    ]
    d2a = None
    if delays:
        arr = np.asarray(delays)
        d2a = {
            "mean": float(arr.mean()),
            "median": float(np.median(arr)),
            "p90": float(np.quantile(arr, 0.9)),
        }
    return Tally(
        name=name,
        attempted=len(outs),
        finished=len(finished),
        blocked=sum(o.outcome == "blocked" for o in outs),
        detected=sum(o.detected for o in outs),
        alerted=sum(bool(o.alerted) for o in outs) if with_alerts else None,
        interrupted=hits,
        p_observed=p,
        p_low=lo,
        p_high=hi,
        plan_p_mean=plan_p,
        plan_p_easi_mean=float(np.mean(easi)) if easi else None,
        plan_crossings=len(planned),
        detection_to_alert_s=d2a,
        patrol_caught=sum(o.patrol == "caught" for o in outs) if with_patrols else None,
    )


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value

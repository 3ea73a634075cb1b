"""`simulate`: one exercise from scenario to scorecard, sending reports through a sender.

The run, each step a function of the seed and the scenario only:

1. groups arrive and walk their routes (`actors`, `routes`);
2. every sensor draws its detections of every group step and its false alarms (`emission`);
3. latency, outages and per-sensor numbering give the reports in sending order;
4. with patrols, each day's schedule is drawn from the patrol game and a patrol on a group's
   stretch in its window catches it at the line with the scenario's chance (`patrols`); the
   automatic dispatcher sends units to first reports; groups reached in time stop, and what
   sensors would have seen of them afterwards is dropped (`response`);
5. the reports leave through the sender, paced by the clock (`clock`, `senders`);
6. the scorecard compares truth, reports, alerts returned by the sender and the plan.

Random streams are separate per step (numpy `SeedSequence.spawn`), so the same seed sends the
same bytes whatever the pacing or the sender.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from limes.analysis.result import Assessment
from limes.clock import SimClock
from limes.errors import SimError
from limes.scenario.model import Scenario
from limes.sim.actors import Actor, Ground, plan_actors
from limes.sim.config import Outage, SimConfig
from limes.sim.emission import (
    Emission,
    Reports,
    deliver,
    detect,
    emissions,
    false_alarms,
    hit_reports,
    random_outages,
    sample_actors,
    sim_sensors,
)
from limes.sim.outputs import write_outputs
from limes.sim.patrols import PatrolResult, patrol_catches, patrol_roster
from limes.sim.response import Dispatch, UnitTrack, UnitTravel, dispatch, unit_tracks
from limes.sim.scorecard import AlertLike, Scorecard, first_alert_calls, score
from limes.sim.senders import Sender

Progress = Callable[[str, int, int], None]
#: The watch floor's alerts on some reports: what a live system raises when they are sent, each
#: with the exercise second (from the start) at which it was raised.
AlertSource = Callable[[Sequence[Emission]], list[tuple[float, AlertLike]]]


class SimulationError(SimError):
    """An exercise that cannot run as asked; the message says which argument and why."""


@dataclass
class SimulationResult:
    """Everything one exercise produced."""

    scenario: str
    seed: int
    hours: float
    config: SimConfig
    actors: list[Actor]
    emissions: list[Emission]
    dispatches: list[Dispatch]
    units: list[UnitTrack]
    outages: list[Outage]
    alerts: list[AlertLike]
    scorecard: Scorecard
    files: dict[str, Path] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    patrols: PatrolResult | None = None

    def detections_bytes(self) -> bytes:
        """The sent messages, one per line, in sending order (what determinism is judged on)."""
        return b"".join(e.payload + b"\n" for e in self.emissions)


def simulate(
    scenario: Scenario,
    hours: float,
    speed: float | None = None,
    seed: int = 0,
    sender: Sender | None = None,
    out_dir: str | Path | None = None,
    assessment: Assessment | None = None,
    progress: Progress | None = None,
    *,
    config: SimConfig | None = None,
    start: datetime | None = None,
    alerts: Sequence[AlertLike] | None = None,
    clock: SimClock | None = None,
    respond_to: AlertSource | None = None,
    patrols: bool = False,
) -> SimulationResult:
    """Run one exercise over `hours` of simulated time and score it.

    `speed`: simulated seconds per wall second (1 … 600) or None, as fast as possible.
    `sender`: where the reports go (None: nowhere, they are still kept and written).
    `assessment`: the plan (informed groups pick its weak km and paths; the scorecard shows its
    P). `start` overrides `config.start` (e.g. the present, for a live system on the wall
    clock). `alerts`: alerts taken from the live system afterwards, for the scorecard, in
    addition to those the sender returns. `clock` overrides the clock built from `speed`.
    `patrols`: play the patrol game's daily schedules against the crossings (`sim.patrols`;
    needs `assessment`, whose weak stretches they cover).
    """
    if not (isinstance(hours, int | float) and 0 < hours <= 24 * 31):
        raise SimulationError(f"hours must be a number in (0, 744], got {hours!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SimulationError(f"seed must be a non-negative integer, got {seed!r}")
    if patrols and assessment is None:
        raise SimulationError("patrols need the plan (an assessment): its weak stretches")
    cfg = config or SimConfig()
    if start is not None:
        cfg = replace(cfg, start=start)
    try:
        pace = clock or SimClock(cfg.start, speed)
    except ValueError as exc:
        raise SimulationError(str(exc)) from None
    report = progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[name] = now - t0
        t0 = now

    horizon = float(hours) * 3600.0
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    r_actors, r_detect, r_hits, r_false, r_outage, r_deliver, r_units = streams

    dem = scenario.terrain()
    ground = Ground.of(scenario, dem)
    report("terrain", 1, 1)
    lap("terrain")
    actors = plan_actors(scenario, ground, hours, cfg, r_actors, assessment)
    report("actors", len(actors), len(actors))
    lap("actors")

    sensors = sim_sensors(scenario)
    samples = sample_actors(actors, cfg.step_s, horizon)
    hits = detect(scenario, dem, sensors, samples, cfg, r_detect)
    reports = Reports.concat(
        [
            hit_reports(hits, samples, actors, cfg, r_hits),
            false_alarms(scenario, sensors, horizon, cfg, r_false),
        ]
    )
    outages = [*cfg.outages, *random_outages(sensors, horizon, cfg, r_outage)]
    try:
        reports = deliver(reports, sensors, outages, r_deliver)
    except ValueError as exc:
        raise SimulationError(str(exc)) from None
    report("sensors", len(sensors), len(sensors))
    lap("sensors")

    patrolled = None
    if patrols:
        # A stream of its own (after the API dispatcher's), so a run without patrols is
        # unchanged and the schedules do not move with any other step's draws.
        r_patrol = np.random.default_rng(np.random.SeedSequence(seed).spawn(9)[8])
        roster = patrol_roster(scenario, assessment, math.ceil(hours / 24.0) + 2, r_patrol)
        patrolled = patrol_catches(scenario, actors, roster, cfg.start, horizon, r_patrol)
        report("patrols", len(roster.duties), len(roster.duties))
        lap("patrols")

    travel = UnitTravel(scenario, cfg)
    called = None
    if respond_to is not None:
        # The watch floor's response: units go to the live system's first alert on a group.
        # Reports before that alert are the same whatever the response does afterwards, so
        # the alerts of a first pass over all reports are the alerts the floor would have had.
        raised = respond_to(emissions(reports, scenario, sensors, actors, cfg.start, cfg.seq_start))
        called = first_alert_calls(scenario, actors, raised, cfg)
    calls = dispatch(scenario, travel, actors, reports, cfg, r_units, called)
    if patrolled is not None:
        patrolled = patrolled.after_units(actors)
    # One more slot for false alarms (actor -1), which no interception silences.
    stop = np.array([a.stop_s if a.stop_s is not None else np.inf for a in actors] + [np.inf])
    seen_after = reports.time_s >= stop[reports.actor]
    reports = reports.take(~seen_after & (reports.time_s < horizon))
    tracks = unit_tracks(travel, calls)
    report("response", len(calls), len(calls))
    lap("response")

    emitted = emissions(reports, scenario, sensors, actors, cfg.start, cfg.seq_start)
    lap("messages")
    collected: list[AlertLike] = list(alerts or [])
    if sender is not None:
        collected += send_emissions(emitted, sender, pace, report)
    lap("send")

    card = score(
        scenario, actors, emitted, calls, float(hours), seed, cfg, assessment,
        collected if (alerts is not None or collected) else None, patrolled,
    )  # fmt: skip
    result = SimulationResult(
        scenario.name, seed, float(hours), cfg, actors, emitted, calls, tracks, outages,
        collected, card, timings_s=timings, patrols=patrolled,
    )  # fmt: skip
    if out_dir is not None:
        result.files = write_outputs(
            out_dir, scenario, card, actors, tracks, emitted, horizon, cfg.truth_step_s
        )
    lap("outputs")
    return result


def send_emissions(
    emitted: Sequence[Emission],
    sender: Sender,
    clock: SimClock,
    report: Progress | None = None,
) -> list[AlertLike]:
    """Send reports in batches of one send second (≤ 1000), each when the clock reaches it.

    Opens and closes the sender; returns what the sender handed back (alerts).
    """
    report = report or (lambda stage, done, total: None)
    got: list[AlertLike] = []
    sender.open()
    try:
        clock.begin()
        i = 0
        n = len(emitted)
        while i < n:
            second = int(emitted[i].send_s)
            j = i
            while j < n and int(emitted[j].send_s) == second and j - i < 1000:
                j += 1
            clock.wait_until(emitted[i].send_s)
            back = sender.send(emitted[i:j])
            if back:
                got.extend(back)
            i = j
            report("send", i, n)
    finally:
        sender.close()
    return got

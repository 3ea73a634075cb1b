"""`limes simulate`: an exercise sent through a door, scored with the live system's alerts."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from limes.analysis.result import Assessment
from limes.clock import ExerciseClock, SimClock
from limes.exercise.door import Door
from limes.exercise.in_process import PipelineSender
from limes.exercise.read_back import ReadBackError, read_alerts
from limes.ops.plan_lookup import PlanLookup
from limes.scenario.model import Scenario
from limes.sim import run as sim_run
from limes.sim.config import SimConfig
from limes.sim.dispatcher import ApiDispatchConfig, ApiDispatcher, ApiDispatchError, pursue
from limes.sim.emission import Emission
from limes.sim.outputs import write_outputs
from limes.sim.run import Progress, SimulationError, SimulationResult
from limes.sim.scorecard import AlertLike, score
from limes.sim.senders import Sender


def simulate(
    scenario: Scenario,
    hours: float,
    speed: float | None = None,
    seed: int = 0,
    door: Door | None = None,
    out_dir: str | Path | None = None,
    assessment: Assessment | None = None,
    progress: Progress | None = None,
    *,
    config: SimConfig | None = None,
    start: datetime | None = None,
    plan: PlanLookup | None = None,
    settle_s: float = 15.0,
    dispatch: str | None = None,
    dispatch_token: str | None = None,
    dispatch_config: ApiDispatchConfig | None = None,
    patrols: bool = False,
) -> SimulationResult:
    """`limes simulate`: `limes.sim.run.simulate` through a door; the scorecard counts the live
    system's alerts.

    A remote door is paced by the shared `ExerciseClock(start, speed)`: the live system must
    run on the same (`limes serve --exercise-start START --exercise-speed SPEED`), or on the
    wall clock with `speed=1` and `start` the present. In process, the pipeline's clock follows
    the reports sent, at any speed. With `door.api`, the alerts stored from `start` on are read
    back `settle_s` (wall seconds) after the last report, so the live system has released what
    its tracker still held. `plan` sets the in-process pipeline's alert severities.

    `dispatch`: "alerts" (the default in process): units go to the live system's first alert
    on each group (`sim.run.simulate`'s `respond_to`, the alerts of the in-process pipeline);
    "referee" (the default otherwise; "internal" is its former name): the simulator's referee
    sends units to each group's first report, from ground truth; or "api": the
    live system's incidents are worked through its API (`door.api`, else an HTTP door's
    address) with `dispatch_token`, a
    commander's (`ApiDispatcher`), and the units sent move, report and intercept in the run
    (`limes.sim.dispatcher.pursue`, `dispatch_config`); needs a remote door.

    `patrols`: each day's patrols drawn from the patrol game over the plan's weak stretches
    catch crossings at the line (`limes.sim.patrols`; needs `assessment`).
    """
    door = door or Door()
    cfg = config or SimConfig()
    if start is not None:
        cfg = replace(cfg, start=start)
    if not (isinstance(settle_s, int | float) and 0 <= settle_s <= 3600):
        raise SimulationError(f"settle must be within 0 … 3600 s, got {settle_s!r}")
    clock: SimClock | None = None
    if door.remote:
        if speed is None:
            raise SimulationError(
                "sending to a live system needs a speed (1 for real time; faster only when the "
                "live system runs on the same exercise clock)"
            )
        try:
            clock = ExerciseClock(cfg.start, speed)
        except ValueError as exc:
            raise SimulationError(str(exc)) from None
    sender = door.sender(scenario, cfg.start, plan)
    if dispatch is None:
        dispatch = "alerts" if isinstance(sender, PipelineSender) else "referee"
    if dispatch == "internal":
        dispatch = "referee"
    if dispatch not in ("alerts", "referee", "api"):
        raise SimulationError(f"dispatch must be 'alerts', 'referee' or 'api', not {dispatch!r}")
    respond_to = None
    if dispatch == "alerts":
        if not isinstance(sender, PipelineSender):
            raise SimulationError(
                "the response from the live system's alerts is run in process (--in-process); "
                "with a remote live system use dispatch 'api', or 'referee'"
            )
        respond_to = alert_source(scenario, cfg.start, plan)
    if dispatch == "api":
        # An HTTP door's address is the live system's API; another door names it in `api`.
        api = door.api or (door.address if door.kind == "http" else None)
        if not door.remote or api is None or clock is None or sender is None:
            raise SimulationError(
                "dispatch through the API needs a live system: a remote door and its API (--api)"
            )
        if not dispatch_token:
            raise SimulationError("dispatch through the API needs a commander's token")
        result = _run_dispatched(
            scenario, hours, seed, sender, clock, api, dispatch_token, dispatch_config,
            assessment, progress, cfg, patrols,
        )  # fmt: skip
    else:
        result = sim_run.simulate(
            scenario, hours, speed, seed, sender, out_dir, assessment, progress,
            config=cfg, clock=clock, respond_to=respond_to, patrols=patrols,
        )  # fmt: skip
    notes: list[str] = []
    alerts: list[AlertLike] | None = None
    if isinstance(sender, PipelineSender):
        # Every alert of the pipeline is known here, none included.
        alerts = [*result.alerts, *sender.flushed]
        if sender.rejected:
            notes.append(f"{sender.rejected} reports refused by the live JSON reader")
    if door.api is not None and door.token is not None:
        if progress is not None:
            progress("settle", 0, 1)
        time.sleep(settle_s)
        until = cfg.start + timedelta(seconds=hours * 3600.0 + cfg.alert_match_s)
        try:
            alerts = list(read_alerts(door.api, door.token, cfg.start, until))
        except ReadBackError as exc:
            notes.append(f"alerts not read back: {exc}")
    if alerts is None and not notes and dispatch != "api":
        return result
    # Dispatched through the API, the run was scored before its units caught anyone.
    return rescore(result, scenario, alerts, assessment, out_dir, notes)


class _Timed:
    """A sender that keeps each alert with the exercise second its batch was sent at."""

    def __init__(self, inner: PipelineSender) -> None:
        self.inner = inner
        self.raised: list[tuple[float, AlertLike]] = []
        self.last_s = 0.0

    def open(self) -> None:
        self.inner.open()

    def send(self, batch: Sequence[Emission]) -> list[AlertLike]:
        when = max(e.send_s for e in batch) if batch else 0.0
        self.last_s = when
        alerts = list(self.inner.send(batch))
        self.raised += [(when, a) for a in alerts]
        return alerts

    def close(self) -> None:
        self.inner.close()


def alert_source(
    scenario: Scenario, start: datetime, plan: PlanLookup | None = None
) -> sim_run.AlertSource:
    """The alerts a fresh in-process live system raises on some reports, each with when.

    The reports go through the live JSON reader into a pipeline of its own, batch by send
    second as `send_emissions` sends them; an alert is raised when its batch is sent (the
    tracker's reorder buffer flushed at the end counts at the last one).
    """

    def raise_alerts(emitted: Sequence[Emission]) -> list[tuple[float, AlertLike]]:
        timed = _Timed(PipelineSender.standalone(scenario, start, plan))
        sim_run.send_emissions(emitted, timed, SimClock(start, None))
        flushed = [(timed.last_s, a) for a in timed.inner.flushed]
        return [*timed.raised, *flushed]

    return raise_alerts


def _run_dispatched(
    scenario: Scenario,
    hours: float,
    seed: int,
    sender: Sender,
    clock: SimClock,
    api: str,
    token: str,
    dispatch_config: ApiDispatchConfig | None,
    assessment: Assessment | None,
    progress: Progress | None,
    cfg: SimConfig,
    patrols: bool = False,
) -> SimulationResult:
    """The run made without the internal dispatcher, sent with units dispatched via the API."""
    made = sim_run.simulate(
        scenario, hours, None, seed, None, None, assessment, progress,
        config=replace(cfg, dispatch=False), patrols=patrols,
    )  # fmt: skip
    dispatcher = ApiDispatcher(api, token)
    try:
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(8)[7])
        done = pursue(scenario, made.actors, made.emissions, sender, clock, dispatcher,
                      dispatch_config, rng, begin_s=0.0)  # fmt: skip
    except ApiDispatchError as exc:
        raise SimulationError(f"dispatch through the API: {exc}") from None
    finally:
        dispatcher.close()
    return replace(made, emissions=done.sent, dispatches=done.dispatches, units=done.tracks,
                   alerts=done.alerts)  # fmt: skip


def rescore(
    result: SimulationResult,
    scenario: Scenario,
    alerts: Sequence[AlertLike] | None,
    assessment: Assessment | None = None,
    out_dir: str | Path | None = None,
    notes: Sequence[str] = (),
) -> SimulationResult:
    """The result scored again with these alerts and extra notes; its files rewritten."""
    card = score(
        scenario, result.actors, result.emissions, result.dispatches, result.hours,
        result.seed, result.config, assessment, alerts, result.patrols,
    )  # fmt: skip
    card.notes.extend(notes)
    out = replace(result, scorecard=card, alerts=list(alerts or []))
    if out_dir is not None:
        cfg = result.config
        out.files = write_outputs(
            out_dir, scenario, card, result.actors, result.units, result.emissions,
            result.hours * 3600.0, cfg.truth_step_s,
        )  # fmt: skip
    return out

"""The `limes` command: one thin function per verb over the public functions of the modules.

User errors (a bad scenario, a file that cannot be written) are printed as plain messages and
exit with status 2; a traceback is a bug. Heavy modules are imported inside the verbs so that
`limes --help` and `limes scenario show` start fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from limes.errors import LimesError, UsageError
from limes.model_options import build, with_options_of
from limes.service.config import ServiceConfig

if TYPE_CHECKING:
    from datetime import datetime

    from rich.progress import TaskID

    from limes.scenario.summary import ScenarioSummary
    from limes.sim.scorecard import Scorecard

USER_ERROR = 2

app = typer.Typer(
    name="limes",
    help="Plan, watch, share and exercise the defence of a long land border.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
scenario_app = typer.Typer(
    help="Scenarios: the digital twin of a border (line, sectors, barriers, sensors, units).",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")
users_app = typer.Typer(
    help="Users and their tokens (roles: viewer, operator, commander, sensor, admin).",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")
sharing_app = typer.Typer(
    help="Sharing: partners, and why an object is or is not released to one.", no_args_is_help=True
)
app.add_typer(sharing_app, name="sharing")
federation_app = typer.Typer(
    help="Federation of command sites over NATS JetStream (docs/federation.md).",
    no_args_is_help=True,
)
app.add_typer(federation_app, name="federation")
intel_app = typer.Typer(
    help="Intelligence from open reports: texts in, graded draft reports out.",
    no_args_is_help=True,
)
app.add_typer(intel_app, name="intel")

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _version() -> str:
    try:
        return version("limes")
    except PackageNotFoundError:
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        out.print(f"limes {_version()}")
        raise typer.Exit()


@app.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Plan, watch, share and exercise the defence of a long land border."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a person can fix into a clear message and exit status 2.

    Only `LimesError`s (each layer's family says what and where) and the operating system's
    refusals (a file that cannot be read or written, a port taken) are mapped; anything else,
    a plain `ValueError` included, is a bug and keeps its traceback.
    """
    try:
        yield
    except LimesError as exc:
        err.print(exc.render(), markup=False)
        raise typer.Exit(USER_ERROR) from None
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        err.print(f"error: {exc.strerror or exc}{where}", markup=False)
        raise typer.Exit(USER_ERROR) from None


# --- limes scenario … -----------------------------------------------------------------------

ScenarioArg = Annotated[
    str,
    typer.Argument(
        metavar="NAME|FILE",
        help="A built-in scenario name (see `limes scenario list`) or a scenario YAML file.",
    ),
]


class ExportFormat(StrEnum):
    GEOJSON = "geojson"
    GPKG = "gpkg"


@scenario_app.command("list")
def scenario_list() -> None:
    """List the scenarios shipped with limes."""
    from limes.scenario.load import builtin_names, load_scenario

    with user_errors():
        table = Table("name", "title", "length km")
        for name in builtin_names():
            sc = load_scenario(name)
            table.add_row(name, sc.spec.title, f"{sc.length_km:.1f}")
        out.print(table)


@scenario_app.command("show")
def scenario_show(scenario: ScenarioArg) -> None:
    """Summarise a scenario: length, sectors, barriers and closure, sensors, units."""
    from limes.scenario.load import load_scenario
    from limes.scenario.summary import summarize

    with user_errors():
        _print_summary(summarize(load_scenario(scenario)))


@scenario_app.command("validate")
def scenario_validate(scenario: ScenarioArg) -> None:
    """Check a scenario file: print 'valid' and its summary line, or every problem (exit 2).

    Each problem reads FILE:LINE: FIELD PATH: REASON (got VALUE).
    """
    from limes.scenario.load import load_scenario
    from limes.scenario.summary import summarize
    from limes.scenario.warnings import scenario_warnings

    with user_errors():
        sc = load_scenario(scenario)
        summary = summarize(sc)
        out.print(f"valid: {summary.line()}", markup=False)
        for finding in scenario_warnings(sc):
            out.print(f"  {finding}", markup=False)


@scenario_app.command("export")
def scenario_export(
    scenario: ScenarioArg,
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="File to write (replaced if it exists).")
    ],
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="geojson: one FeatureCollection, each feature with a `layer` property; "
            "gpkg: a GeoPackage with one layer per kind of feature.",
        ),
    ] = ExportFormat.GEOJSON,
) -> None:
    """Export a scenario's line, sectors, barriers, sensors, units, roads, places and
    controllers as map layers in WGS84."""
    from limes.scenario.export import export_geojson, export_gpkg
    from limes.scenario.load import load_scenario

    with user_errors():
        sc = load_scenario(scenario)
        if fmt is ExportFormat.GEOJSON:
            n = export_geojson(sc, out_path)
        else:
            n = sum(export_gpkg(sc, out_path).values())
        out.print(f"wrote {n} features to {out_path}", markup=False)


# --- limes assess ----------------------------------------------------------------------------


@app.command("assess")
def assess(
    scenario: ScenarioArg,
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="Adversary mode: foot, vehicle or all (the report names any left out)."
        ),
    ] = "all",
    light: Annotated[str, typer.Option("--light", help="Light: day, night or all.")] = "all",
    resolution: Annotated[
        float, typer.Option("--resolution", help="Analysis cell size in metres.")
    ] = 50.0,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for report.html, GeoJSON, GeoTIFF, JSON.")
    ] = Path("assessment"),
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            metavar="OTHER",
            help="A second scenario: the report shows, km by km, what it changes.",
        ),
    ] = None,
) -> None:
    """Where would an infiltrator get through? P(interruption) per km, worst paths, report.

    Writes report.html (self-contained), summary.json, worst paths, weak stretches and coverage as
    GeoJSON, and the hazard, response-time and P(interruption) layers as GeoTIFF.
    """
    from limes.analysis.command import parse_lights, parse_modes, run_assess

    with user_errors():
        run_assess(
            scenario,
            parse_modes(mode),
            parse_lights(light),
            resolution,
            out_dir,
            compare,
            console=out,
        )


# --- limes plan ------------------------------------------------------------------------------


@app.command("plan")
def plan(
    scenario: ScenarioArg,
    catalogue: Annotated[
        Path,
        typer.Option(
            "--catalogue",
            help="YAML of what can be bought and its cost (e.g. the built-in "
            "scenario's catalogue.yaml; see docs/planning.md).",
        ),
    ],
    budget: Annotated[float, typer.Option("--budget", help="Money to spend, in its currency.")],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for plan.json, scenario.yaml, report.html.")
    ] = Path("plan"),
    resolution: Annotated[
        float, typer.Option("--resolution", help="Analysis cell size in metres for the search.")
    ] = 200.0,
) -> None:
    """What to buy with a budget, where, and in which order: a shopping list, its report, and
    the scenario with the package added (ready for `limes assess --compare`)."""
    from limes.analysis.plan_command import run_plan

    with user_errors():
        run_plan(scenario, catalogue, budget, out_dir, resolution, console=out)


# --- limes serve -----------------------------------------------------------------------------


@app.command("serve")
@with_options_of(ServiceConfig)
def serve(**given: Any) -> None:
    """Run the live system — inputs, pipeline, store, API and map — until SIGTERM or Ctrl-C.

    Every option is a field of `limes.service.ServiceConfig` (docs/serve.md).
    """
    from limes.service.run import serve as run_service

    with user_errors():
        run_service(build(ServiceConfig, given))


# --- limes simulate, limes demo ---------------------------------------------------------------


def _when(text: str, option: str) -> datetime:
    """An aware UTC instant from ISO 8601 text (Z or an offset) or `now` (to the second)."""
    from datetime import UTC, datetime

    if text.strip().lower() == "now":
        return datetime.now(UTC).replace(microsecond=0)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option}: {text!r} is not an ISO 8601 time (e.g. 2025-03-01T18:00Z)"
        ) from None
    if when.tzinfo is None:
        raise UsageError(f"{option}: {text!r} has no timezone (add Z for UTC, or +03:00)")
    return when.astimezone(UTC)


@app.command("simulate")
def simulate(
    scenario: ScenarioArg,
    hours: Annotated[float, typer.Option("--hours", help="Simulated hours, (0, 744].")] = 24.0,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            help="Simulated seconds per wall second, 1 … 600; omitted: as fast as possible "
            "(not for a live system).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same reports.")] = 0,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            metavar="URL",
            help="The live system's API. Alone: reports are POSTed there (--token: a sensor "
            "token for every sensor). With --mqtt/--cot: alerts are read back from it for the "
            "scorecard (--token: a viewer's or above).",
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="LIMES_TOKEN", help="Token for --target.")
    ] = None,
    mqtt: Annotated[
        str | None, typer.Option("--mqtt", metavar="HOST:PORT", help="Send over MQTT (QoS 1).")
    ] = None,
    topic_prefix: Annotated[
        str, typer.Option("--topic-prefix", help="MQTT topics: PREFIX/<sensor>/detections.")
    ] = "limes/v1/sensors",
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="MQTT client id (default: random).")
    ] = None,
    cot: Annotated[
        str | None,
        typer.Option("--cot", metavar="HOST:PORT", help="Send Cursor-on-Target events (TCP)."),
    ] = None,
    udp: Annotated[bool, typer.Option("--udp", help="With --cot: one UDP datagram each.")] = False,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process", help="Through the live JSON reader into a pipeline in this process."
        ),
    ] = False,
    assessment: Annotated[
        Path | None,
        typer.Option(
            "--assessment",
            metavar="SUMMARY",
            help="`limes assess`'s summary.json (or its folder): informed groups pick its weak "
            "km; the scorecard shows its P.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            metavar="ISO|now",
            help="The exercise's start (UTC). Default: now for a live system (match its "
            "--exercise-start), else 2025-03-01T18:00Z.",
        ),
    ] = None,
    actors_per_day: Annotated[
        float | None,
        typer.Option("--actors-per-day", help="Groups arriving per day (default 24)."),
    ] = None,
    settle: Annotated[
        float,
        typer.Option("--settle", help="Wall seconds to wait before reading alerts back."),
    ] = 15.0,
    dispatch: Annotated[
        str | None,
        typer.Option(
            "--dispatch",
            help="alerts (default with --in-process): units go to the live system's first "
            "alert on each group; referee (default otherwise; alias internal): the referee "
            "sends units to each group's first report, from ground truth; api: units are sent "
            "through the live system's API (its incidents, its dispatch advice) and report "
            "their positions to it (needs --target or a remote door and --dispatch-token).",
        ),
    ] = None,
    dispatch_token: Annotated[
        str | None,
        typer.Option("--dispatch-token", help="A commander's token for --dispatch api."),
    ] = None,
    patrols: Annotated[
        bool,
        typer.Option(
            "--patrols",
            help="Play randomised patrols: each day's schedule drawn from the patrol game over "
            "the plan's weak stretches (needs --assessment); a patrol catches a crossing on its "
            "stretch in its window with the scenario's patrols.catch_p.",
        ),
    ] = False,
    calibrate: Annotated[
        int | None,
        typer.Option(
            "--calibrate",
            metavar="GROUPS",
            min=1,
            help="No live exercise: GROUPS groups per sector follow the plan's best path of "
            "each km in its light, every unit at home, the referee's dispatch, and each "
            "sector's share interrupted is set against the plan's P with its 95 % interval. "
            "The plan: --assessment's runs at its resolution, assessed again with every km's "
            "path (without it: foot, night and day, at 200 m). Starts spread over --hours. "
            "Writes calibration.json.",
        ),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the scorecard, truth and detections.")
    ] = Path("exercise"),
) -> None:
    """Exercise the live system: simulated crossings, sensors and units, sent through its real
    inputs, scored against ground truth and the plan.

    Writes scorecard.json, scorecard.html, truth.jsonl and detections.jsonl (docs/exercise.md);
    with --calibrate, calibration.json instead (docs/assessment.md).
    """
    from dataclasses import replace

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from limes import exercise
    from limes.exercise.door import Door
    from limes.exercise.plan_file import plan_from_summary
    from limes.ops.plan_lookup import PlanLookup
    from limes.scenario.load import load_scenario
    from limes.sim.config import SimConfig

    if calibrate is not None:
        given = (("--mqtt", mqtt), ("--cot", cot), ("--in-process", in_process),
                 ("--target", target), ("--speed", speed), ("--patrols", patrols),
                 ("--actors-per-day", actors_per_day), ("--start", start),
                 ("--dispatch", dispatch not in (None, "referee", "internal")))  # fmt: skip
        with user_errors():
            wrong = [name for name, on in given if on]
            if wrong:
                raise UsageError(f"--calibrate runs no live exercise: {', '.join(wrong)} "
                                 "does not apply")  # fmt: skip
            _calibrate(scenario, calibrate, assessment, hours, seed, out_dir)
        return
    with user_errors():
        ways = (("--mqtt", mqtt), ("--cot", cot), ("--in-process", in_process))
        chosen = [name for name, on in ways if on]
        if len(chosen) > 1:
            raise UsageError(f"give one way to send, not {' and '.join(chosen)}")
        if in_process and target:
            raise UsageError("--in-process runs its own pipeline: --target does not apply")
        if token and not target:
            raise UsageError("--token goes with --target")
        if udp and not cot:
            raise UsageError("--udp goes with --cot")
        if dispatch is None:
            dispatch = "alerts" if in_process else "referee"
        if dispatch not in ("alerts", "referee", "internal", "api"):
            raise UsageError(f"--dispatch is alerts, referee or api, not {dispatch!r}")
        if patrols and not assessment:
            raise UsageError("--patrols needs --assessment: patrols cover its weak stretches")
        if dispatch == "api" and not dispatch_token:
            raise UsageError("--dispatch api needs --dispatch-token (a commander's token)")
        if mqtt:
            door = Door("mqtt", mqtt, target, token, topic_prefix, client_id)
        elif cot:
            door = Door("cot-udp" if udp else "cot", cot, target, token)
        elif in_process:
            door = Door("in-process")
        elif target:
            door = Door("http", target, None, token)
        else:
            door = Door()
        sc = load_scenario(scenario)
        cfg = SimConfig()
        if actors_per_day is not None:
            cfg = replace(cfg, actors_per_day=actors_per_day)
        when = _when(start, "--start") if start else None
        if when is None and door.remote:
            when = _when("now", "--start")
        if when is not None:
            err.print(f"exercise start {when.isoformat()}", markup=False)
        plan = plan_from_summary(assessment, sc) if assessment else None
        lookup = PlanLookup.load(assessment) if assessment and in_process else None
        columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=max(total, 1))
                bar.update(tasks[stage], completed=done, total=max(total, 1))

            result = exercise.simulate(
                sc, hours, speed, seed, door, out_dir, plan, progress,
                config=cfg, start=when, plan=lookup, settle_s=settle,
                dispatch=dispatch, dispatch_token=dispatch_token, patrols=patrols,
            )  # fmt: skip
        _print_scorecard(result.scorecard, result.files)


@app.command("demo")
def demo(
    speed: Annotated[
        float, typer.Option("--speed", help="Simulated seconds per wall second, 1 … 600.")
    ] = 30.0,
    seed: Annotated[int, typer.Option("--seed", help="The exercise's seed.")] = 1,
    http: Annotated[
        str, typer.Option("--http", help="API and map HOST:PORT (port 0: any free port).")
    ] = "127.0.0.1:8080",
    hours: Annotated[float, typer.Option("--hours", help="Simulated hours of exercise.")] = 24.0,
    folder: Annotated[
        Path,
        typer.Option(
            "--dir", help="The demo's folder: demo.db (replaced) and the exercise's files."
        ),
    ] = Path("limes-demo"),
    scenario: Annotated[
        str, typer.Option("--scenario", help="Built-in scenario name or scenario file.")
    ] = "iraq-syria",
    auto_dispatch: Annotated[
        bool,
        typer.Option(
            "--auto-dispatch/--no-auto-dispatch",
            help="An automatic dispatcher works the incidents (off: you do, at the map; the "
            "units you send move in the exercise).",
        ),
    ] = False,
    auto_dispatch_delay: Annotated[
        float,
        typer.Option(
            "--auto-dispatch-delay",
            help="With --auto-dispatch: take an incident only when nobody acknowledged it for "
            "this many simulated seconds.",
        ),
    ] = 0.0,
    sites: Annotated[
        bool,
        typer.Option(
            "--sites",
            help="Federated: a hub nats-server, two command sites and the JOC, each a service "
            "with its own database and leaf nats-server on loopback ports; each sensor's reports "
            "go to the site holding its sector (docs/federation.md).",
        ),
    ] = False,
) -> None:
    """Watch a border live on a laptop: the service on embedded defaults (SQLite, no broker),
    a live exercise fed into it, the map's address and an operator's token. You are the duty
    officer: no automatic dispatcher runs unless asked (--auto-dispatch). Ctrl-C stops."""
    import limes.demo

    if sites:
        _demo_sites(speed, seed, http, hours, folder, scenario, auto_dispatch)
        return
    with user_errors():
        summary = limes.demo.demo(
            limes.demo.DemoConfig(
                scenario=scenario,
                speed=speed,
                seed=seed,
                hours=hours,
                http=http,
                folder=folder,
                auto_dispatch=auto_dispatch,
                auto_dispatch_delay_s=auto_dispatch_delay,
            ),
            say=lambda line: out.print(line, markup=False),
        )
    state = "complete" if summary.complete else "stopped"
    out.print(
        f"demo stopped ({state} exercise): {summary.reports_sent} reports sent, "
        f"{summary.alerts_stored} alerts stored; store kept in {folder / 'demo.db'}",
        markup=False,
    )


def _demo_sites(
    speed: float, seed: int, http: str, hours: float, folder: Path, scenario: str,
    auto_dispatch: bool,
) -> None:  # fmt: skip
    """`limes demo --sites`: the same exercise across two federated command sites and the JOC."""
    import limes.demo
    import limes.demo_sites

    with user_errors():
        summary = limes.demo_sites.demo_sites(
            limes.demo.DemoConfig(
                scenario=scenario, speed=speed, seed=seed, hours=hours, http=http,
                folder=folder, dispatch="internal", auto_dispatch=auto_dispatch,
            ),
            say=lambda line: out.print(line, markup=False),
        )  # fmt: skip
    state = "complete" if summary.complete else "stopped"
    sent = ", ".join(f"{k} {v}" for k, v in summary.sent_by_site.items()) or "none"
    stored = ", ".join(f"{k} {v}" for k, v in summary.alerts_by_site.items()) or "none"
    held = ", ".join(f"{k} {v}" for k, v in summary.received_by_joc.items()) or "none"
    out.print(
        f"demo stopped ({state} exercise): reports sent {sent}; alerts stored {stored}; "
        f"alerts the JOC holds, by origin: {held}; stores kept in {folder}",
        markup=False,
    )


def _calibrate(
    scenario: str, groups: int, assessment: Path | None, hours: float, seed: int, out_dir: Path
) -> None:
    """`limes simulate --calibrate`: the plan per sector against plan-following groups."""
    from limes.scenario.load import load_scenario
    from limes.scenario.schema import Light, Mode
    from limes.sim.sector_calibration import calibrate_plan, summary_plan, write_calibration

    sc = load_scenario(scenario)
    if assessment is not None:
        resolution, runs, per_km = summary_plan(assessment)
    else:
        resolution, runs, per_km = 200.0, [(Mode.FOOT, Light.NIGHT), (Mode.FOOT, Light.DAY)], {}
    err.print(f"assessing {sc.name} at {resolution:g} m with every km's path, then {groups} "
              f"groups per sector and run", markup=False)  # fmt: skip
    checked = calibrate_plan(sc, runs, resolution, groups, seed, window_h=hours,
                             summary=per_km or None)  # fmt: skip
    path = write_calibration(out_dir / "calibration.json", sc, resolution, groups, seed, checked)
    for r in checked:
        t = Table(title=f"{sc.name}, {r.mode.value}, {r.light.value}, {resolution:g} m: "
                  "plan-following groups, every unit at home", title_justify="left",
                  box=box.SIMPLE_HEAD)  # fmt: skip
        for col in ("sector", "groups", "plan P", "EASI at points", "stopped, 95 %", "inside"):
            t.add_column(col, justify="left" if col == "sector" else "right", no_wrap=True)
        for c in r.sectors:
            t.add_row(c.sector, str(c.n), f"{c.plan_p:.3f}", f"{c.easi_at_points:.3f}",
                      f"{c.observed:.3f} ({c.low:.3f}–{c.high:.3f})",
                      "yes" if c.inside else "NO")  # fmt: skip
        out.print(t)
    inside = sum(r.inside for r in checked)
    total = sum(len(r.sectors) for r in checked)
    out.print(f"plan inside the exercise's 95 % interval in {inside} of {total} sectors; "
              f"wrote {path}", markup=False)  # fmt: skip


def _print_scorecard(card: Scorecard, files: Mapping[str, Path]) -> None:
    title = f"Exercise {card.scenario}, seed {card.seed}, {card.hours:g} h from {card.start}"
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    cols = ("sector", "tried", "seen", "alerted", "stopped", "P stop, 95 %", "plan P",
            "d→a s")  # fmt: skip
    for col in cols:
        t.add_column(col, justify="left" if col == "sector" else "right")

    def f(v: float | None, nd: int = 2) -> str:
        return "-" if v is None else f"{v:.{nd}f}"

    for row in [*card.sectors, card.totals]:
        d2a = row.detection_to_alert_s
        t.add_row(
            row.name, str(row.attempted), str(row.detected),
            "-" if row.alerted is None else str(row.alerted), str(row.interrupted),
            f"{f(row.p_observed)} ({f(row.p_low)}–{f(row.p_high)})", f(row.plan_p_mean),
            f(d2a.get("median"), 0) if d2a else "-",
            style="bold" if row is card.totals else None,
        )  # fmt: skip
    out.print(t)
    if card.alerts is None:
        alerts = "alerts: not known (no live system's alerts)"
    else:
        per_day = f(card.false_alerts_per_day, 1)
        alerts = f"alerts: {card.alerts}, {card.false_alerts} false ({per_day} a day)"
    out.print(
        f"reports: {card.reports} ({card.false_alarm_reports} false alarms); "
        f"nuisance groups: {card.nuisance_groups}; {alerts}",
        markup=False,
    )
    if card.patrols is not None:
        p = card.patrols
        predicted = f(p["through_predicted"])
        out.print(
            f"patrols: {p['patrols_a_day']} a day over {len(p['stretches'])} weak stretches, "
            f"catch {f(p['catch_p'])}: {p['crossings_patrolled']} crossings met a patrol, "
            f"{p['caught']} caught (the game predicts {predicted} of a learner's attempts "
            "get through)",
            markup=False,
        )
    for note in card.notes:
        out.print(f"note: {note}", markup=False)
    if files:
        folder = Path(next(iter(files.values()))).parent
        out.print(f"wrote {', '.join(files)} to {folder}", markup=False)


# --- limes users … --------------------------------------------------------------------------

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        "--db",
        envvar="LIMES_DATABASE_URL",
        show_envvar=True,
        help="The store, as for `limes serve --database`: sqlite:///FILE or postgresql://… "
        "(default: LIMES_DATABASE_URL, else sqlite:///limes.db; `limes demo` keeps its own in "
        "limes-demo/demo.db).",
    ),
]


def _database(url: str | None) -> str:
    """The database a users verb works on, said on stderr so nobody writes to the wrong one."""
    from limes.store.location import database_url_from_env

    chosen = url or database_url_from_env()
    new = ""
    if chosen.startswith("sqlite:///") and not Path(chosen.removeprefix("sqlite:///")).exists():
        new = " (a new file)"
    err.print(f"database: {chosen}{new}", markup=False)
    return chosen


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (a person, or a sensor's name).")],
    role: Annotated[
        str,
        typer.Option(
            "--role", help="viewer, operator, commander, analyst, sensor, partner or admin."
        ),
    ],
    sensor: Annotated[
        list[str] | None,
        typer.Option(
            "--sensor", help="For a sensor token: a sensor id it may ingest as (repeatable)."
        ),
    ] = None,
    partner: Annotated[
        str | None,
        typer.Option(
            "--partner",
            help="For a partner token: the partner (the scenario's sharing.partners id) it "
            "speaks for; what it is released follows that partner's policy.",
        ),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Create a user and print its first token (shown once; only its hash is stored)."""
    from limes.store.accounts import add_user

    if partner is not None and role != "partner":
        raise typer.BadParameter("--partner goes with --role partner", param_hint="--partner")
    if role == "partner" and sensor:
        raise typer.BadParameter(
            "a partner token speaks for a partner: give --partner ID, not --sensor",
            param_hint="--sensor",
        )
    with user_errors():
        url = _database(database)
        token = add_user(url, name, role, speaks_for=[partner] if partner else (sensor or ()))
    out.print(f"user {name} ({role}) created in {url}; token:", markup=False)
    out.print(token, markup=False)


@users_app.command("list")
def users_list(database: DatabaseOpt = None) -> None:
    """List users with their roles and token ids (never the tokens)."""
    from limes.store.accounts import list_users

    with user_errors():
        users = list_users(_database(database))
    table = Table("name", "role", "speaks for", "created", "live tokens", "revoked tokens")
    for u in users:
        table.add_row(
            u.name,
            u.role,
            ", ".join(u.speaks_for) or "-",
            u.created.isoformat(timespec="seconds"),
            ", ".join(map(str, u.live_tokens)) or "-",
            ", ".join(map(str, u.revoked_tokens)) or "-",
        )
    out.print(table)


UserArg = Annotated[str, typer.Argument(metavar="NAME", help="User name.")]


@users_app.command("token")
def users_token(name: UserArg, database: DatabaseOpt = None) -> None:
    """Issue another token for a user and print it once."""
    from limes.store.accounts import new_token

    with user_errors():
        token = new_token(_database(database), name)
    out.print(token, markup=False)


@users_app.command("revoke")
def users_revoke(
    name: Annotated[
        str | None,
        typer.Argument(metavar="[NAME]", help="Revoke every token of this user."),
    ] = None,
    token_id: Annotated[
        int | None, typer.Option("--token-id", help="Revoke one token by its id instead.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", hidden=True, help="The same as NAME.")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Revoke tokens: every token of user NAME, or one by --token-id."""
    from limes.store.accounts import revoke_token

    with user_errors():
        if name is not None and user is not None and name != user:
            raise UsageError(f"NAME {name!r} and --user {user!r} disagree")
        who = name or user
        if (who is None) == (token_id is None):
            raise UsageError("give a user NAME or --token-id (one of them)")
        n = revoke_token(_database(database), token_id=token_id, user=who)
    out.print(f"revoked {n} token(s)", markup=False)


# --- limes track -----------------------------------------------------------------------------


@app.command("track")
def track(
    detections: Annotated[
        Path, typer.Argument(metavar="FILE", help="Detections, one JSON object per line.")
    ],
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="Track states, one JSON object per line.")
    ],
    frame: Annotated[
        str | None,
        typer.Option(
            "--frame",
            help="CRS of the metric frame for lon/lat input (EPSG code, PROJ string); default: "
            "a transverse Mercator centred on the data.",
        ),
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="Tracker settings (YAML or JSON): sensor laws, thresholds (docs/tracking.md).",
        ),
    ] = None,
    tentative: Annotated[
        bool, typer.Option("--tentative", help="Also write tentative tracks' states.")
    ] = False,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="A scenario (name or YAML) whose sensor models give the sensor laws, as the "
            "live pipeline reads them; --settings entries win.",
        ),
    ] = None,
) -> None:
    """Track a file of detections offline with the live pipeline's tracker.

    The formats are documented in docs/tracking.md, so the same data can be run through another
    tracker and compared.
    """
    from limes.ops.track_file import track_file
    from limes.ops.tracker.settings import load_settings

    with user_errors():
        config = load_settings(settings) if settings is not None else None
        if scenario is not None:
            from limes.ops.sensor_laws import with_scenario_laws
            from limes.ops.tracker import TrackerConfig
            from limes.scenario.load import load_scenario

            config = with_scenario_laws(config or TrackerConfig(), load_scenario(scenario))
        summary = track_file(detections, out_path, config, frame=frame, tentative=tentative)
    out.print(
        f"{summary.detections} detections → {summary.tracks} tracks, "
        f"{summary.states_written} states written to {out_path} (frame {summary.frame}); "
        f"{len(summary.rejected)} rejected",
        markup=False,
    )
    for reason, count in summary.rejection_counts().items():
        out.print(f"  {count} {reason}", markup=False)
    for skipped in summary.skipped[:10]:
        err.print(f"skipped {skipped.where}: {skipped.reason}", markup=False)
    if len(summary.skipped) > 10:
        err.print(f"… and {len(summary.skipped) - 10} more skipped", markup=False)


# --- limes intel … ---------------------------------------------------------------------------


@intel_app.command("ingest")
def intel_ingest(
    path: Annotated[
        Path,
        typer.Argument(metavar="FILE|DIR", help="A text, HTML or .eml file, or a folder of them."),
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for reports.jsonl and documents.jsonl.")
    ],
    scenario: Annotated[
        str, typer.Option("--scenario", help="Built-in scenario name or scenario file.")
    ] = "iraq-syria",
    register: Annotated[
        Path | None,
        typer.Option("--register", help="Source register YAML (default: the shipped one)."),
    ] = None,
) -> None:
    """Read news and field reports offline into graded draft reports (reports.jsonl).

    Boilerplate is cut (each removed line kept with its reason); places, actors, dates,
    quantities and event types are extracted with their character spans; reports are graded
    (source reliability from the register, credibility from independent corroboration) and
    border-state claims are checked against the scenario. See docs/intelligence.md.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from limes.intel.ingest import ingest
    from limes.scenario.load import load_scenario

    with user_errors():
        sc = load_scenario(scenario)
        with Progress(
            TextColumn("reading"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
        ) as bar:
            task = bar.add_task("read", total=None)
            result = ingest(
                path,
                out_dir,
                scenario=sc,
                register=register,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    flagged = sum(
        1
        for r in result.reports
        if isinstance(r["scenario_check"], dict) and r["scenario_check"]["agrees"] is False
    )
    out.print(
        f"{len(result.documents)} documents → {len(result.reports)} draft reports in "
        f"{out_dir / 'reports.jsonl'}; {result.removed_lines} lines removed as boilerplate; "
        f"{flagged} border-state claim(s) disagree with the scenario",
        markup=False,
    )
    for _, why in result.rejected:
        err.print(f"skipped: {why}", markup=False)


@intel_app.command("submit")
def intel_submit(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="An ingest's --out folder.")],
    target: Annotated[str, typer.Option("--target", help="The limes API, e.g. http://host:8080")],
    token: Annotated[
        str, typer.Option("--token", envvar="LIMES_TOKEN", help="An analyst's token.")
    ],
) -> None:
    """Send an ingest's drafts to a running limes, into its analysts' review queue."""
    from limes.intel.submit import submit_drafts

    with user_errors():
        done = submit_drafts(folder, target, token)
    out.print(f"{done.filed} drafts filed for review; {done.existing} already there", markup=False)


def _print_summary(s: ScenarioSummary) -> None:
    out.print(f"[bold]{s.title}[/bold] ({s.name})")
    out.print(
        f"border length {s.length_km:.1f} km; inside {s.inside_name}, outside {s.outside_name}; "
        f"terrain {s.terrain}",
        markup=False,
    )
    if s.demonstration_note:
        out.print(f"note: {s.demonstration_note}", markup=False, style="italic")

    t = Table(title="Sectors", title_justify="left")
    for col in ("sector", "command", "km", "length km", "far side", "channel"):
        t.add_column(col, justify="right" if "km" in col else "left")
    for sec in s.sectors:
        t.add_row(
            sec.name,
            sec.command,
            f"{sec.from_km:g}–{sec.to_km:g}",
            f"{sec.length_km:.1f}",
            sec.far_side,
            sec.channel,
        )
    out.print(t)

    t = Table(title="Km held per command", title_justify="left")
    t.add_column("command")
    t.add_column("km", justify="right")
    for command, km in s.km_by_command.items():
        t.add_row(command, f"{km:.1f}")
    out.print(t)

    t = Table(title="Barriers per sector (km of line, union per status)", title_justify="left")
    for col in ("sector", "built", "under construction", "planned", "by kind (built km)"):
        t.add_column(col, justify="left" if col.startswith(("sector", "by")) else "right")
    for sec in s.sectors:
        kinds = ", ".join(f"{k} {v.built:.0f}" for k, v in sec.barriers_by_kind.items() if v.built)
        t.add_row(
            sec.name,
            f"{sec.barriers.built:.1f}",
            f"{sec.barriers.under_construction:.1f}",
            f"{sec.barriers.planned:.1f}",
            kinds or "-",
        )
    t.add_row(
        "all",
        f"{s.barriers.built:.1f}",
        f"{s.barriers.under_construction:.1f}",
        f"{s.barriers.planned:.1f}",
        ", ".join(f"{k} {v.built:.0f}" for k, v in s.barriers_by_kind.items() if v.built) or "-",
        style="bold",
    )
    out.print(t)

    if s.stretches:
        t = Table(title="Stretches: closure", title_justify="left")
        for col in ("stretch", "km", "closed km", "under construction km", "planned km", "open km"):
            t.add_column(col, justify="left" if col == "stretch" else "right")
        for st in s.stretches:
            t.add_row(
                st.name,
                f"{st.from_km:g}–{st.to_km:g}",
                f"{st.closed_km:.0f} of {st.length_km:.0f}",
                f"{st.under_construction_km:.0f}",
                f"{st.planned_km:.0f}",
                f"{st.open_km:.0f}",
            )
        out.print(t)

    sensor_kinds = sorted({k for sec in s.sectors for k in sec.sensors_by_kind})
    t = Table(title="Sensors per sector", title_justify="left")
    t.add_column("sector")
    for k in sensor_kinds:
        t.add_column(k, justify="right")
    t.add_column("total", justify="right")
    for sec in s.sectors:
        counts = [sec.sensors_by_kind.get(k, 0) for k in sensor_kinds]
        t.add_row(sec.name, *map(str, counts), str(sum(counts)))
    totals = [s.sensors_by_kind.get(k, 0) for k in sensor_kinds]
    t.add_row("all", *map(str, totals), str(sum(totals)), style="bold")
    out.print(t)

    units = ", ".join(f"{n} {k}" for k, n in s.units_by_kind.items()) or "none"
    out.print(
        f"units: {units}; roads: {s.roads}; places: {s.places}; threat profiles: {s.threats}",
        markup=False,
    )


# --- limes sharing … ------------------------------------------------------------------------


@sharing_app.command("partners")
def sharing_partners(scenario: ScenarioArg) -> None:
    """List a scenario's partners and what each rule releases."""
    from limes.scenario.load import load_scenario

    with user_errors():
        sc = load_scenario(scenario)
    table = Table(box=box.SIMPLE)
    for column in ("partner", "via", "rule", "kinds", "sectors", "precision", "delay",
                   "withheld", "TLP ≤"):  # fmt: skip
        table.add_column(column, overflow="fold", no_wrap=column == "partner")
    for p in sc.spec.sharing.partners:
        for i, r in enumerate(p.rules or [None]):
            head = (p.id, p.via or "-") if i == 0 else ("", "")
            if r is None:
                table.add_row(*head, "(none: receives nothing)", "", "", "", "", "", "")
                continue
            table.add_row(
                *head, r.name, ", ".join(k.value for k in r.kinds), ", ".join(r.sectors),
                f"{r.precision_m:g} m" if r.precision_m else "exact", f"{r.delay_s:g} s",
                ", ".join(w.value for w in r.withhold) or "-", r.tlp_ceiling.value.upper(),
            )  # fmt: skip
    out.print(table)


@sharing_app.command("explain")
def sharing_explain(
    partner: Annotated[str, typer.Argument(help="Partner id (see `limes sharing partners`).")],
    key: Annotated[
        str, typer.Argument(metavar="OBJECT", help="alert:<id>, incident:<id>, intel_report:<id>…")
    ],
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario name or file.")],
    database: DatabaseOpt = None,
) -> None:
    """Say why an object is or is not released to a partner, and in what form."""
    import json

    from limes.scenario.load import load_scenario
    from limes.share.explain_stored import explain_stored
    from limes.share.shareable import to_record
    from limes.store.database import connect
    from limes.store.location import database_url_from_env

    with user_errors():
        sc = load_scenario(scenario)
        db = connect(database or database_url_from_env())
        decision = explain_stored(db, sc, partner, key)
    verdict = "released" if decision.release is not None else "withheld"
    out.print(f"{key} → {partner}: {verdict}", markup=False)
    for reason in decision.reasons:
        out.print(f"  - {reason}", markup=False)
    if decision.release is not None:
        out.print(json.dumps(to_record(decision.release.object), indent=2), markup=False)


# --- limes federation … ---------------------------------------------------------------------

DeploymentArg = Annotated[
    Path, typer.Argument(metavar="DEPLOYMENT", help="The deployment file (sites and links).")
]


@federation_app.command("status")
def federation_status(
    deployment: DeploymentArg,
    site: Annotated[str, typer.Option("--site", help="The receiving site whose links to show.")],
) -> None:
    """Each link into a site: connected, behind, silent or stalled, read from its NATS server."""
    from limes.federation.command import federation_status as read_status
    from limes.federation.deployment import load_deployment

    with user_errors():
        statuses = read_status(load_deployment(deployment), site)
    table = Table(box=box.SIMPLE)
    for column in ("from", "state", "origin seq", "arrived seq", "JetStream lag", "silent for"):
        table.add_column(column)
    for s in statuses:
        state = "stalled" if s.stalled else "silent" if s.silent else (
            "behind" if s.behind else "ok")  # fmt: skip
        silent = "never heard" if s.silent_s is None else f"{s.silent_s:.0f} s"
        table.add_row(
            s.origin, state if s.origin_reachable else f"{state} (origin unreachable)",
            str(s.origin_sequence or "-"), str(s.arrived_sequence or "-"),
            str(s.jetstream_lag if s.jetstream_lag is not None else "-"), silent,
        )  # fmt: skip
    out.print(table)


@federation_app.command("nats-config")
def federation_nats_config(
    deployment: DeploymentArg,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the configurations and stores.")
    ] = Path("nats"),
) -> None:
    """Write nats-server configurations: the hub, and each site's leaf node in its domain."""
    from limes.federation.command import write_nats_configs
    from limes.federation.deployment import load_deployment

    with user_errors():
        written = write_nats_configs(load_deployment(deployment), out_dir)
    for path in written:
        out.print(f"{path}  (nats-server -c {path})", markup=False)


@federation_app.command("worker")
def federation_worker(
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario name or folder.")],
    site: Annotated[str, typer.Option("--site", help="The site whose detections to track.")],
    database: Annotated[str, typer.Option("--database", help="The site's database URL.")],
    nats_url: Annotated[
        str, typer.Option("--nats", help="The site's NATS server.")
    ] = "nats://127.0.0.1:4222",
    worker: Annotated[int, typer.Option("--worker", help="This worker's number, from 0.")] = 0,
    workers: Annotated[int, typer.Option("--workers", help="How many workers share.")] = 1,
) -> None:
    """Track the site's partitioned detections for this worker's sectors (docs/federation.md)."""
    import dataclasses

    from limes.federation.partitions import assign
    from limes.federation.worker import work
    from limes.ops.tracker import TrackerConfig
    from limes.scenario.load import load_scenario
    from limes.service.config import ServiceConfig

    with user_errors():
        sc = load_scenario(scenario)
        if not 0 <= worker < workers:
            raise typer.BadParameter(f"--worker {worker} is not in 0..{workers - 1}")
        owned = assign(len(sc.spec.sectors), workers)[worker]
        defaults = ServiceConfig.model_fields
        config = dataclasses.replace(
            TrackerConfig(), track_ids="detection",
            reorder_window_s=defaults["reorder_window_s"].default,
            scan_window_s=defaults["scan_window_s"].default,
        )  # fmt: skip
        out.print(f"worker {worker}/{workers} of {site}: sectors "
                  f"{', '.join(sc.spec.sectors[k].name for k in owned) or 'none'}")  # fmt: skip
        work(sc, nats_url, site, owned, database, tracker_config=config)


def main() -> None:
    """Entry point of the `limes` console script."""
    app()


if __name__ == "__main__":
    main()

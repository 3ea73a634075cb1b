"""The `limes` command: one thin function per verb over the public functions of the modules.

User errors (a bad scenario, a file that cannot be written) are printed as plain messages and
exit with status 2; a traceback is a bug. Heavy modules are imported inside the verbs so that
`limes --help` and `limes scenario show` start fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from limes.scenario.summary import ScenarioSummary

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
    """Turn the errors a user can cause into a clean message and exit status 2."""
    from limes.scenario.errors import ScenarioError
    from limes.service.config import ServiceError
    from limes.store.errors import StoreError

    try:
        yield
    except ScenarioError as exc:
        err.print(exc.render(), markup=False)
        raise typer.Exit(USER_ERROR) from None
    except (StoreError, ServiceError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(USER_ERROR) from None
    except ValueError as exc:
        # The layers' own error families (AssessError, TrackFileError, …) are ValueErrors
        # whose message already says what and where.
        err.print(f"error: {exc}", markup=False)
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

    with user_errors():
        summary = summarize(load_scenario(scenario))
        out.print(f"valid: {summary.line()}", markup=False)


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
        str, typer.Option("--mode", help="Adversary mode: foot, vehicle or all.")
    ] = "foot",
    light: Annotated[str, typer.Option("--light", help="Light: day, night or all.")] = "night",
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


# --- limes serve -----------------------------------------------------------------------------


def _off(value: str | None) -> str | None:
    return None if value is None or value.lower() == "off" else value


@app.command("serve")
def serve(
    scenario: Annotated[
        str, typer.Option("--scenario", help="Built-in scenario name or scenario file.")
    ] = "iraq-syria",
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="LIMES_DATABASE_URL",
            help="sqlite:///FILE (default sqlite:///limes.db) or postgresql://…",
        ),
    ] = None,
    mqtt: Annotated[
        str, typer.Option("--mqtt", help="MQTT broker HOST:PORT, or 'off'.")
    ] = "127.0.0.1:1883",
    cot_port: Annotated[
        int | None, typer.Option("--cot-port", help="Cursor-on-Target TCP and UDP port.")
    ] = None,
    http: Annotated[
        str, typer.Option("--http", help="API and map HOST:PORT, or 'off'.")
    ] = "127.0.0.1:8080",
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="An assessment's summary.json: alert severity by km."),
    ] = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="Logs as JSON lines.")] = False,
) -> None:
    """Run the live system — inputs, pipeline, store, API and map — until SIGTERM or Ctrl-C."""
    from limes.service import ServiceConfig
    from limes.service import serve as run_service
    from limes.store.database import database_url_from_env

    with user_errors():
        run_service(
            ServiceConfig(
                scenario=scenario,
                database_url=database or database_url_from_env(),
                mqtt=_off(mqtt),
                cot_port=cot_port,
                http=_off(http),
                plan=plan,
                log_json=log_json,
            )
        )


# --- limes users … --------------------------------------------------------------------------

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        "--db",
        envvar="LIMES_DATABASE_URL",
        help="Database URL (sqlite:///FILE or postgresql://…); default sqlite:///limes.db.",
    ),
]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (a person, or a sensor's name).")],
    role: Annotated[
        str, typer.Option("--role", help="viewer, operator, commander, sensor or admin.")
    ],
    sensor: Annotated[
        list[str] | None,
        typer.Option("--sensor", help="For a sensor token: a sensor id it may ingest as."),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Create a user and print its first token (shown once; only its hash is stored)."""
    from limes.store.accounts import add_user

    with user_errors():
        token = add_user(database, name, role, speaks_for=sensor or ())
    out.print(f"user {name} ({role}) created; token:", markup=False)
    out.print(token, markup=False)


@users_app.command("list")
def users_list(database: DatabaseOpt = None) -> None:
    """List users with their roles and token ids (never the tokens)."""
    from limes.store.accounts import list_users

    with user_errors():
        users = list_users(database)
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


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="User name.")], database: DatabaseOpt = None
) -> None:
    """Issue another token for a user and print it once."""
    from limes.store.accounts import new_token

    with user_errors():
        token = new_token(database, name)
    out.print(token, markup=False)


@users_app.command("revoke")
def users_revoke(
    user: Annotated[
        str | None, typer.Option("--user", help="Revoke every token of this user.")
    ] = None,
    token_id: Annotated[
        int | None, typer.Option("--token-id", help="Revoke one token by its id.")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Revoke tokens: every token of a user, or one by id."""
    from limes.store.accounts import revoke_token

    if (user is None) == (token_id is None):
        err.print("error: give exactly one of --user or --token-id", markup=False)
        raise typer.Exit(USER_ERROR)
    with user_errors():
        n = revoke_token(database, token_id=token_id, user=user)
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
) -> None:
    """Track a file of detections offline with the live pipeline's tracker.

    The formats are documented in docs/tracking.md, so the same data can be run through another
    tracker and compared.
    """
    from limes.ops.track_file import track_file

    with user_errors():
        summary = track_file(detections, out_path, frame=frame)
    out.print(
        f"{summary.detections} detections → {summary.tracks} tracks, "
        f"{summary.states_written} states written to {out_path} (frame {summary.frame}); "
        f"{len(summary.rejected)} rejected as too late",
        markup=False,
    )


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


def main() -> None:
    """Entry point of the `limes` console script."""
    app()


if __name__ == "__main__":
    main()

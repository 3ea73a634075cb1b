"""`limes assess` as a function: load, analyse with progress bars, write every output, summarise.

The CLI verb is a thin wrapper over `run_assess`; a notebook user calls it with the same
arguments. Bad requests raise `AssessError` (from the analysis) and bad scenarios
`ScenarioError`, both with a message meant for the user; the CLI prints them without a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from limes.analysis.assess import AssessError, assess
from limes.analysis.change_effects import changes_between
from limes.analysis.compare import Comparison, compare, write_comparison
from limes.analysis.explain import stretch_why
from limes.analysis.outputs import (
    WEAK_BELOW,
    ranked_stretches,
    sector_stats,
    weakest_km,
    write_outputs,
)
from limes.analysis.report import render_report
from limes.analysis.result import Assessment
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode

ProgressFn = Callable[[str, int, int], None]
E = TypeVar("E", Mode, Light)
AssessFn = Callable[[Scenario, Sequence[Mode], Sequence[Light], float, ProgressFn], Assessment]


def parse_modes(value: str) -> list[Mode]:
    """`foot`, `vehicle`, `all`, or a comma list, as adversary modes."""
    return _parse(value, Mode, "mode")


def parse_lights(value: str) -> list[Light]:
    """`day`, `night`, `all`, or a comma list, as light conditions."""
    return _parse(value, Light, "light")


def _parse(value: str, kind: type[E], what: str) -> list[E]:
    words = [w.strip().lower() for w in value.split(",") if w.strip()]
    if words == ["all"]:
        return list(kind)
    known: dict[str, E] = {m.value: m for m in kind}
    bad = [w for w in words if w not in known]
    if bad or not words:
        choices = "|".join([*known, "all"])
        raise AssessError(f"--{what}: {value!r} is not one of {choices} (or a comma list)")
    return list(dict.fromkeys(known[w] for w in words))


def _progress_bars(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _analyse(
    scenario: Scenario,
    modes: Sequence[Mode],
    lights: Sequence[Light],
    resolution_m: float,
    console: Console,
    assess_fn: AssessFn,
    prefix: str = "",
) -> Assessment:
    """Run the analysis with one progress bar per stage it reports."""
    with _progress_bars(console) as bars:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(f"{prefix}{stage}", total=max(total, 1))
            bars.update(tasks[stage], completed=done, total=max(total, 1))

        return assess_fn(scenario, modes, lights, resolution_m, progress)


def run_assess(
    scenario_ref: str | Path,
    modes: Sequence[Mode],
    lights: Sequence[Light],
    resolution_m: float,
    out_dir: str | Path,
    compare_ref: str | Path | None = None,
    console: Console | None = None,
    *,
    assess_fn: AssessFn | None = None,
) -> Assessment:
    """Assess a scenario and write summary.json, GeoJSON, GeoTIFFs and report.html to `out_dir`.

    With `compare_ref`, a second scenario is assessed the same way and the report and
    comparison.json show what it changes against the first (other − base, per km).
    `assess_fn` replaces the analysis (tests); it defaults to `limes.analysis.assess`.
    """
    console = console or Console()
    if not modes or not lights:
        raise AssessError("give at least one adversary mode and one light")
    if not (math.isfinite(resolution_m) and resolution_m > 0):
        raise AssessError(f"--resolution must be a positive number of metres, got {resolution_m}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AssessError(f"--out: {out} exists and is not a folder")
    analyse: AssessFn = assess_fn or assess
    # Load both scenarios before the long part, so a typo in the second fails at once.
    scenario = load_scenario(scenario_ref)
    other_sc = load_scenario(compare_ref) if compare_ref is not None else None

    console.print(
        f"[bold]Assessing[/] {scenario.spec.title} ({scenario.name}, "
        f"{scenario.length_km:.1f} km) at {resolution_m:g} m: "
        f"{', '.join(m.value for m in modes)} × {', '.join(li.value for li in lights)}"
    )
    assessment = _analyse(scenario, modes, lights, resolution_m, console, analyse)
    comparison = None
    changes = None
    if other_sc is not None:
        console.print(f"[bold]Assessing for comparison[/] {other_sc.spec.title} ({other_sc.name})")
        other = _analyse(
            other_sc, modes, lights, resolution_m, console, analyse, f"{other_sc.name}: "
        )
        comparison = compare(assessment, other)
        changes = changes_between(comparison, scenario, other_sc, other)

    try:
        with console.status("writing outputs and the report"):
            written = write_outputs(assessment, scenario, out)
            if comparison is not None:
                written["comparison.json"] = write_comparison(
                    comparison, out / "comparison.json", changes
                )
            written["report.html"] = render_report(
                assessment, scenario, out / "report.html", comparison, changes=changes
            )
    except OSError as exc:
        raise AssessError(f"--out: cannot write to {out}: {exc.strerror or exc}") from None

    print_summary(assessment, scenario, console, comparison)
    if changes is not None:
        for e in changes.effects:
            if e.why_nothing:
                console.print(
                    f"  [yellow]bought nothing:[/] {e.change.describe()}: {e.why_nothing}"
                )
    _print_paths(written, out, console)
    return assessment


def print_summary(
    assessment: Assessment,
    scenario: Scenario,
    console: Console,
    comparison: Comparison | None = None,
    weakest: int = 5,
) -> None:
    """Per run: the sector table and the weakest km; then the comparison's headline."""
    for run in assessment.runs:
        table = Table(title=f"{run.mode.value} · {run.light.value}", title_justify="left")
        for col in (
            "sector",
            "km",
            "worst P",
            "at km",
            "mean P",
            f"km < {WEAK_BELOW:g}",
            "cover %",
        ):
            table.add_column(col, justify="left" if col == "sector" else "right")
        for s in sector_stats(run, scenario):
            table.add_row(
                s.name,
                f"{s.from_km:g}–{s.to_km:g}",
                _p(s.worst_p),
                "—" if s.worst_km is None else f"{s.worst_km:g}",
                _p(s.mean_p),
                str(s.km_below),
                "—" if s.coverage_pct is None else f"{s.coverage_pct:.0f}",
            )
        console.print(table)
        ranked = ranked_stretches(run, scenario)
        if ranked:
            st = ranked[0]
            console.print(
                f"  weakest stretch: km {st.from_km:g}–{st.to_km:g} ({st.length_km:.0f} km, "
                f"{', '.join(st.sectors)}), mean P {_p(st.mean_p)}, "
                f"{stretch_why(scenario, run.mode, st.km)}"
            )
        weak = weakest_km(run, weakest)
        if weak:
            items = ", ".join(
                f"km {k.chainage_km:g} {_p(k.p_interruption)} ({k.reason.value})" for k in weak
            )
            console.print(f"  weakest: {items}")
    if comparison is not None:
        console.print(f"[bold]{comparison.other} against {comparison.base}[/]")
        for rc in comparison.runs:
            best = rc.most_improved
            where = (
                f"; most improved km {best.chainage_km:g} ({best.sector}) {best.delta:+.2f}"
                if best
                else ""
            )
            console.print(
                f"  {rc.mode.value} · {rc.light.value}: mean P {_p(rc.mean_base)} → "
                f"{_p(rc.mean_other)}, {len(rc.improved)} km better, "
                f"{len(rc.worsened)} worse{where}"
            )
        for note in comparison.notes:
            console.print(f"  [yellow]note:[/] {note}")


def _print_paths(written: dict[str, Path], out: Path, console: Console) -> None:
    tifs = [p for name, p in written.items() if name.endswith(".tif")]
    console.print(f"[bold]Written to[/] {out}:")
    for name in ("report.html", "summary.json", "comparison.json"):
        if name in written:
            console.print(f"  {written[name]}")
    for name, path in written.items():
        if name.endswith(".geojson"):
            console.print(f"  {path}")
    if tifs:
        console.print(f"  {len(tifs)} GeoTIFF layers ({out / '*.tif'})")


def _p(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2f}"

"""`limes plan` as a function: search with progress bars, write plan.json, scenario.yaml and the
report, print the shopping list. The CLI verb is a thin wrapper over `run_plan`."""

from __future__ import annotations

from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from limes.analysis.change_effects import changes_between
from limes.analysis.command import _progress_bars
from limes.analysis.compare import compare, write_comparison
from limes.analysis.outputs import write_json
from limes.analysis.plan import Plan, PlanError, load_catalogue, plan, scenario_yaml
from limes.analysis.report import render_report
from limes.scenario.load import load_scenario


def write_plan(p: Plan, out_dir: str | Path) -> dict[str, Path]:
    """plan.json, scenario.yaml (ready for `limes assess --compare`), comparison.json, report."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise PlanError(f"--out: {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = {"plan.json": write_json(p.record(), out / "plan.json")}
        path = out / "scenario.yaml"
        path.write_text(
            "# The scenario with the planned package added (limes plan).\n"
            + yaml.safe_dump(scenario_yaml(p), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        written["scenario.yaml"] = path
        comp = compare(p.before, p.after)
        changes = changes_between(comp, p.scenario, p.planned, p.after)
        written["comparison.json"] = write_comparison(comp, out / "comparison.json", changes)
        written["report.html"] = render_report(
            p.before, p.scenario, out / "report.html", comp, changes=changes, plan=p.record()
        )
    except OSError as exc:
        raise PlanError(f"--out: cannot write to {out}: {exc.strerror or exc}") from None
    return written


def run_plan(
    scenario_ref: str | Path,
    catalogue_path: str | Path,
    budget: float,
    out_dir: str | Path,
    resolution_m: float = 200.0,
    console: Console | None = None,
) -> Plan:
    """Load, search, verify, write; returns the plan."""
    console = console or Console()
    scenario = load_scenario(scenario_ref)
    catalogue = load_catalogue(catalogue_path)
    console.print(
        f"[bold]Planning[/] {scenario.spec.title} with a budget of {budget:,.0f} "
        f"{catalogue.currency} ({catalogue.objective.kind} objective, {resolution_m:g} m)"
    )
    with _progress_bars(console) as bars:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=max(total, 1))
            bars.update(tasks[stage], completed=done, total=max(total, 1))  # type: ignore[arg-type]

        p = plan(scenario, catalogue, budget, resolution_m, progress)
    written = write_plan(p, out_dir)
    table = Table(title="what to buy, in order", title_justify="left")
    for col in ("#", "kind", "model", "lat, lon", "cost", "gain", "gain per 1M"):
        table.add_column(col, justify="left" if col in ("kind", "model") else "right")
    for i, b in enumerate(p.package.items, 1):
        table.add_row(
            str(i),
            b.cand.kind,
            b.cand.model,
            f"{b.cand.lat:.4f}, {b.cand.lon:.4f}",
            f"{b.cost:,.0f}",
            f"{b.gain:.3f}",
            f"{b.gain_per_cost * 1e6:.3f}",
        )
    console.print(table)
    console.print(
        f"objective {p.objective_before:.3f} → {p.objective_after:.3f} (full assessment); "
        f"worst km P {p.min_before:.2f} → {p.min_after:.2f}; spent {p.package.cost:,.0f} of "
        f"{budget:,.0f} {catalogue.currency}"
    )
    console.print(f"[bold]Written to[/] {Path(out_dir)}:")
    for path in written.values():
        console.print(f"  {path}")
    return p

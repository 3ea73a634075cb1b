"""The plan an exercise reads, from the files `limes assess` wrote."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from limes.analysis.result import Assessment, CrossingPath, KmResult, Run, Weakness
from limes.analysis.summary_file import KmRecord, load_assessment
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode
from limes.sim.run import SimulationError


def plan_from_summary(path: str | Path, scenario: Scenario) -> Assessment:
    """The plan an exercise reads, from `limes assess`'s summary.json (or its folder).

    Per-km figures come from summary.json; the worst paths' geometry from worst_paths.geojson
    beside it when present (only the geometry: informed groups walk the path at their own
    pace). The scenario must be the one assessed.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    doc = load_assessment(p)
    if doc.scenario != scenario.name:
        raise SimulationError(f"{p}: an assessment of {doc.scenario!r}, not of {scenario.name!r}")
    try:
        paths = _paths_by_run(p.parent / "worst_paths.geojson", scenario)
        runs = []
        for r in doc.runs:
            mode, light = Mode(r.mode), Light(r.light)
            per_km = [_km(k) for k in r.per_km]
            runs.append(Run(mode, light, per_km, paths.get((mode.value, light.value), [])))
    except (KeyError, TypeError, ValueError) as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise SimulationError(f"{p}: not an assessment of this kind ({why})") from None
    return Assessment(scenario.name, float(doc.resolution_m or 0.0), runs)


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _km(k: KmRecord) -> KmResult:
    return KmResult(
        chainage_km=k.chainage_km, p_interruption=_num(k.p_interruption), sector=k.sector,
        reason=Weakness(k.reason), p_detection=_num(k.p_detection), coverage=_num(k.coverage),
        p_easi=k.p_easi, crossing_time_s=k.crossing_time_s, response_time_s=k.response_time_s,
    )  # fmt: skip


def _paths_by_run(path: Path, scenario: Scenario) -> dict[tuple[str, str], list[CrossingPath]]:
    if not path.exists():
        return {}
    out: dict[tuple[str, str], list[CrossingPath]] = {}
    for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
        props = f["properties"]
        if props.get("kind") != "path" or f["geometry"]["type"] != "LineString":
            continue
        lonlat = np.asarray(f["geometry"]["coordinates"], dtype=float)
        x, y = scenario.frame.to_xy(lonlat[:, 0], lonlat[:, 1])
        n = len(lonlat)
        zeros = np.zeros(n)
        xy = np.column_stack([x, y])
        start_km = float(props["start_chainage_km"])
        p_int = _num(props.get("p_interruption"))
        path_ = CrossingPath(start_km, xy, lonlat, zeros, zeros, zeros, p_int, 0)
        out.setdefault((props["mode"], props["light"]), []).append(path_)
    return out

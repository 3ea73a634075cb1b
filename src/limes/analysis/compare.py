"""What one scenario buys over another: P(interruption) per km side by side, and the change.

Runs are matched by adversary mode and light, kilometres by chainage. Two scenarios of the same
border usually share both; when their lines differ in length or their sectors are cut
differently, the km both hold are compared, the rest are counted, and the comparison says so
in its notes. Sector figures follow the base scenario's sector of each km.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from limes.analysis.outputs import WEAK_BELOW, write_json
from limes.analysis.result import Assessment, KmResult, Run
from limes.scenario.schema import Light, Mode

# Chainages are matched after rounding to a metre: both analyses place km on the same grid.
CHAINAGE_DECIMALS = 3


@dataclass(frozen=True)
class KmChange:
    """One km in both assessments; `delta` = other − base, positive where other is better."""

    chainage_km: float
    sector: str
    p_base: float
    p_other: float

    @property
    def delta(self) -> float:
        return self.p_other - self.p_base


@dataclass(frozen=True)
class SectorChange:
    """The change over one (base) sector."""

    sector: str
    km: int
    mean_base: float
    mean_other: float
    km_improved: int
    km_worse: int
    km_below_base: int
    km_below_other: int
    best: KmChange | None

    @property
    def mean_delta(self) -> float:
        return self.mean_other - self.mean_base


@dataclass(frozen=True)
class RunComparison:
    """One mode and light compared km by km."""

    mode: Mode
    light: Light
    per_km: list[KmChange]
    sectors: list[SectorChange]
    only_base_km: list[float]
    only_other_km: list[float]
    tolerance: float

    @property
    def changed(self) -> list[KmChange]:
        """The km whose P changed by more than the tolerance, in chainage order."""
        return [c for c in self.per_km if abs(c.delta) > self.tolerance]

    @property
    def improved(self) -> list[KmChange]:
        """The km that got better, most improved first."""
        return sorted((c for c in self.per_km if c.delta > self.tolerance), key=lambda c: -c.delta)

    @property
    def worsened(self) -> list[KmChange]:
        """The km that got worse, most worsened first."""
        return sorted((c for c in self.per_km if c.delta < -self.tolerance), key=lambda c: c.delta)

    @property
    def most_improved(self) -> KmChange | None:
        return self.improved[0] if self.improved else None

    @property
    def mean_base(self) -> float:
        return _mean([c.p_base for c in self.per_km])

    @property
    def mean_other(self) -> float:
        return _mean([c.p_other for c in self.per_km])


@dataclass(frozen=True)
class Comparison:
    """Base against other: every matched run, and what could not be matched."""

    base: str
    other: str
    runs: list[RunComparison]
    unmatched_runs: list[str]
    notes: list[str]
    weak_below: float


def _mean(values: list[float]) -> float:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else math.nan


def _key(km: KmResult) -> float:
    return round(km.chainage_km, CHAINAGE_DECIMALS)


def _compare_run(base: Run, other: Run, tolerance: float, weak_below: float) -> RunComparison:
    b = {_key(k): k for k in base.per_km}
    o = {_key(k): k for k in other.per_km}
    both = sorted(b.keys() & o.keys())
    changes = [
        KmChange(ch, b[ch].sector, b[ch].p_interruption, o[ch].p_interruption) for ch in both
    ]
    groups: dict[str, list[KmChange]] = {}
    for c in changes:
        groups.setdefault(c.sector, []).append(c)
    sectors = []
    for name, cs in groups.items():
        improved = [c for c in cs if c.delta > tolerance]
        sectors.append(
            SectorChange(
                sector=name,
                km=len(cs),
                mean_base=_mean([c.p_base for c in cs]),
                mean_other=_mean([c.p_other for c in cs]),
                km_improved=len(improved),
                km_worse=sum(c.delta < -tolerance for c in cs),
                km_below_base=sum(c.p_base < weak_below for c in cs),
                km_below_other=sum(c.p_other < weak_below for c in cs),
                best=max(improved, key=lambda c: c.delta) if improved else None,
            )
        )
    return RunComparison(
        mode=base.mode,
        light=base.light,
        per_km=changes,
        sectors=sectors,
        only_base_km=sorted(b.keys() - o.keys()),
        only_other_km=sorted(o.keys() - b.keys()),
        tolerance=tolerance,
    )


def compare(
    base: Assessment,
    other: Assessment,
    tolerance: float = 1e-9,
    weak_below: float = WEAK_BELOW,
) -> Comparison:
    """Compare two assessments run by run (same mode and light) and km by km (same chainage).

    A km counts as improved or worse when its P(interruption) moved by more than `tolerance`.
    """
    others = {(r.mode, r.light): r for r in other.runs}
    bases = {(r.mode, r.light): r for r in base.runs}
    runs = [
        _compare_run(r, others[(r.mode, r.light)], tolerance, weak_below)
        for r in base.runs
        if (r.mode, r.light) in others
    ]
    unmatched = [
        f"{m.value}-{lt.value} ({where} only)"
        for where, mine, theirs in (("base", bases, others), ("other", others, bases))
        for (m, lt) in mine
        if (m, lt) not in theirs
    ]
    notes = []
    if unmatched:
        notes.append("runs in only one assessment are not compared: " + ", ".join(unmatched))
    if base.resolution_m != other.resolution_m:
        notes.append(
            f"the assessments used different resolutions ({base.resolution_m:g} m and "
            f"{other.resolution_m:g} m): part of the change is the grid, not the defences"
        )
    for rc in runs:
        label = f"{rc.mode.value}-{rc.light.value}"
        if rc.only_base_km or rc.only_other_km:
            notes.append(
                f"{label}: the km were matched by chainage; {len(rc.per_km)} km are in both, "
                f"{len(rc.only_base_km)} only in {base.scenario} "
                f"{_span(rc.only_base_km)}and {len(rc.only_other_km)} only in "
                f"{other.scenario} {_span(rc.only_other_km)}(the lines differ in length)"
            )
    sector_diff = _sector_mismatch(base, other)
    if sector_diff:
        notes.append(
            f"the sectors differ at {sector_diff} km (matched by chainage); sector figures "
            f"follow {base.scenario}'s sectors"
        )
    return Comparison(base.scenario, other.scenario, runs, unmatched, notes, weak_below)


def _span(km: list[float]) -> str:
    return f"(km {min(km):g}–{max(km):g}) " if km else ""


def _sector_mismatch(base: Assessment, other: Assessment) -> int:
    """How many matched km name a different sector in the two assessments."""
    if not base.runs or not other.runs:
        return 0
    b = {_key(k): k.sector for k in base.runs[0].per_km}
    o = {_key(k): k.sector for k in other.runs[0].per_km}
    return sum(b[ch] != o[ch] for ch in b.keys() & o.keys())


# --- comparison.json --------------------------------------------------------------------------


def _km_record(c: KmChange | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "chainage_km": c.chainage_km,
        "sector": c.sector,
        "p_base": c.p_base,
        "p_other": c.p_other,
        "delta": c.delta,
    }


def comparison_record(comp: Comparison) -> dict[str, Any]:
    """The content of comparison.json (see docs/assess-output.md for every field)."""
    runs = []
    for rc in comp.runs:
        worst = rc.worsened
        runs.append(
            {
                "mode": rc.mode.value,
                "light": rc.light.value,
                "km_compared": len(rc.per_km),
                "km_improved": len(rc.improved),
                "km_worse": len(worst),
                "mean_base": rc.mean_base,
                "mean_other": rc.mean_other,
                "mean_delta": rc.mean_other - rc.mean_base,
                "km_below_base": sum(c.p_base < comp.weak_below for c in rc.per_km),
                "km_below_other": sum(c.p_other < comp.weak_below for c in rc.per_km),
                "most_improved": _km_record(rc.most_improved),
                "most_worsened": _km_record(worst[0] if worst else None),
                "only_base_km": rc.only_base_km,
                "only_other_km": rc.only_other_km,
                "sectors": [
                    {
                        "sector": s.sector,
                        "km": s.km,
                        "mean_base": s.mean_base,
                        "mean_other": s.mean_other,
                        "mean_delta": s.mean_delta,
                        "km_improved": s.km_improved,
                        "km_worse": s.km_worse,
                        "km_below_base": s.km_below_base,
                        "km_below_other": s.km_below_other,
                        "best": _km_record(s.best),
                    }
                    for s in rc.sectors
                ],
                "per_km": [_km_record(c) for c in rc.per_km],
            }
        )
    return {
        "base": comp.base,
        "other": comp.other,
        "weak_below": comp.weak_below,
        "notes": comp.notes,
        "unmatched_runs": comp.unmatched_runs,
        "runs": runs,
    }


class _InputRecord(Protocol):
    def record(self) -> dict[str, Any]: ...


def write_comparison(
    comp: Comparison, path: str | Path, inputs: _InputRecord | None = None
) -> Path:
    """Write comparison.json (strict JSON, NaN as null); `inputs` adds the input changes."""
    data = comparison_record(comp)
    if inputs is not None:
        data.update(inputs.record())
    return write_json(data, Path(path))

"""Alert severity from the plan: the assessment's P(interruption) for the km an alert falls in.

`limes assess` writes `summary.json` with, per adversary mode and light, one P(interruption) per
km of chainage. A crossing in a km the plan says is weakly held (low P) is more urgent than one
where the defences would likely stop it, so lower P raises the severity. Without a plan the
severity comes from the rule and the target class alone (`SeverityPolicy`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from limes.analysis.summary_file import load_assessment
from limes.errors import OpsError
from limes.ops.alert import Rule, Severity
from limes.ops.detection import TargetClass
from limes.ops.threat import ThreatBoard

#: Severities in increasing order of urgency.
LEVELS: tuple[Severity, ...] = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)

#: The adversary mode whose plan applies to a track of each class.
MODE_OF_CLASS: Mapping[TargetClass, str] = {
    TargetClass.PERSON: "foot",
    TargetClass.ANIMAL: "foot",
    TargetClass.UNKNOWN: "foot",
    TargetClass.VEHICLE: "vehicle",
}


class PlanError(OpsError):
    """A plan summary that cannot be read, naming the file and the field."""


def _default_floor() -> dict[Rule, Severity]:
    return {
        Rule.CROSSED: Severity.HIGH,
        Rule.INTRUSION: Severity.HIGH,
        Rule.VEHICLE_AT_BARRIER: Severity.MEDIUM,
        Rule.CROSSING_IMMINENT: Severity.MEDIUM,
        Rule.APPROACH: Severity.LOW,
        Rule.LOITERING: Severity.LOW,
    }


def _default_class_step() -> dict[TargetClass, int]:
    return {TargetClass.VEHICLE: 1, TargetClass.ANIMAL: -1}


@dataclass(frozen=True)
class SeverityPolicy:
    """How severity is chosen; a policy of the watch floor, not a model of the world.

    - `floor[rule]`: the severity of a rule's alert without a plan (defaults: crossed and
      intrusion high, crossing imminent and vehicle at barrier medium, approach and loitering
      low).
    - `class_step[class]`: levels added for a class (default: +1 vehicle, as it reaches the
      goal faster and carries more; −1 animal, the commonest false alarm), clamped.
    - `p_thresholds`: with a plan, P(interruption) below `p_thresholds[0]` (0.25) gives
      critical, below `[1]` (0.5) high, below `[2]` (0.75) medium; the alert takes the higher
      of that and its floor, so a weak km raises an alert and a strong one never hides it.
    """

    floor: dict[Rule, Severity] = field(default_factory=_default_floor)
    class_step: dict[TargetClass, int] = field(default_factory=_default_class_step)
    p_thresholds: tuple[float, float, float] = (0.25, 0.5, 0.75)
    #: Sector threat levels from intelligence (None: intelligence does not weigh in).
    threat: ThreatBoard | None = None
    #: Levels an alert gains in a sector at each threat level.
    threat_step: dict[Severity, int] = field(
        default_factory=lambda: {Severity.HIGH: 1, Severity.CRITICAL: 2}
    )

    def __post_init__(self) -> None:
        t = self.p_thresholds
        if not 0.0 <= t[0] <= t[1] <= t[2] <= 1.0:
            raise ValueError(f"p_thresholds must rise within [0, 1], got {t}")
        missing = [r.value for r in Rule if r not in self.floor]
        if missing:
            raise ValueError(f"severity floor lacks rules {missing}")

    def base(self, rule: Rule, target_class: TargetClass) -> Severity:
        """Severity from the rule and the class alone (no plan)."""
        level = LEVELS.index(self.floor[rule]) + self.class_step.get(target_class, 0)
        return LEVELS[min(max(level, 0), len(LEVELS) - 1)]

    def from_p(self, p: float) -> Severity:
        """Severity the plan's P(interruption) alone asks for."""
        critical, high, medium = self.p_thresholds
        if p < critical:
            return Severity.CRITICAL
        if p < high:
            return Severity.HIGH
        if p < medium:
            return Severity.MEDIUM
        return Severity.LOW

    def severity(
        self, rule: Rule, target_class: TargetClass, p: float | None, sector: str | None = None
    ) -> Severity:
        """The alert's severity: its floor, raised by a weak km of the plan and by the threat
        intelligence reports for its sector."""
        base = self.base(rule, target_class)
        if p is not None and math.isfinite(p):
            base = max(base, self.from_p(p), key=LEVELS.index)
        if self.threat is None or sector is None:
            return base
        step = self.threat_step.get(self.threat.level(sector), 0)
        return LEVELS[min(LEVELS.index(base) + step, len(LEVELS) - 1)]


@dataclass(frozen=True)
class PlanLookup:
    """P(interruption) per whole km of chainage, per adversary mode (worst over lights).

    `p_by_mode[mode][k]` is the plan's P for chainage in [k, k+1) km, NaN where the plan has no
    value. A mode missing from the plan falls back to the worst over all modes.
    """

    p_by_mode: Mapping[str, NDArray[np.float64]]
    source: str = ""

    def __post_init__(self) -> None:
        if not self.p_by_mode:
            raise PlanError(f"{self.source or 'plan'}: no per-km results")

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, float, float]], source: str = "") -> PlanLookup:
        """From (mode, chainage_km, p_interruption) rows; several lights of a mode take the min."""
        per: dict[str, dict[int, float]] = {}
        for mode, km, p in rows:
            k = math.floor(km)
            slot = per.setdefault(mode, {})
            slot[k] = min(p, slot.get(k, math.inf))
        out = {}
        for mode, values in per.items():
            arr = np.full(max(values) + 1, np.nan)
            for k, p in values.items():
                if k >= 0:
                    arr[k] = p
            out[mode] = arr
        return cls(out, source)

    @classmethod
    def from_assessment(cls, assessment: Any) -> PlanLookup:
        """From an in-memory `limes.analysis.result.Assessment`."""
        rows = [
            (str(run.mode.value), float(r.chainage_km), float(r.p_interruption))
            for run in assessment.runs
            for r in run.per_km
        ]
        return cls.from_rows(rows, f"assessment of {assessment.scenario}")

    @classmethod
    def load(cls, path: str | Path) -> PlanLookup:
        """From an assessment's `summary.json` (or the folder holding it), read and checked by
        `limes.analysis.load_assessment`, the file's one reader."""
        summary = load_assessment(path)
        source = str(Path(path) / "summary.json" if Path(path).is_dir() else path)
        return cls.from_summary(summary.model_dump(mode="json"), source)

    @classmethod
    def from_summary(cls, doc: Any, source: str = "summary.json") -> PlanLookup:
        """From a parsed summary: `{"runs": [{"mode", "light", "per_km": [...]}]}` or a flat
        `{"per_km": [{"chainage_km", "p_interruption", "mode"?}]}` (mode default foot)."""
        if not isinstance(doc, dict):
            raise PlanError(f"{source}: the summary must be a JSON object")
        rows: list[tuple[str, float, float]] = []
        if "runs" in doc:
            runs = doc["runs"]
            if not isinstance(runs, list):
                raise PlanError(f"{source}: runs must be a list")
            for i, run in enumerate(runs):
                if not isinstance(run, dict) or not isinstance(run.get("per_km"), list):
                    raise PlanError(f"{source}: runs[{i}].per_km must be a list")
                mode = str(run.get("mode", "foot"))
                rows += _rows(run["per_km"], f"{source}: runs[{i}].per_km", mode)
        elif isinstance(doc.get("per_km"), list):
            rows = _rows(doc["per_km"], f"{source}: per_km", "foot")
        else:
            raise PlanError(f"{source}: no per_km list (nor runs with one)")
        return cls.from_rows(rows, source)

    def p_at(self, chainage_km: ArrayLike, mode: str | Sequence[str]) -> NDArray[np.float64]:
        """The plan's P at each chainage (NaN where it has none), for one mode or one per point."""
        km = np.floor(np.asarray(chainage_km, dtype=float)).astype(np.int64)
        modes = np.broadcast_to(np.asarray(mode, dtype=object), km.shape)
        out = np.full(km.shape, np.nan)
        for m in set(modes.ravel().tolist()):
            table = self.p_by_mode.get(m)
            if table is None:
                table = self._worst
            sel = modes == m
            k = km[sel]
            ok = (k >= 0) & (k < table.size)
            vals = np.full(k.shape, np.nan)
            vals[ok] = table[k[ok]]
            out[sel] = vals
        return out

    @property
    def _worst(self) -> NDArray[np.float64]:
        n = max(t.size for t in self.p_by_mode.values())
        stack = np.full((len(self.p_by_mode), n), np.nan)
        for i, t in enumerate(self.p_by_mode.values()):
            stack[i, : t.size] = t
        with np.errstate(all="ignore"):
            worst = np.nanmin(np.where(np.isnan(stack), np.inf, stack), axis=0)
        return np.where(np.isinf(worst), np.nan, worst)


def _rows(items: list[Any], where: str, mode: str) -> list[tuple[str, float, float]]:
    rows = []
    for j, item in enumerate(items):
        if not isinstance(item, dict):
            raise PlanError(f"{where}[{j}]: must be an object")
        try:
            km = float(item["chainage_km"])
            p = float(item["p_interruption"])
        except KeyError as exc:
            raise PlanError(f"{where}[{j}]: missing {exc.args[0]}") from None
        except (TypeError, ValueError):
            raise PlanError(
                f"{where}[{j}]: chainage_km and p_interruption must be numbers"
            ) from None
        if not (math.isfinite(km) and km >= 0 and 0.0 <= p <= 1.0):
            raise PlanError(f"{where}[{j}]: need chainage_km ≥ 0 and 0 ≤ p_interruption ≤ 1")
        rows.append((str(item.get("mode", mode)), km, p))
    return rows

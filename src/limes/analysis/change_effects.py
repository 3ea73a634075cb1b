"""What each change between two scenarios did, and why a change that bought nothing did not.

`limes assess --compare` lists the input differences (`scenario.diff`); for each sensor,
barrier and unit added, changed or removed this module counts the km it can reach that got
better or worse in any compared run, and where an added or changed one improved none, says
why in words: a camera facing away from the line ("its 60° camera faces 0°, away from the
line"), a view that meets none of the strip, an asset planned but not built, km already held,
a barrier where nothing watches (a delay only helps after a detection), a unit whose km are not
seen. The reasons are tried in that order; the first that holds is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from limes.analysis.compare import Comparison, KmChange
from limes.analysis.result import Assessment
from limes.scenario.diff import InputChange, scenario_diff
from limes.scenario.model import Scenario
from limes.scenario.schema import BarrierStatus
from limes.scenario.warnings import facing_note, longest_range_m, sees_strip
from limes.sensing.barrier import standing_interval_km
from limes.sensing.detection_law import law_for, target_class

# A km at or above this P before the change had little left to gain (the "held" reason's mark).
HELD_AT = 0.8


@dataclass(frozen=True)
class ChangeEffect:
    """What one input change did to the km it can reach, over every compared run.

    `from_km`–`to_km` is the chainage it can act on (a sensor: its longest range either side;
    a barrier: its interval; a unit: its base's sector); `why_nothing` says why an added or
    changed asset improved none of them, or is None when it did (or was removed).
    """

    change: InputChange
    from_km: float | None
    to_km: float | None
    km_improved: int
    km_worse: int
    best_delta: float
    why_nothing: str | None


def change_effects(comp: Comparison, base: Scenario, other: Scenario) -> list[ChangeEffect]:
    """Each asset change (sensor, barrier, unit) with its effect and, if none, the reason."""
    out = []
    for ch in scenario_diff(base, other):
        if ch.kind not in ("sensors", "barriers", "units"):
            continue
        sc = base if ch.change == "removed" else other
        span = _reach_km(sc, ch)
        improved = worse = 0
        best = 0.0
        for rc in comp.runs:
            for c in rc.per_km:
                if span is not None and not (span[0] - 1.0 < c.chainage_km < span[1]):
                    continue
                improved += c.delta > rc.tolerance
                worse += c.delta < -rc.tolerance
                best = max(best, c.delta)
        why = None
        if ch.change != "removed" and improved == 0:
            why = _why_nothing(ch, base, other, comp, span)
        lo, hi = span if span is not None else (None, None)
        out.append(ChangeEffect(ch, lo, hi, improved, worse, best, why))
    return out


def _reach_km(sc: Scenario, ch: InputChange) -> tuple[float, float] | None:
    if ch.kind == "sensors":
        s = sc.sensors[ch.name]
        ck, _ = sc.locate(*sc.position_xy(s.position))
        r = longest_range_m(sc, s) / 1000.0
        return max(0.0, float(ck) / 1000.0 - r), min(sc.length_km, float(ck) / 1000.0 + r)
    if ch.kind == "barriers":
        b = next(b for b in sc.spec.barriers if b.id == ch.name)
        return b.from_km, b.to_km
    if ch.kind == "units":
        ck, _ = sc.locate(*sc.position_xy(sc.units[ch.name].base))
        sec = sc.sector_at(float(ck) / 1000.0)
        return sec.from_km, min(sec.to_km, sc.length_km)
    return None


def _km_in(comp: Comparison, span: tuple[float, float] | None) -> list[KmChange]:
    return [
        c
        for rc in comp.runs
        for c in rc.per_km
        if span is None or span[0] - 1.0 < c.chainage_km < span[1]
    ]


def _why_nothing(
    ch: InputChange,
    base: Scenario,
    other: Scenario,
    comp: Comparison,
    span: tuple[float, float] | None,
) -> str:
    near = _km_in(comp, span)
    if near and all(c.p_base >= HELD_AT for c in near):
        return f"the km it reaches were already held (P ≥ {HELD_AT:g} before)"
    if ch.kind == "sensors":
        s = other.sensors[ch.name]
        if s.status is not BarrierStatus.BUILT:
            return f"it is {s.status.value.replace('_', ' ')}: only what stands is assessed"
        facing = facing_note(other, s)
        if facing:
            return facing
        if not sees_strip(other, s):
            return "its view meets none of the analysed strip (too far, or facing away)"
        if comp.runs and not any(
            law_for(other.model_of(s), target_class(rc.mode), rc.light) for rc in comp.runs
        ):
            runs = ", ".join(f"{rc.mode.value} · {rc.light.value}" for rc in comp.runs)
            return f"its model has no detection law for the runs compared ({runs})"
        return (
            "it sees the strip, but the adversary's best path there stays outside its sight "
            "(terrain, range) or is seen too late for any unit to arrive"
        )
    if ch.kind == "barriers":
        b = next(b for b in other.spec.barriers if b.id == ch.name)
        if standing_interval_km(b) is None:
            return f"it is {b.status.value.replace('_', ' ')}: only what stands is assessed"
        if near and all(c.p_base == 0.0 for c in near):
            return (
                "the km it covers are not seen: a delay buys time only after a detection, "
                "so a barrier where nothing watches adds nothing"
            )
        return "its delay is too short to let a unit arrive in time on the adversary's best path"
    if ch.kind == "units":
        u = other.units[ch.name]
        if not u.available:
            return "it is marked unavailable"
        if near and all(c.p_base == 0.0 for c in near):
            return (
                "the km it can reach are not seen: a faster response cannot help a crossing "
                "nobody detects"
            )
        return "another unit already answers sooner there, or it cannot arrive in time either"
    return "no km it can reach changed"


@dataclass(frozen=True)
class Changes:
    """Everything `--compare` knows about the inputs: the differences, their effects, and the
    other scenario and assessment (for the change map)."""

    inputs: list[InputChange]
    effects: list[ChangeEffect]
    other_scenario: Scenario
    other: Assessment

    def record(self) -> dict[str, Any]:
        """The part of comparison.json about inputs (see docs/assess-output.md)."""
        return {
            "input_changes": [
                {
                    "kind": c.kind,
                    "name": c.name,
                    "change": c.change,
                    "fields": {k: list(v) for k, v in c.fields.items()},
                    "text": c.describe(),
                }
                for c in self.inputs
            ],
            "effects": [
                {
                    "kind": e.change.kind,
                    "name": e.change.name,
                    "change": e.change.change,
                    "from_km": e.from_km,
                    "to_km": e.to_km,
                    "km_improved": e.km_improved,
                    "km_worse": e.km_worse,
                    "best_delta": e.best_delta,
                    "why_nothing": e.why_nothing,
                }
                for e in self.effects
            ],
        }


def changes_between(
    comp: Comparison, base: Scenario, other_scenario: Scenario, other: Assessment
) -> Changes:
    """The input differences from `base` to `other_scenario` and what each did."""
    return Changes(
        scenario_diff(base, other_scenario),
        change_effects(comp, base, other_scenario),
        other_scenario,
        other,
    )

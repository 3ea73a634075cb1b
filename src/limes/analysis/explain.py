"""Why: the words that turn a figure into a reason a commander can act on.

Why a stretch is weak, answered from the result records and the scenario (nothing of the
analysis internals):

- why a stretch is weak: which of *not seen*, *seen too late*, *too fast to stop* (the
  response too slow) holds on how many of its km, what barrier stands there and whether this
  adversary mode passes it, and how the response time compares with the crossing time;
- why a change to the scenario bought nothing (`limes assess --compare`): a camera facing
  away from the line, a sensor whose view meets none of the strip, a sensor or barrier that is
  not built, a unit already out-run by another, or a km that is now seen but still not in time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

from limes.analysis.result import KmResult, Weakness
from limes.scenario.model import Scenario
from limes.scenario.schema import Barrier, BarrierStatus, Mode
from limes.sensing.barrier import crossing, standing_interval_km


def reasons_phrase(km: Sequence[KmResult]) -> str:
    """ "not seen on 110 km, seen too late on 4 km": the reasons, most frequent first."""
    counts: dict[Weakness, int] = {}
    for k in km:
        counts[k.reason] = counts.get(k.reason, 0) + 1
    parts = sorted(counts.items(), key=lambda kv: -kv[1])
    words = {Weakness.TOO_FAST_TO_STOP: "response too slow (too fast to stop)"}
    return ", ".join(f"{words.get(r, r.value)} on {n} km" for r, n in parts)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def barrier_phrase(scenario: Scenario, mode: Mode, from_km: float, to_km: float) -> str:
    """What stands on a stretch and what it does to this mode: the barrier half of *why*."""
    length = max(to_km - from_km, 1e-9)
    standing: list[tuple[Barrier, float]] = []
    pending: list[Barrier] = []
    for b in scenario.spec.barriers:
        if _overlap(b.from_km, b.to_km, from_km, to_km) <= 0:
            continue
        span = standing_interval_km(b)
        covered = _overlap(*span, from_km, to_km) if span else 0.0
        if covered > 0:
            standing.append((b, covered))
        if b.status is not BarrierStatus.BUILT and (
            span is None or covered < _overlap(b.from_km, b.to_km, from_km, to_km)
        ):
            pending.append(b)
    out = []
    if not standing:
        out.append("no barrier stands here")
    else:
        stops = [b for b, _ in standing if not crossing(b, mode).passable]
        delay = sum(crossing(b, mode).mean_s for b, _ in standing if crossing(b, mode).passable)
        share = min(1.0, max(c for _, c in standing) / length)
        kinds = "+".join(dict.fromkeys(b.kind.value for b, _ in standing))
        if stops:
            out.append(f"{kinds} on {share:.0%} of it stops a {mode.value} crossing there")
        elif delay > 0:
            out.append(
                f"{kinds} on {share:.0%} of it, passable on {mode.value} in ~{delay / 60:.0f} min"
            )
        else:
            out.append(f"{kinds} on {share:.0%} of it does not slow a {mode.value} crossing")
    if pending:
        names = ", ".join(
            f"{b.id} ({b.status.value.replace('_', ' ')}"
            + (f" {b.progress_pct:g} %" if b.progress_pct is not None else "")
            + ")"
            for b in pending[:3]
        )
        out.append(f"not yet standing: {names}")
    return "; ".join(out)


def response_phrase(km: Sequence[KmResult]) -> str:
    """Median response against median crossing time where the reason is timing, else ""."""
    timed = [
        k
        for k in km
        if k.reason in (Weakness.SEEN_TOO_LATE, Weakness.TOO_FAST_TO_STOP)
        and k.response_time_s is not None
        and k.crossing_time_s is not None
        and math.isfinite(k.response_time_s)
    ]
    if not timed:
        none = [k for k in km if k.response_time_s is not None and math.isinf(k.response_time_s)]
        return "no unit can reach it" if none and len(none) == len(km) else ""
    resp = median(k.response_time_s for k in timed if k.response_time_s is not None)
    cross = median(k.crossing_time_s for k in timed if k.crossing_time_s is not None)
    return f"response ~{resp / 60:.0f} min against a ~{cross / 60:.0f} min crossing"


def stretch_why(scenario: Scenario, mode: Mode, km: Sequence[KmResult]) -> str:
    """Why a stretch is weak, in one line: reasons, barriers, response against crossing."""
    if not km:
        return ""
    lo = min(k.chainage_km for k in km)
    hi = min(max(k.chainage_km for k in km) + 1.0, scenario.length_km)
    parts = [reasons_phrase(km), barrier_phrase(scenario, mode, lo, hi), response_phrase(km)]
    return "; ".join(p for p in parts if p)

"""Files an exercise leaves behind: scorecard (JSON and HTML), truth and detections (JSON lines).

- `scorecard.json`: `Scorecard.as_dict()`.
- `scorecard.html`: the same, as one self-contained page (no scripts, no outside links).
- `truth.jsonl`: one line per group and per unit: its positions (lon/lat) every
  `truth_step_s` and at its ends, with what became of it.
- `detections.jsonl`: one line per report in sending order: `send_s`, `actor_id` (null for a
  false alarm) and `message`, the exact JSON that was sent.
Formats: docs/exercise.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment

from limes.scenario.model import Scenario
from limes.sim.actors import Actor
from limes.sim.emission import Emission
from limes.sim.response import UnitTrack
from limes.sim.scorecard import Scorecard


def detections_lines(emitted: Sequence[Emission]) -> bytes:
    """`detections.jsonl` as bytes: the sent messages verbatim, in sending order."""
    out = bytearray()
    for e in emitted:
        actor = json.dumps(e.actor_id)
        out += f'{{"send_s":{e.send_s!r},"actor_id":{actor},"message":'.encode()
        out += e.payload
        out += b"}\n"
    return bytes(out)


def _r(v: float | None, nd: int = 3) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def truth_lines(
    scenario: Scenario,
    actors: Sequence[Actor],
    units: Sequence[UnitTrack],
    horizon_s: float,
    step_s: float,
) -> bytes:
    """`truth.jsonl` as bytes: every group's and unit's positions over the run."""
    lines = []
    for a in actors:
        end = min(a.end_s, horizon_s)
        t = np.arange(math.ceil(a.start_s / step_s) * step_s, end, step_s)
        t = np.unique(np.concatenate([[a.start_s], t, [max(end, a.start_s)]]))
        x, y = a.position(t)
        lon, lat = scenario.frame.to_lonlat(x, y)
        lines.append(
            {
                "id": a.id,
                "kind": "crossing" if a.crossing else "nuisance",
                "profile": a.profile.name,
                "stance": a.stance.value,
                "mode": a.mode.value,
                "group_size": a.group_size,
                "route": a.route.source,
                "start_s": _r(a.start_s),
                "cross_s": _r(a.cross_s),
                "goal_s": _r(a.goal_s),
                "stop_s": _r(a.stop_s),
                "blocked": a.blocked,
                "crossing_chainage_km": _r(
                    None if a.crossing_chainage_m is None else a.crossing_chainage_m / 1000.0
                ),
                "times_s": [round(float(v), 3) for v in t],
                "lon": [round(float(v), 6) for v in lon],
                "lat": [round(float(v), 6) for v in lat],
            }
        )
    for u in units:
        times = [v for v in u.times_s if v <= horizon_s] or [0.0]
        xy = np.asarray(u.xy[: len(times)], dtype=float)
        lon, lat = scenario.frame.to_lonlat(xy[:, 0], xy[:, 1])
        lines.append(
            {
                "id": u.unit_id,
                "kind": "unit",
                "times_s": [round(float(v), 3) for v in times],
                "lon": [round(float(v), 6) for v in lon],
                "lat": [round(float(v), 6) for v in lat],
            }
        )
    return b"".join(json.dumps(line, separators=(",", ":")).encode() + b"\n" for line in lines)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>limes exercise — {{ s.scenario }}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}
.note{color:#666}
</style></head><body>
<h1>Exercise scorecard: {{ s.scenario }}</h1>
<p>Seed {{ s.seed }}, {{ s.hours }} h from {{ s.start }}. {{ s.reports }} reports sent
({{ s.false_alarm_reports }} false alarms); {{ s.nuisance_groups }} nuisance groups.
{% if s.alerts is not none %}{{ s.alerts }} alerts, {{ s.false_alerts }} false
({{ fmt(s.false_alerts_per_day, 1) }} a day).{% endif %}</p>
{% if s.patrols %}<p>Patrols: {{ s.patrols.patrols_a_day }} a day over
{{ s.patrols.stretches | length }} weak stretches, catch chance {{ fmt(s.patrols.catch_p) }};
{{ s.patrols.crossings_patrolled }} crossings met a patrol, {{ s.patrols.caught }} caught at the
line.</p>{% endif %}
<table><tr><th>sector</th><th>attempted</th><th>finished</th><th>blocked</th>
<th>detected</th><th>alerted</th><th>interrupted</th><th>observed P(int.)</th>
<th>95 % interval</th><th>plan P (mean)</th><th>plan EASI (mean)</th>
<th>detection→alert median s</th></tr>
{% for t in rows %}<tr><td>{{ t.name }}</td><td>{{ t.attempted }}</td><td>{{ t.finished }}</td>
<td>{{ t.blocked }}</td><td>{{ t.detected }}</td><td>{{ dash(t.alerted) }}</td>
<td>{{ t.interrupted }}</td><td>{{ fmt(t.p_observed) }}</td>
<td>{{ fmt(t.p_low) }}–{{ fmt(t.p_high) }}</td><td>{{ fmt(t.plan_p_mean) }}</td>
<td>{{ fmt(t.plan_p_easi_mean) }}</td>
<td>{{ fmt(t.detection_to_alert_s.median, 0) if t.detection_to_alert_s else "—" }}</td></tr>
{% endfor %}</table>
<h2>Crossings</h2>
<table><tr><th>group</th><th>profile</th><th>stance</th><th>sector</th><th>km</th><th>light</th>
<th>outcome</th><th>reports</th><th>alerted</th><th>unit</th><th>patrol</th><th>plan P</th></tr>
{% for c in s.crossings %}<tr><td>{{ c.actor_id }}</td><td>{{ c.profile }}</td>
<td>{{ c.stance }}</td><td>{{ c.sector }}</td><td>{{ dash(c.chainage_km) }}</td>
<td>{{ dash(c.light) }}</td><td>{{ c.outcome }}</td><td>{{ c.reports }}</td>
<td>{{ dash(c.alerted) }}</td><td>{{ dash(c.unit_id) }}</td><td>{{ dash(c.patrol) }}</td>
<td>{{ fmt(c.plan_p) }}</td></tr>
{% endfor %}</table>
{% for n in s.notes %}<p class="note">{{ n }}</p>{% endfor %}
</body></html>
"""


def scorecard_html(card: Scorecard) -> str:
    """The scorecard as one self-contained HTML page."""

    def fmt(v: Any, nd: int = 2) -> str:
        return "—" if v is None else f"{float(v):.{nd}f}"

    def dash(v: Any) -> str:
        return "—" if v is None else str(v)

    env = Environment(autoescape=True)
    page = env.from_string(_PAGE)
    return page.render(s=card, rows=[*card.sectors, card.totals], fmt=fmt, dash=dash)


def write_outputs(
    out_dir: str | Path,
    scenario: Scenario,
    card: Scorecard,
    actors: Sequence[Actor],
    units: Sequence[UnitTrack],
    emitted: Sequence[Emission],
    horizon_s: float,
    truth_step_s: float,
) -> dict[str, Path]:
    """Write the exercise's files into a folder (created if needed); their paths by name."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    paths = {
        "scorecard.json": d / "scorecard.json",
        "scorecard.html": d / "scorecard.html",
        "truth.jsonl": d / "truth.jsonl",
        "detections.jsonl": d / "detections.jsonl",
    }
    paths["scorecard.json"].write_text(
        json.dumps(card.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["scorecard.html"].write_text(scorecard_html(card), encoding="utf-8")
    paths["truth.jsonl"].write_bytes(truth_lines(scenario, actors, units, horizon_s, truth_step_s))
    paths["detections.jsonl"].write_bytes(detections_lines(emitted))
    return paths

"""Prometheus metrics: what is stored (from the database) and what this process counted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from limes.api.auth import Permission, require
from limes.api.errors import responses
from limes.api.routes.common import services
from limes.api.services import Services
from limes.ops.metrics import CONTENT_TYPE, escape_label, format_value
from limes.store.alerts import alert_counts
from limes.store.changes import change_bounds
from limes.store.dead_letters import dead_letter_counts
from limes.store.detections import count_detections
from limes.store.incidents import incident_counts
from limes.store.tracks import track_counts
from limes.store.users import Principal

router = APIRouter(tags=["metrics"])


def _family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {format_value(value)}" for labels, value in samples]
    return lines


def _labels(**pairs: str) -> str:
    inner = ",".join(f'{k}="{escape_label(v)}"' for k, v in pairs.items())
    return "{" + inner + "}"


def render_metrics(svc: Services) -> str:
    """The metrics text (Prometheus exposition format 0.0.4)."""
    with svc.db.reader() as session:
        detections = count_detections(session)
        letters = dead_letter_counts(session)
        tracks = track_counts(session)
        alerts = alert_counts(session)
        incidents = incident_counts(session)
        _, head = change_bounds(session)
    lines: list[str] = []
    lines += _family("limes_store_detections", "gauge", "Detections stored.", [("", detections)])
    lines += _family(
        "limes_store_dead_letters",
        "gauge",
        "Dead letters stored, by reason.",
        [(_labels(reason=r), n) for r, n in sorted(letters.items())],
    )
    lines += _family(
        "limes_store_tracks",
        "gauge",
        "Current tracks, by status.",
        [(_labels(status=s), n) for s, n in sorted(tracks.items())],
    )
    lines += _family(
        "limes_store_alerts",
        "gauge",
        "Alerts stored, by rule.",
        [(_labels(rule=r), n) for r, n in sorted(alerts.items())],
    )
    lines += _family(
        "limes_store_incidents",
        "gauge",
        "Incidents, by sector and state.",
        [(_labels(sector=sec, state=st), n) for (sec, st), n in sorted(incidents.items())],
    )
    lines += _family("limes_store_change_id", "gauge", "Newest change-log id.", [("", head)])
    with svc._lock:
        counters = dict(svc.counters)
    for name, value in sorted(counters.items()):
        lines += _family(f"limes_api_{name}_total", "counter", f"API count: {name}.", [("", value)])
    text = "\n".join(lines) + "\n"
    if svc.extra_metrics is not None:
        text += svc.extra_metrics()
    return text


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text format 0.0.4.",
        },
        **responses(401, 403),
    },
)
def metrics(
    _: Annotated[Principal, Depends(require(Permission.READ))],
    svc: Annotated[Services, Depends(services)],
) -> PlainTextResponse:
    """Metrics for Prometheus (scrape with a viewer token as bearer)."""
    return PlainTextResponse(render_metrics(svc), media_type=CONTENT_TYPE)

"""The map's own routes under /api/web: who am I, where the stream stands, base layers, replay,
assessments and dispatch advice. Same token auth as the API; every route needs `read`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from limes.api.auth import ROLE_PERMISSIONS, Permission, require
from limes.api.errors import ApiError, responses
from limes.api.models import AlertOut
from limes.api.services import Services
from limes.scenario.schema import Light, TargetClassName
from limes.store.changes import change_bounds
from limes.store.incidents import get_incident
from limes.store.rows import json_value
from limes.store.tables import AlertRow, TrackHistoryRow
from limes.store.units import unit_states
from limes.store.users import Principal
from limes.web.advice import AdviceAnswer, dispatch_advice
from limes.web.assessments import AssessmentError
from limes.web.context import WebContext
from limes.web.health import floor_health
from limes.web.patrols import PatrolPlanError, patrol_plan

router = APIRouter(prefix="/api/web", tags=["map"])
Reader = Annotated[Principal, Depends(require(Permission.READ))]
Name = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
Run = Annotated[str, Path(max_length=40, pattern=r"^[a-z]+-[a-z]+$")]


def _svc(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def _web(request: Request) -> WebContext:
    found: WebContext = request.app.state.web
    return found


Svc = Annotated[Services, Depends(_svc)]
Web = Annotated[WebContext, Depends(_web)]
PNG_CACHE = {"Cache-Control": "private, max-age=86400"}


@router.get("/me", responses=responses(401, 403))
def me(who: Reader) -> dict[str, Any]:
    """The caller: name, role and what the role may do (the map hides what would fail)."""
    return {
        "name": who.name,
        "role": who.role.value,
        "permissions": sorted(p.value for p in ROLE_PERMISSIONS[who.role]),
    }


@router.get("/state", responses=responses(401, 403))
def state(_: Reader, svc: Svc, web: Web) -> dict[str, Any]:
    """The newest change id (read before the REST state, so the stream resumes from it) and the
    map's settings."""
    with svc.db.reader() as session:
        oldest, newest = change_bounds(session)
    tiles = web.hillshade_tiles(build=True)
    cfg = web.config
    return {
        "cursor": newest,
        "oldest": oldest,
        "scenario": svc.scenario.name if svc.scenario else None,
        "hillshade": None
        if tiles is None
        else {
            "url": "/api/web/hillshade/{z}/{x}/{y}.png",
            "min_zoom": cfg.hillshade_min_zoom,
            "max_zoom": cfg.hillshade_max_zoom,
            "bounds": list(tiles.bounds),
        },
        "dispatch_advice": "advice" if web.advice is not None else "distance",
        "trail_points": cfg.trail_points,
        "trail_s": cfg.trail_s,
        "heading_s": cfg.heading_s,
        "alert_flash_s": cfg.alert_flash_s,
        "alert_marker_s": cfg.alert_marker_s,
        "alarm_period_s": cfg.alarm_period_s,
        "now": svc.now().isoformat(),
        "clock_speed": svc.clock_speed,
        "exercise": svc.exercise,
    }


@router.get("/health", responses=responses(401, 403))
def floor_health_route(_: Reader, svc: Svc, web: Web) -> dict[str, Any]:
    """Sensors late or silent, rejected reports per door, the exercise's state, and the
    system's present (the page's clock follows it)."""
    sensors = [s.id for s in svc.scenario.spec.sensors] if svc.scenario is not None else []
    cfg = web.config
    with svc.db.reader() as session:
        out = floor_health(
            session,
            sensors,
            svc.now(),
            svc.exercise,
            window_s=cfg.sensor_window_s,
            late_factor=cfg.sensor_late_factor,
        )
    out["clock_speed"] = svc.clock_speed
    return out


@router.get("/hillshade/{z}/{x}/{y}.png", responses=responses(401, 403, 404))
async def hillshade_tile(
    z: Annotated[int, Path(ge=0, le=18)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    _: Reader,
    web: Web,
) -> Response:
    """One shaded-relief tile of the scenario terrain (204 off the terrain)."""
    if x >= 2**z or y >= 2**z:
        raise ApiError(404, "not_found", f"no tile {z}/{x}/{y}")
    cfg = web.config
    if not cfg.hillshade_min_zoom <= z <= cfg.hillshade_max_zoom:
        raise ApiError(404, "not_found", f"hillshade is served at zoom {cfg.hillshade_min_zoom}"
                       f"–{cfg.hillshade_max_zoom}, not {z}")  # fmt: skip
    tiles = await run_in_threadpool(web.hillshade_tiles, True)
    if tiles is None:
        raise ApiError(404, "not_found", "no scenario terrain to shade")
    png = await run_in_threadpool(tiles.tile, z, x, y)
    if png is None:
        return Response(status_code=204)
    return Response(png, media_type="image/png", headers=PNG_CACHE)


@router.get("/chainage", responses=responses(401, 403, 404))
def chainage(
    _: Reader, svc: Svc, step_km: Annotated[float, Query(gt=0.1, le=1000)] = 10.0
) -> dict[str, Any]:
    """Chainage ticks along the border every `step_km`: a point with its km and the line's
    bearing there (degrees clockwise from north), for tick marks and labels."""
    sc = svc.scenario
    if sc is None:
        raise ApiError(404, "not_found", "no scenario is loaded")
    import numpy as np

    km = np.arange(0.0, sc.length_km + 1e-9, step_km)
    x, y = sc.border.point_at(km * 1000.0, 0.0)
    tx, ty = sc.border.tangent_at(km * 1000.0)
    lon, lat = sc.frame.to_lonlat(x, y)
    bearing = np.degrees(np.arctan2(tx, ty)) % 360.0
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lo, 6), round(la, 6)]},
            "properties": {"km": round(float(k), 3), "bearing_deg": round(float(b), 1)},
        }
        for k, lo, la, b in zip(
            km, np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(), bearing, strict=True
        )
    ]
    return {"type": "FeatureCollection", "features": features}


@router.get("/coverage", responses=responses(401, 403, 404))
async def coverage(
    _: Reader,
    web: Web,
    target: TargetClassName = TargetClassName.PERSON,
    light: Light = Light.DAY,
) -> JSONResponse:
    """Each sensor's coverage of a target class in a light: range and field of view, clipped by
    line of sight over the terrain."""
    layers = web.coverage_layers()
    if layers is None:
        raise ApiError(404, "not_found", "no scenario is loaded")
    doc = await run_in_threadpool(layers.geojson, target, light)
    return JSONResponse(doc)


@router.get("/replay", responses=responses(401, 403, 422))
def replay(
    _: Reader,
    svc: Svc,
    web: Web,
    hours: Annotated[float, Query(gt=0, le=24 * 30)] = 1.0,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Every stored track state and alert of the last `hours` before `until` (default: the
    newest stored state), oldest first, for scrubbing; capped at the map's replay limit."""
    if until is not None and until.tzinfo is None:
        raise ApiError(422, "invalid_request", "query.until: give a timezone (e.g. Z)")
    cap = web.config.replay_max_points
    with svc.db.reader() as session:
        if until is None:
            newest = session.scalar(select(TrackHistoryRow.time).order_by(
                TrackHistoryRow.time.desc()).limit(1))  # fmt: skip
            until = (newest or datetime.now(UTC)) + timedelta(seconds=1)
        since = until - timedelta(hours=hours)
        rows = session.scalars(
            select(TrackHistoryRow)
            .where(TrackHistoryRow.time >= since, TrackHistoryRow.time < until)
            .order_by(TrackHistoryRow.time.desc(), TrackHistoryRow.id.desc())
            .limit(cap + 1)
        ).all()
        alerts = session.scalars(
            select(AlertRow)
            .where(AlertRow.time >= since, AlertRow.time < until)
            .order_by(AlertRow.time)
            .limit(cap)
        ).all()
        points = [
            {
                "id": r.id,
                "track_id": r.track_id,
                "time": json_value(r.time),
                "lon": r.lon,
                "lat": r.lat,
                "vx": r.vx,
                "vy": r.vy,
                "target_class": r.target_class,
                "group_size": r.group_size,
                "status": r.status,
            }
            for r in reversed(rows[:cap])
        ]
        alert_out = [AlertOut.model_validate(a).model_dump(mode="json") for a in alerts]
    return {
        "since": json_value(since),
        "until": json_value(until),
        "points": points,
        "alerts": alert_out,
        "truncated": len(rows) > cap,
    }


@router.get("/incidents/{incident_id}/advice", responses=responses(401, 403, 404))
def advice(
    incident_id: Annotated[int, Path(ge=1, le=2**62)], _: Reader, svc: Svc, web: Web
) -> dict[str, Any]:
    """Units to send to an incident, best first, with their estimated time, route and whether
    each gets there before the group reaches the inner edge; units already committed apart.

    The same dispatch advice as `/api/incidents/{id}/advice` (roads, off-road, air; toward the
    track's predicted position), answered from the kept travel fields, in the shape the map's
    assign dialog draws.
    """
    sc = svc.scenario
    if sc is None:
        raise ApiError(404, "not_found", "no scenario is loaded")
    if web.advice is not None:
        with svc.db.reader() as session:
            row = get_incident(session, incident_id)
            states = unit_states(session)
        positions = {
            k: (s.lon, s.lat) for k, s in states.items() if s.lon is not None and s.lat is not None
        }
        ranked = list(web.advice(row.lon, row.lat, positions))
        answer = AdviceAnswer(ranked[0].source if ranked else "other", ranked)
    else:
        answer = dispatch_advice(sc, svc.db, incident_id, svc.advice)
    return {
        "source": answer.source,
        "group_s": answer.group_s,
        "committed": answer.committed,
        "units": [
            {
                "unit_id": a.unit_id,
                "label": a.label,
                "eta_s": a.eta_s,
                "distance_m": a.distance_m,
                "route": [list(p) for p in a.route] if a.route else None,
                "source": a.source,
                "intercept": a.intercept,
                "margin_s": a.margin_s,
            }
            for a in answer.units
        ],
    }


@router.get("/assessments", responses=responses(401, 403))
def assessments(_: Reader, web: Web) -> list[dict[str, Any]]:
    """The assessments this server was started with."""
    return web.assessments.listing() if web.assessments else []


def _assessment_name(web: WebContext, name: str) -> None:
    if web.assessments is None or name not in web.assessments.folders:
        raise ApiError(404, "not_found", f"no assessment {name!r}")


@router.get("/assessments/{name}", responses=responses(401, 403, 404))
async def assessment(name: Name, _: Reader, web: Web) -> JSONResponse:
    """One assessment for the planner view: runs with placed km, worst paths, weak stretches."""
    _assessment_name(web, name)
    assert web.assessments is not None
    try:
        doc = await run_in_threadpool(
            web.assessments.document, name, f"/api/web/assessments/{name}"
        )
    except AssessmentError as exc:
        raise ApiError(500, "assessment_unreadable", str(exc)) from None
    return JSONResponse(doc)


@router.get("/assessments/{name}/{run}/heat.png", responses=responses(401, 403, 404))
async def heat(name: Name, run: Run, _: Reader, web: Web) -> Response:
    """A run's P(interruption) as a Web Mercator image (bounds in the assessment document)."""
    _assessment_name(web, name)
    assert web.assessments is not None
    try:
        found = await run_in_threadpool(web.assessments.heat, name, run)
    except AssessmentError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return Response(found.png, media_type="image/png", headers=PNG_CACHE)


@router.get("/assessments/{name}/{run}/patrols", responses=responses(401, 403, 404, 409, 422))
async def patrols(
    name: Name,
    run: Run,
    _: Reader,
    svc: Svc,
    web: Web,
    patrols: Annotated[int | None, Query(ge=1, le=20)] = None,
    stretches: Annotated[int, Query(ge=1, le=12)] = 6,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
) -> dict[str, Any]:
    """Randomised patrols against a run's costliest weak stretches: per stretch and time window
    how often a patrol is there in the Stackelberg equilibrium (with the scenario's catch chance
    and windows), and the day's schedule drawn from it with `seed`. `patrols` defaults to the
    scenario's available patrol units."""
    _assessment_name(web, name)
    assert web.assessments is not None
    sc = svc.scenario
    if sc is None:
        raise ApiError(404, "not_found", "no scenario is loaded: patrols need its line and figures")
    try:
        summary = await run_in_threadpool(web.assessments.summary, name)
        return await run_in_threadpool(
            lambda: patrol_plan(sc, summary, run, patrols=patrols, stretches=stretches, seed=seed)
        )
    except AssessmentError as exc:
        raise ApiError(500, "assessment_unreadable", str(exc)) from None
    except PatrolPlanError as exc:
        code = {404: "not_found", 409: "conflict"}.get(exc.status, "invalid_request")
        raise ApiError(exc.status, code, str(exc)) from None

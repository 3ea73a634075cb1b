"""The FastAPI application of `limes serve`, assembled in one place from one `Settings`.

`create_app(settings)` opens (and migrates) the database, loads the scenario, and wires the
routes; `limes serve` passes what it runs alongside: the store writer it feeds from the
pipeline's bus (whose commits wake the live stream), and the pipeline's input for HTTP-ingested
detections. Without them the app stores HTTP detections itself (a pipeline-less API).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from limes.api.auth import Permission, require
from limes.api.errors import install_error_handlers, responses
from limes.api.rate_limit import RateLimiter
from limes.api.routes import (
    alerts,
    changes,
    dead_letters,
    dispatch,
    health,
    incidents,
    ingest,
    intel,
    intel_drafts,
    metrics,
    scenario,
    sectors,
    taxii,
    tracks,
    units,
    users,
)
from limes.api.security_headers import SecurityHeaders
from limes.api.services import ChangeSignal, IngestHandoff, Services, wall_clock
from limes.api.settings import Settings
from limes.api.stream import stream
from limes.api.unstorable import UnstorableInput
from limes.ops.dispatch import DispatchConfig
from limes.ops.dispatch_fields import AdviceCache
from limes.ops.incidents import ImpactRule
from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.context import ingest_context as scenario_ingest_context
from limes.ops.threat import ThreatBoard
from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario
from limes.share.context import ShareContext
from limes.store.database import Database, connect
from limes.store.migrate import migrate
from limes.store.workflow import Workflow
from limes.store.writer import StoreWriter

PREFIX = "/api"
OPENAPI_PATH = f"{PREFIX}/openapi.json"


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    scenario_obj: Scenario | None = None,
    writer: StoreWriter | None = None,
    ingest_context: IngestContext | None = None,
    ingest_handoff: IngestHandoff | None = None,
    impact_rule: ImpactRule | None = None,
    signal: ChangeSignal | None = None,
    extra_metrics: Callable[[], str] | None = None,
    dispatch_config: DispatchConfig | None = None,
    threat_board: ThreatBoard | None = None,
    share_context: ShareContext | None = None,
    clock: Callable[[], datetime] | None = None,
    clock_speed: float = 1.0,
) -> FastAPI:
    """Build the API.

    Everything optional defaults from `settings`: `db` from `database_url` (migrated when
    `settings.migrate`), `scenario_obj` from `settings.scenario`, `writer` a `StoreWriter` on
    the scenario's frame, `ingest_context` from the scenario, `ingest_handoff` straight into the
    writer. Pass `signal` and give the same one's `notify` to writers in other components so
    the live stream wakes on their commits; `extra_metrics` adds text to /api/metrics;
    `dispatch_config` sets the dispatch advice.
    `clock` (default the wall clock) stamps every action people take through the API; an
    exercise passes its own, running `clock_speed` times faster than the wall.
    """
    database = db or connect(settings.database_url)
    if settings.migrate:
        migrate(database)
    sc = scenario_obj
    if sc is None and settings.scenario:
        sc = load_scenario(settings.scenario)
    change_signal = signal or ChangeSignal()
    rule = impact_rule or ImpactRule()
    if writer is None and sc is not None:
        writer = StoreWriter(database, sc.frame, impact_rule=rule, on_commit=change_signal.notify,
                             **({"clock": clock} if clock else {}))  # fmt: skip
    if ingest_context is None and sc is not None:
        ingest_context = (
            scenario_ingest_context(sc, clock=clock) if clock else scenario_ingest_context(sc)
        )
    if ingest_handoff is None and writer is not None:
        store = writer

        def store_detections(items: list[Any]) -> None:
            store.write(detections=items)

        ingest_handoff = IngestHandoff(on_detections=store_detections, on_rejection=store.put)
    services = Services(
        settings=settings,
        db=database,
        workflow=Workflow(database, impact_rule=rule, on_commit=change_signal.notify),
        signal=change_signal,
        limiter=RateLimiter(settings.ingest_rate_per_s, settings.ingest_burst),
        scenario=sc,
        writer=writer,
        ingest_context=ingest_context,
        ingest=ingest_handoff,
        extra_metrics=extra_metrics,
        dispatch=dispatch_config or DispatchConfig(),
        clock=clock or wall_clock,
        clock_speed=clock_speed,
        advice=AdviceCache(sc, dispatch_config) if sc is not None else None,
    )

    app = FastAPI(
        title="limes",
        version="1",
        summary="Watch a border: tracks, alerts, incidents, units, live stream.",
        description="Every route but /api/health needs `Authorization: Bearer <token>`. "
        'Errors answer {"error", "detail"}. See docs/api.md.',
        openapi_url=None,  # published below, behind a token like everything else
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    # Sharing: the scenario's partners, the shared-object feed, the sector threat board
    # (give the pipeline's `SeverityPolicy` the same board so reports weigh on alerts).
    share = share_context or ShareContext.for_scenario(
        database, sc, board=threat_board or ThreatBoard(), settle_s=settings.share_settle_s,
        clock=clock or wall_clock,
    )  # fmt: skip
    share.refresh_threat()
    app.state.share = share
    install_error_handlers(app)
    taxii.install(app)
    app.add_middleware(UnstorableInput)
    app.add_middleware(SecurityHeaders)

    api = APIRouter(prefix=PREFIX)
    for module in (
        health,
        scenario,
        units,
        tracks,
        alerts,
        incidents,
        sectors,
        dead_letters,
        metrics,
        ingest,
        changes,
        users,
        dispatch,
        intel,
        intel_drafts,
    ):
        # Every route may answer 422 (bad parameters, or text no store can keep): documented
        # once here with the API's error body, unless the route declares its own.
        api.include_router(module.router, responses=responses(422))
    app.include_router(api)
    app.add_api_websocket_route(f"{PREFIX}/stream", stream, name="stream")

    reader = require(Permission.READ)

    @app.get(OPENAPI_PATH, include_in_schema=False, responses=responses(401, 403))
    def openapi(request: Request) -> JSONResponse:
        reader(request)
        return JSONResponse(app.openapi())

    return app

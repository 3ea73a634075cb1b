"""Serve the operations map from an API app: the built page and assets, and the map's routes.

`limes serve` calls `mount_web(app)` on the app `create_app` built. The page and its assets
(`/`, `/assets/...`) are public (they hold no data and no secret); everything they show comes
from the API with the user's token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from limes.api.services import Services
from limes.web.advice import AdviceSource
from limes.web.assessments import AssessmentStore
from limes.web.config import WebConfig
from limes.web.context import WebContext
from limes.web.routes import router

STATIC_DIR = Path(__file__).parent / "static"

_MISSING = """<!doctype html><meta charset="utf-8"><title>limes</title>
<p>The map is not built. Run <code>python -m limes.web.build</code> (needs node and npm), or
install limes from a release, which carries the built map.</p>"""


def mount_web(
    app: FastAPI,
    *,
    assessments: Mapping[str, str | Path] | Sequence[str | Path] = (),
    advice: AdviceSource | None = None,
    config: WebConfig | None = None,
    static_dir: str | Path | None = None,
    warm: bool = True,
) -> WebContext:
    """Add the map to an app built by `limes.api.app.create_app`.

    `assessments`: folders written by `limes assess` for the planner view (a sequence names
    each by its folder). `advice`: another ranking of units than the dispatch advice of
    `limes.ops.dispatch`, which the map uses by default. `warm`: shade the terrain and build the
    units' travel fields in the background now (a thread the context owns and
    `WebContext.close()` joins), so the first tiles and advice come at once. Returns the map's
    context (also `app.state.web`).
    """
    services: Services = app.state.services
    folders = (
        {str(k): Path(v) for k, v in assessments.items()}
        if isinstance(assessments, Mapping)
        else {Path(p).name: Path(p) for p in assessments}
    )
    web = WebContext(
        scenario=services.scenario,
        config=config or WebConfig(),
        assessments=AssessmentStore(services.scenario, folders) if folders else None,
        advice=advice,
    )
    app.state.web = web
    app.include_router(router)
    static = Path(static_dir) if static_dir is not None else STATIC_DIR
    index = static / "index.html"

    @app.get("/", include_in_schema=False, response_model=None)
    def page() -> FileResponse | HTMLResponse:
        if not index.is_file():
            return HTMLResponse(_MISSING, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    if static.is_dir():
        app.mount("/assets", StaticFiles(directory=static), name="map-assets")
    if warm:
        # The context owns the thread (`web.close()` joins it); every free unit's travel fields
        # follow the relief, so the first assign dialog is quick.
        keep = services.advice if advice is None else None
        web.shade_in_background(then=keep.warm if keep is not None else None)
    return web

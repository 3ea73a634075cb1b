"""Relief tiles on a loaded server, in a real headless Chromium: no dark holes.

Under load the relief's tiles at zoom 11–12 (many, each rendered on first use) come slowly and
some answers fail. The map must never report a tile loaded without its picture: Leaflet then
drops the coarser tile that covered the place and the map's dark background shows through.
The page's `tileload` events are recorded with the tile's image at that moment; a tile
reported loaded with no picture is a hole unless the server itself answers 204 (off the
terrain, transparent by design) — checked against the server directly, not through the page.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_map_browser import wait_until
from web_support import Outside, Server, login, open_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

RELIEF = "(() => { let r = null; window.limes.app.map.eachLayer(l => {"
RELIEF += " if (l._tiles && l.options.maxNativeZoom) r = l; }); return r; })()"

WATCH_HOLES = f"""() => {{
  const layer = {RELIEF};
  window.reliefHoles = [];
  layer.on('tileload', (e) => {{
    if (!(e.tile.complete && e.tile.naturalWidth > 0))
      window.reliefHoles.push([e.coords.z, e.coords.x, e.coords.y]);
  }});
}}"""

TILES_AT = f"""(z) => Object.values({RELIEF}._tiles).filter(t => t.coords.z === z)
  .map(t => ({{x: t.coords.x, y: t.coords.y, loaded: !!t.loaded,
               picture: t.el.complete && t.el.naturalWidth > 0}}))"""


def tile_path(url: str) -> str:
    return url.split("/api/web/hillshade/", 1)[1]


def holes(page: Any, server: Server) -> list[str]:
    """Tiles the page reported loaded without a picture where the server has one."""
    out = []
    for z, x, y in page.evaluate("window.reliefHoles"):
        r = httpx.get(
            f"{server.url}/api/web/hillshade/{z}/{x}/{y}.png", headers=server.headers("viewer")
        )
        if r.status_code != 204:
            out.append(f"{z}/{x}/{y} (server answers {r.status_code})")
    return out


def zoom_to(page: Any, z: int) -> None:
    page.evaluate(
        f"window.limes.app.map.setView(window.limes.app.base.border.getCenter(), {z},"
        " {animate: false})"
    )


def settled(page: Any, z: int) -> bool:
    """Every relief tile at zoom z is reported loaded, and none of another zoom is left."""
    tiles = page.evaluate(TILES_AT, z)
    others = page.evaluate(f"Object.values({RELIEF}._tiles).filter(t => t.coords.z !== {z})")
    return bool(tiles) and all(t["loaded"] for t in tiles) and not others


def start_at_zoom_9(page: Any) -> None:
    """The small test border fits at zoom 12: step back first, so zoom 12 is asked afresh."""
    zoom_to(page, 9)
    wait_until(lambda: settled(page, 9), timeout=60, what="zoom 9 shown", page=page)


def test_a_tile_the_server_could_not_answer_at_once_is_asked_again_never_left_empty(
    browser: Any, server: Server
) -> None:
    page = open_page(browser, server, Outside())
    failed: set[str] = set()
    refuse = {"on": False}

    def route(r: Any) -> None:
        path = tile_path(r.request.url)
        if refuse["on"] and path not in failed:
            failed.add(path)  # the first answer for each tile: the server could not now
            r.fulfill(status=503, content_type="application/json", body='{"error": "busy"}')
        else:
            r.continue_()

    page.route("**/api/web/hillshade/**", route)
    login(page, server, "viewer")
    start_at_zoom_9(page)
    page.evaluate(WATCH_HOLES)
    refuse["on"] = True
    zoom_to(page, 12)
    wait_until(lambda: settled(page, 12), timeout=60, what="zoom 12 settled", page=page)
    assert failed, "no relief tile was requested at zoom 12"
    assert holes(page, server) == []
    shown = page.evaluate(TILES_AT, 12)
    assert any(t["picture"] for t in shown)


def test_an_answer_for_a_tile_that_left_the_map_does_not_mark_its_successor_loaded(
    browser: Any, server: Server
) -> None:
    page = open_page(browser, server, Outside())
    held: dict[str, list[Any]] = {}
    hold = {"on": False}

    def route(r: Any) -> None:
        path = tile_path(r.request.url)
        if hold["on"] and path.startswith("12/"):
            held.setdefault(path, []).append(r)  # a slow server: answered when the test says
        else:
            r.continue_()

    done: set[str] = set()  # requests answered, or given up by the page
    page.on("requestfinished", lambda q: done.add(q.url))
    page.on("requestfailed", lambda q: done.add(q.url))
    page.route("**/api/web/hillshade/**", route)
    login(page, server, "viewer")
    start_at_zoom_9(page)
    page.evaluate(WATCH_HOLES)
    hold["on"] = True

    def all_asked(times: int) -> bool:
        tiles = page.evaluate(TILES_AT, 12)
        return bool(tiles) and all(
            len(held.get(f"12/{t['x']}/{t['y']}.png", [])) >= times for t in tiles
        )

    # Zoom 12: its tiles are asked for and not yet answered; back to 11 (the zoom-12 tiles
    # leave the map, their answers still on the way), then 12 again: new tiles, asked again.
    zoom_to(page, 12)
    wait_until(lambda: all_asked(1), timeout=30, what="zoom-12 tiles asked", page=page)
    zoom_to(page, 11)
    wait_until(lambda: settled(page, 11), timeout=60, what="zoom 11 shown", page=page)
    zoom_to(page, 12)
    wait_until(lambda: all_asked(2), timeout=30, what="zoom-12 tiles asked again", page=page)

    # The late answers for the tiles that left come first; then the answers for the new ones.
    stale = [routes[0] for routes in held.values()]
    for r in stale:
        try:
            r.continue_()
        except Exception:  # the page gave up that request itself (aborted): nothing to answer
            done.add(r.request.url)
    wait_until(
        lambda: all(r.request.url in done for r in stale),
        timeout=30,
        what="the late answers delivered",
        page=page,
    )
    for routes in held.values():
        for r in routes[1:]:
            r.continue_()
    hold["on"] = False
    wait_until(lambda: settled(page, 12), timeout=60, what="zoom 12 settled", page=page)
    assert holes(page, server) == []

"""The operations map in a real headless Chromium against the real app on localhost.

An operator logs in, sees the border and sectors, watches a group cross (detections through the
HTTP ingest door and the live pipeline), receives the alert, acknowledges, assigns the top unit
and resolves, reloads mid-stream and misses no alert; a viewer sees no action; the planner and
replay views show what the store and the assessment hold. No request leaves localhost.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_support import Outside, Server, login, open_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# Screenshots are artefacts of every run (artifacts/screenshots, ignored by git); with
# LIMES_UPDATE_SCREENSHOTS=1 they refresh the pictures docs/map.md shows.
ROOT = Path(__file__).resolve().parents[2]
IMG = (
    ROOT / "docs" / "img"
    if os.environ.get("LIMES_UPDATE_SCREENSHOTS") == "1"
    else ROOT / "artifacts" / "screenshots"
)


def shot(page: Any, name: str) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / name))


def js(page: Any, expr: str) -> Any:
    return page.evaluate(expr)


def wait_until(cond: Any, timeout: float = 20.0, what: str = "", page: Any = None) -> None:
    """Wait for an effect. With `page`, wait on the page's clock: Playwright hands the page's
    requests to the test's route handler (`web_support.open_page`) only while the test is in a
    Playwright call, so a plain sleep would hold a request the page sent (a click's POST) until
    the wait gives up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def act(page: Any, selector: str, done: Any, what: str) -> None:
    """Click an action once and wait for the server to show its effect. One click must do:
    live updates of the incident on show keep its buttons, so a click is never lost."""
    page.locator(selector).first.click()
    try:
        wait_until(done, timeout=60.0, what=what, page=page)
    except AssertionError:
        toasts = page.evaluate("[...document.querySelectorAll('.toast')].map(t => t.textContent)")
        raise AssertionError(f"{what}: not done after one click; messages: {toasts}") from None


def feed_walk(server: Server, sensor: str, chainage_m: float, *, seconds: int = 150,
              chunk: int = 15, pause_s: float = 0.15, seed: int = 1) -> None:  # fmt: skip
    """A walk that ended just now, sent in time order a chunk at a time (the track moves)."""
    start = datetime.now(UTC) - timedelta(seconds=seconds)
    items = server.walker(sensor, chainage_m, start, seconds=seconds, seed=seed)
    for k in range(0, len(items), chunk):
        result = server.post_detections(items[k : k + chunk])
        assert result["rejected"] == 0, result
        time.sleep(pause_s)


def api_get(server: Server, path: str, role: str = "operator") -> Any:
    r = httpx.get(server.url + path, headers=server.headers(role), timeout=10)
    r.raise_for_status()
    return r.json()


def top_unit_advised(server: Server, lon: float, lat: float) -> str:
    """The unit the dispatch advice puts first for a place (the map must offer the same)."""
    from limes.ops.dispatch import advise, target_at_lonlat

    sc = server.scenario
    return advise(sc, target_at_lonlat(sc, lon, lat))[0].unit_id


def test_operator_watches_a_crossing_works_the_incident_and_misses_no_alert(
    browser: Any, server: Server
) -> None:
    outside = Outside()
    page = open_page(browser, server, outside)
    login(page, server, "operator")

    # The border and both sectors are drawn, with their command colours and level badges.
    assert js(page, "window.limes.app.base.sectorLabels.size") == 2
    page.wait_for_selector(".sector-badge[data-sector='west']")
    page.wait_for_selector(".sector-badge[data-sector='east']")
    assert page.locator(".leaflet-overlay-pane path").count() >= 8  # border, sectors, barriers…
    assert page.locator(".km-tick").count() >= 2

    # Tracks appear and move.
    feeder = threading.Thread(target=feed_walk, args=(server, "tower-w", 4000.0), daemon=True)
    feeder.start()
    page.wait_for_function("window.limes.app.tracks.tracks.size >= 1", timeout=20_000)
    page.evaluate(
        "window.firstSeen = new Map([...window.limes.app.tracks.tracks.values()]"
        ".map(t => [t.id, t.mx]))"
    )
    page.wait_for_function(
        "[...window.limes.app.tracks.tracks.values()].some("
        "t => window.firstSeen.has(t.id) && window.firstSeen.get(t.id) !== t.mx)",
        timeout=20_000,
    )
    feeder.join()
    # Everything stored has reached the page (no re-render will race the clicks below).
    newest = api_get(server, "/api/web/state")["cursor"]
    page.wait_for_function(f"window.limes.app.stream.cursor >= {newest}", timeout=20_000)

    # The alert arrives over the stream, and its incident joins the queue.
    page.wait_for_selector("#alert-log .alert-row", timeout=20_000)
    page.wait_for_selector("#incident-list .incident", timeout=20_000)
    incident = api_get(server, "/api/incidents")["items"][-1]  # the first opened
    assert page.locator("text=Live tracks").count() == 1  # the layer control's switch
    page.click(f"#incident-list .incident[data-id='{incident['id']}']")
    page.wait_for_selector("#incident-detail .act-ack")
    page.evaluate("window.limes.app.map.setZoom(13)")
    page.wait_for_timeout(1000)  # relief tiles of the new zoom
    shot(page, "watch.png")

    # A live update of the incident on show lands between the button's press and release:
    # the click must still count (a browser drops a click whose target leaves the page, so
    # the panel re-renders around its buttons, never moving them).
    page.locator("#incident-detail .act-ack").first.hover()  # in view, the pointer on it
    page.mouse.down()
    page.evaluate(f"window.limes.app.queue.showDetail({incident['id']}, false)")
    page.mouse.up()
    wait_until(
        lambda: api_get(server, f"/api/incidents/{incident['id']}")["state"] == "acknowledged",
        timeout=60.0,
        what="acknowledged by the click pressed across a live update",
        page=page,
    )
    # The panel shows the new state (its own re-render is done) before the next action.
    page.wait_for_selector("#incident-detail h3:has-text('acknowledged')")
    page.wait_for_selector("#incident-detail .act-assign")
    page.click("#incident-detail .act-assign")
    page.wait_for_selector("#advice .act-send")
    top = page.locator("#advice .act-send").first.get_attribute("data-unit")
    assert top == top_unit_advised(server, incident["lon"], incident["lat"])
    shot(page, "incident.png")
    act(
        page,
        "#advice .act-send",
        lambda: api_get(server, f"/api/incidents/{incident['id']}")["unit_id"] == top,
        "assigned",
    )
    page.wait_for_selector("#incident-detail h3:has-text('assigned')")
    page.wait_for_selector("#incident-detail .act-resolve")
    page.select_option("#incident-detail .resolve-outcome", "intercepted")
    page.fill("#incident-detail .resolve-note", "group of two stopped at the trench")
    act(
        page,
        "#incident-detail .act-resolve",
        lambda: api_get(server, f"/api/incidents/{incident['id']}")["state"] == "resolved",
        "resolved",
    )
    done = api_get(server, f"/api/incidents/{incident['id']}")
    assert done["outcome"] == "intercepted"
    assert [e["actor"] for e in done["events"] if e["action"] != "open"][-3:] == [
        "operator-user"
    ] * 3

    # Reload while a second group crosses: every stored alert ends up in the page, once.
    feeder = threading.Thread(
        target=feed_walk,
        args=(server, "tower-e", 13_000.0),
        kwargs={"chunk": 10, "pause_s": 0.2, "seed": 2},
        daemon=True,
    )
    feeder.start()
    time.sleep(1.0)
    page.reload()
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=30_000)
    feeder.join()
    stored = {a["alert_id"] for a in api_get(server, "/api/alerts?limit=1000")["items"]}
    assert {a["sector"] for a in api_get(server, "/api/alerts?limit=1000")["items"]} == {
        "west",
        "east",
    }
    in_page = "[...document.querySelectorAll('#alert-log .alert-row')].map(e => e.dataset.alert)"
    wait_until(lambda: set(js(page, in_page)) == stored, what="every alert in the page", page=page)
    rows = js(page, "[...document.querySelectorAll('#alert-log .alert-row')].length")
    assert rows == len(stored)

    assert outside.outside == []
    assert any(u.startswith(server.url.replace("http", "ws")) for u in outside.seen)
    page.context.close()


def test_viewer_sees_the_picture_but_no_action(browser: Any, server: Server) -> None:
    feed_walk(server, "tower-w", 6000.0, chunk=50, pause_s=0.0, seed=3)
    wait_until(lambda: api_get(server, "/api/incidents", "viewer")["items"], what="an incident")
    outside = Outside()
    page = open_page(browser, server, outside)
    login(page, server, "viewer")
    page.wait_for_selector("#incident-list .incident")
    page.click("#incident-list .incident")
    page.wait_for_selector("#incident-detail h3")
    page.wait_for_timeout(300)
    for action in (".act-ack", ".act-assign", ".act-resolve", ".act-send"):
        assert page.locator(action).count() == 0, action
    # The server agrees: the same transition with the viewer's token is refused.
    incident = api_get(server, "/api/incidents", "viewer")["items"][0]
    r = httpx.post(
        f"{server.url}/api/incidents/{incident['id']}/transitions",
        json={"action": "acknowledge"},
        headers=server.headers("viewer"),
    )
    assert r.status_code == 403
    assert js(page, "document.body.dataset.role") == "viewer"
    assert outside.outside == []
    page.context.close()


def test_planner_shows_the_assessment_and_says_why_a_km_is_weak(
    browser: Any, server: Server, assessment_dir: Path
) -> None:
    import json

    summary = json.loads((assessment_dir / "summary.json").read_text())
    per_km = summary["runs"][0]["per_km"]
    weakest = min(per_km, key=lambda k: k["p_interruption"])
    outside = Outside()
    page = open_page(browser, server, outside)
    login(page, server, "viewer")
    page.click("#tab-planner")
    page.wait_for_selector("#planner-body .weakest .km")
    first = page.locator("#planner-body .weakest .km").first
    assert float(first.get_attribute("data-km")) == weakest["chainage_km"]
    first.click()
    page.wait_for_selector("#km-why h4")
    assert weakest["reason"] in page.inner_text("#km-why h4")
    page.wait_for_selector("img.heat")
    page.evaluate("window.limes.app.map.setZoom(11)")
    page.wait_for_timeout(800)
    shot(page, "planner.png")
    assert outside.outside == []
    page.context.close()


def test_replay_scrubs_stored_tracks_and_alerts(browser: Any, server: Server) -> None:
    feed_walk(server, "tower-w", 3000.0, chunk=50, pause_s=0.0, seed=4)
    wait_until(lambda: api_get(server, "/api/alerts")["items"], what="an alert")
    history = api_get(server, "/api/web/replay?hours=1")
    outside = Outside()
    page = open_page(browser, server, outside)
    login(page, server, "viewer")
    page.click("#tab-replay")
    page.click("#replay-load")
    page.wait_for_function("document.querySelector('#replay-info').textContent.length > 0")
    last = {p["track_id"]: p["status"] for p in history["points"]}  # points oldest first
    tracks_now = {t for t, status in last.items() if status != "deleted"}
    assert js(page, "window.limes.app.tracks.tracks.size") == len(tracks_now)
    # Scrub to before the first state: nothing on the map, no alert listed.
    page.evaluate(
        "(() => { const s = document.querySelector('#replay-slider'); s.value = s.min;"
        " s.dispatchEvent(new Event('input')); })()"
    )
    assert js(page, "window.limes.app.tracks.tracks.size") == 0
    assert page.locator("#replay-alerts li").count() == 0
    page.evaluate(
        "(() => { const s = document.querySelector('#replay-slider'); s.value = s.max;"
        " s.dispatchEvent(new Event('input')); })()"
    )
    assert page.locator("#replay-alerts li").count() == min(8, len(history["alerts"]))
    page.evaluate("window.limes.app.map.setZoom(13)")
    page.wait_for_timeout(500)
    shot(page, "replay.png")
    assert outside.outside == []
    page.context.close()

"""The planner view's randomised patrols in a real headless Chromium against the real app: the
coverage per stretch and window drawn as bands along the line and tabled, the day's patrols
listed with lat/lon where the API places them, a new seed drawing that seed's day. No request
leaves localhost."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_map_browser import shot, wait_until
from web_support import Outside, Server, login, open_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

URL = "/api/web/assessments/map-test/foot-night/patrols"


def plan(server: Server, seed: int) -> dict[str, Any]:
    r = httpx.get(f"{server.url}{URL}?seed={seed}", headers=server.headers("viewer"), timeout=30)
    r.raise_for_status()
    found: dict[str, Any] = r.json()
    return found


def today(page: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        """[...document.querySelectorAll('#patrols .patrol-today-item')].map(li => ({
            lat: Number(li.dataset.lat), lon: Number(li.dataset.lon),
            window: Number(li.dataset.window), text: li.textContent}))"""
    )
    return found


def test_planner_draws_patrol_coverage_and_lists_the_days_patrols(
    browser: Any, server: Server
) -> None:
    outside = Outside()
    page = open_page(browser, server, outside)
    login(page, server, "viewer")
    page.click("#tab-planner")
    page.wait_for_selector("#patrols .patrol-today-item")
    seed = int(page.input_value("#patrol-seed"))
    expected = plan(server, seed)
    # one band along the line per stretch and window, and the table's coverage the API's
    bands = sum(len(st["windows"]) for st in expected["stretches"])
    assert bands > 0
    wait_until(
        lambda: page.locator("path.patrol-band").count() == bands, what="the bands", page=page
    )
    cells = page.evaluate(
        "[...document.querySelectorAll('#patrols .patrol-stretch td[data-coverage]')]"
        ".map(td => Number(td.dataset.coverage))"
    )
    assert cells == [w["coverage"] for st in expected["stretches"] for w in st["windows"]]
    # the day's patrols: as many as the API drew, at its lat/lon, with the lat/lon written out
    listed = today(page)
    assert [(p["lat"], p["lon"], p["window"]) for p in listed] == [
        (p["lat"], p["lon"], p["window"]) for p in expected["today"]
    ]
    assert all(p["latlon"] in li["text"] for p, li in zip(expected["today"], listed, strict=True))
    assert page.locator("path.patrol-today").count() == len(expected["today"])
    # a seed whose day differs: the list follows it
    other = next(s for s in range(64) if plan(server, s)["today"] != expected["today"])
    page.fill("#patrol-seed", str(other))
    page.click("#patrol-draw")
    want = [(p["lat"], p["lon"]) for p in plan(server, other)["today"]]
    wait_until(
        lambda: [(p["lat"], p["lon"]) for p in today(page)] == want,
        what="the other seed's patrols",
        page=page,
    )
    assert page.get_attribute("#patrol-body", "data-seed") == str(other)
    shot(page, "planner-patrols.png")
    assert outside.outside == []
    page.context.close()

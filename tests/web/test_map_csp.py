"""The map works under the security headers the service sends: its page, scripts, styles,
tiles, API calls and live stream load with the Content-Security-Policy enforced, and the
browser reports no violation."""

from __future__ import annotations

from typing import Any

import pytest
from web_support import Server

pytestmark = pytest.mark.browser


def test_the_map_loads_and_logs_in_with_its_policy_enforced(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 800})  # CSP not bypassed
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    answer = page.goto(server.url + "/")
    assert answer is not None
    headers = answer.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    page.fill("#token", server.tokens["operator"])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    page.wait_for_selector(".leaflet-tile-loaded, .leaflet-container", timeout=30_000)
    violations = [m for m in messages if "Content Security Policy" in m or "Refused to" in m]
    context.close()
    assert violations == []

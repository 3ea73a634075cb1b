"""Accepted intelligence reports on the map, in a real headless Chromium against the real app.

An analyst files two drafts through the API and reviews them: one accepted, one rejected, a
third left in the queue. The map shows the accepted one at its place, labelled with its grade,
event type and date, and its text and source on a click; the others are not drawn, live and
after a reload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from test_map_browser import wait_until
from web_support import Outside, Server, login, open_page

from limes.api.routes.intel import ReportIn

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

WHEN = datetime(2026, 5, 28, 22, 0, tzinfo=UTC)


def file_draft(
    server: Server, text: str, source: str, reliability: str, lon: float
) -> dict[str, Any]:
    """A draft filed by the analyst; the server's answer (report, version, grade)."""
    body = {"title": "infiltration at Westpost", "text": text, "time": WHEN.isoformat(),
            "place": "Westpost", "lon": lon, "lat": 33.99, "sector": "west", "source": source,
            "reliability": reliability, "credibility": 2, "event_type": "infiltration",
            "actors": ["IS"], "threat": "high", "status": "draft"}  # fmt: skip
    got = httpx.post(f"{server.url}/api/intel/reports", json=body,
                     headers=server.headers("analyst"), timeout=30)  # fmt: skip
    assert got.status_code == 201, got.text
    out: dict[str, Any] = got.json()
    return out


def review(server: Server, filed: dict[str, Any], status: str) -> None:
    rep = filed["report"]
    keep = [k for k in ReportIn.model_fields if k != "status"]  # what a review may send
    got = httpx.put(f"{server.url}/api/intel/reports/{rep['report_id']}",
                    json={**{k: rep[k] for k in keep}, "status": status},
                    headers=server.headers("analyst"), timeout=30)  # fmt: skip
    assert got.status_code == 200, got.text


def labels(page: Any) -> dict[str, str]:
    """The intelligence labels on the map: report id -> label text."""
    found: dict[str, str] = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('.intel-label')]"
        ".map(e => [e.dataset.report, e.textContent]))"
    )
    return found


def test_an_accepted_report_is_on_the_map_with_its_grade_a_rejected_one_is_not(
    browser: Any, server: Server
) -> None:
    outside = Outside()
    page = open_page(browser, server, outside)
    login(page, server, "viewer")
    assert labels(page) == {}

    accepted = file_draft(server, "A group of IS fighters tried to cross near Westpost.",
                          "Euphrates Wire", "B", 41.03)  # fmt: skip
    rejected = file_draft(server, "Rumour of a crossing near Westpost.", "Border Truth Blog",
                          "E", 41.05)  # fmt: skip
    waiting = file_draft(server, "Unchecked claim of a crossing.", "Unknown", "F", 41.07)
    review(server, accepted, "accepted")
    review(server, rejected, "rejected")
    acc_id = accepted["report"]["report_id"]
    # Live, through the change stream: the accepted report appears with its grade.
    wait_until(lambda: acc_id in labels(page), what="the accepted report's marker", page=page)
    assert labels(page) == {acc_id: "B2 · infiltration · 2026-05-28"}
    assert rejected["report"]["report_id"] not in labels(page)
    assert waiting["report"]["report_id"] not in labels(page)

    # Its detail: the reported text and the source.
    page.locator(f".intel-label[data-report='{acc_id}']").click()
    popup = page.locator(f".intel-popup[data-report='{acc_id}']")
    popup.wait_for(timeout=10_000)
    detail = popup.text_content() or ""
    assert "A group of IS fighters tried to cross near Westpost." in detail
    assert "Euphrates Wire" in detail and "B2" in detail

    # After a reload (the REST state, not the stream) the picture is the same.
    page.reload()
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=30_000)
    wait_until(lambda: acc_id in labels(page), what="the marker after a reload", page=page)
    assert labels(page) == {acc_id: "B2 · infiltration · 2026-05-28"}

    # Rejecting it later takes it off the map.
    review(server, accepted, "rejected")
    wait_until(lambda: labels(page) == {}, what="the rejected report leaving the map", page=page)
    assert outside.outside == []

"""The watch floor in a real headless Chromium, on an exercise clock at ×1 and ×30.

After transitions made through the API and through the page, every row the page shows equals
the API's state and its age is right on the exercise clock (which runs three hours behind the
wall, so a page that counted on its own clock would be hours off); every action the page
offers in every state is accepted by the server; and an operator hears the alarm, reads the
MGRS, gets advice with intercept verdicts, assigns, notes and resolves a group as
humanitarian.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_map_browser import shot, wait_until
from web_support import Outside, Server, login, open_page, start_server

from limes.geo.position import mgrs_of
from limes.ops.alert import Alert, Rule, Severity

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PATHS: dict[str, list[dict[str, Any]]] = {
    "new": [],
    "acknowledged": [{"action": "acknowledge"}],
    "assigned": [{"action": "acknowledge"}, {"action": "assign", "unit_id": "patrol-2"}],
    "resolved": [{"action": "acknowledge"}, {"action": "resolve", "outcome": "false_alarm"}],
}


@pytest.fixture(params=[1.0, 30.0], ids=["x1", "x30"])
def floor(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    yield from start_server(tmp_path, [], speed=request.param)


@pytest.fixture
def fast_floor(tmp_path: Path) -> Iterator[Server]:
    yield from start_server(tmp_path, [], speed=30.0)


_n = iter(range(1, 10_000))


def open_incident(server: Server, km: float = 4.0, severity: Severity = Severity.MEDIUM) -> int:
    """An alert on a new track, stored by the live writer at the server's clock: its incident."""
    sc = server.scenario
    track = f"west-t{next(_n)}"
    x, y = sc.border.point_at(km * 1000.0, 150.0)
    lon, lat = (float(v) for v in sc.frame.to_lonlat(x, y))
    sector = "west" if km < 9 else "east"
    alert = Alert(
        alert_id=f"a-{track}", rule=Rule.CROSSED, track_id=track, time=server.now(),
        lon=lon, lat=lat, target_class="person", group_size=3, chainage_km=km, offset_m=150.0,
        sector=sector, command="Command A", far_side="far-west", channel="radio net 1",
        severity=severity, eta_s=None, p_interruption=None, barrier_id=None, detail="",
    )  # fmt: skip
    server.app.state.services.writer.write(alerts=[alert])
    found = api(server, f"/api/incidents?track_id={track}")["items"]
    return int(found[0]["id"])


def api(server: Server, path: str, body: Any = None, role: str = "operator") -> Any:
    if body is None:
        r = httpx.get(server.url + path, headers=server.headers(role), timeout=30)
    else:
        r = httpx.post(server.url + path, json=body, headers=server.headers(role), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def to_state(server: Server, incident: int, state: str) -> None:
    for body in PATHS[state]:
        api(server, f"/api/incidents/{incident}/transitions", body)


def age_s(text: str) -> tuple[float, float]:
    """An age as the page writes it: (seconds, rounding half-width)."""
    m = re.fullmatch(r"([\d.]+) (s|min|h)", text.strip())
    assert m, text
    value, unit = float(m.group(1)), m.group(2)
    return {"s": (value, 0.5), "min": (value * 60, 30.0), "h": (value * 3600, 180.0)}[unit]


def errors(page: Any) -> list[str]:
    """Every error message the page has shown so far (toasts fade; the page keeps them)."""
    found: list[str] = page.evaluate(
        "window.limes.messages.filter(m => m.kind === 'error').map(m => m.text)"
    )
    return found


def select(page: Any, incident: int, state: str) -> None:
    page.locator(f"#incident-list .incident[data-id='{incident}']").click()
    page.wait_for_selector(f"#incident-detail h3[data-state='{state}']:has-text('#{incident} ')")


def test_every_row_equals_the_api_and_ages_run_on_the_exercise_clock(
    browser: Any, floor: Server
) -> None:
    server = floor
    before = [open_incident(server, km) for km in (2.0, 5.0, 11.0)]
    page = open_page(browser, server, Outside())
    login(page, server, "operator")
    page.select_option("#filter-state", "")  # every state
    after = [open_incident(server, km, Severity.HIGH) for km in (7.0, 14.0, 16.0)]
    a, b, c, d, e, f = (*before, *after)
    # Through the API, as another operator would.
    to_state(server, a, "acknowledged")
    to_state(server, b, "assigned")
    api(server, f"/api/incidents/{c}/notes", {"note": "seen from the tower"})
    # Through the page.
    page.wait_for_selector(f"#incident-list .incident[data-id='{d}']")
    select(page, d, "new")
    page.click("#incident-detail .act-ack")
    wait_until(
        lambda: api(server, f"/api/incidents/{d}")["state"] == "acknowledged", what="ack", page=page
    )
    for incident in (e, f):
        page.locator(f"#incident-list .incident[data-id='{incident}'] input.pick").check()
    page.click("#bulk-ack")
    wait_until(
        lambda: all(api(server, f"/api/incidents/{i}")["state"] == "acknowledged" for i in (e, f)),
        what="bulk acknowledge",
        page=page,
    )
    select(page, b, "assigned")
    page.select_option("#incident-detail .resolve-outcome", "humanitarian")
    page.click("#incident-detail .act-resolve")
    wait_until(
        lambda: api(server, f"/api/incidents/{b}")["state"] == "resolved", what="resolve", page=page
    )

    truth = {i["id"]: i for i in api(server, "/api/incidents?limit=100")["items"]}
    rows = (
        "[...document.querySelectorAll('#incident-list .incident')].map(r => ({id: +r.dataset.id,"
        " state: r.dataset.state, km: r.dataset.km, mgrs: r.dataset.mgrs,"
        " what: r.querySelector('.what').textContent, when: r.querySelector('.when').textContent,"
        " opened: r.querySelector('.when').dataset.opened}))"
    )

    def shown() -> dict[int, dict[str, Any]]:
        return {r["id"]: r for r in page.evaluate(rows)}

    wait_until(
        lambda: (
            {i: r["state"] for i, r in shown().items()} == {i: t["state"] for i, t in truth.items()}
        ),
        what="every row in the API's state",
        page=page,
    )
    assert errors(page) == []
    for incident, row in shown().items():
        t = truth[incident]
        assert row["km"] == f"{t['chainage_km']:.1f}"
        assert row["mgrs"] == t["mgrs"] == mgrs_of(t["lon"], t["lat"])
        assert (f"→ {t['unit_id']}" in row["what"]) == (t["unit_id"] is not None)
        assert "person ×3 · crossed" in row["what"]
        # The age on the exercise clock: the page's tick is a second of wall time at most.
        age, half = age_s(row["when"])
        expected = (server.now() - datetime.fromisoformat(t["opened"])).total_seconds()
        speed = server.app.state.services.clock_speed
        assert abs(age - expected) <= half + 2 * speed + 2, (row, expected)
    # The header counts what waits: none is new any more.
    assert page.locator("#unack").get_attribute("data-count") == "1"  # c: only noted
    page.context.close()


def test_every_action_the_page_offers_is_accepted_in_every_state(
    browser: Any, fast_floor: Server
) -> None:
    server = fast_floor
    table = api(server, "/api/incidents/workflow")
    page = open_page(browser, server, Outside())
    faults: list[str] = []
    page.on("pageerror", lambda e: faults.append(str(e)))
    page.on("requestfailed", lambda r: faults.append(f"{r.method} {r.url} {r.failure}"))
    login(page, server, "operator")
    page.select_option("#filter-state", "")
    clicked = 0
    probes: dict[str, int] = {}
    for state in PATHS:
        probe = open_incident(server)
        to_state(server, probe, state)
        page.wait_for_selector(f"#incident-list .incident[data-id='{probe}'][data-state='{state}']")
        select(page, probe, state)
        buttons = {"acknowledge": ".act-ack", "assign": ".act-assign", "resolve": ".act-resolve"}
        actions = [a for a, b in buttons.items() if page.locator(f"#incident-detail {b}").count()]
        outcomes = page.evaluate(
            "[...document.querySelectorAll('#incident-detail .resolve-outcome option')]"
            ".filter(o => o.value).map(o => o.value)"
        )
        # Offered exactly what the server's table allows; no outcome chosen for the operator.
        assert actions == list(table[state]["actions"]), state
        assert outcomes == table[state]["outcomes"], state
        if outcomes:
            assert page.locator("#incident-detail .resolve-outcome").input_value() == ""
            assert page.locator("#incident-detail .act-resolve").is_disabled()
        tries = [(a, None) for a in actions if a != "resolve"] + [("resolve", o) for o in outcomes]
        probes[state] = probe
        for action, outcome in tries:
            incident = open_incident(server)
            to_state(server, incident, state)
            page.wait_for_selector(
                f"#incident-list .incident[data-id='{incident}'][data-state='{state}']"
            )
            select(page, incident, state)
            url = f"/api/incidents/{incident}"
            if action == "acknowledge":
                page.click("#incident-detail .act-ack")
                key, want = "state", "acknowledged"
            elif action == "assign":
                page.click("#incident-detail .act-assign")
                page.wait_for_selector("#advice .act-send")
                want = page.locator("#advice .act-send").first.get_attribute("data-unit")
                page.locator("#advice .act-send").first.click()
                key = "unit_id"
            else:
                page.select_option("#incident-detail .resolve-outcome", outcome)
                page.click("#incident-detail .act-resolve")
                key, want = "outcome", str(outcome)

            def done(url: str = url, key: str = key, want: str | None = want) -> bool:
                body = api(server, url)
                return bool(body[key] == want)

            try:
                wait_until(
                    done, timeout=60, what=f"{action} {outcome or ''} from {state}", page=page
                )
            except AssertionError:
                html = page.inner_html("#incident-detail .actions")
                said = page.evaluate("window.limes.messages.slice(-4)")
                raise AssertionError(
                    f"{action} {outcome} from {state}: {said} {faults} {html}"
                ) from None
            assert errors(page) == [], (state, action, outcome)
            clicked += 1
            # Free the units again for the next assign.
            now = api(server, url)["state"]
            if now in ("acknowledged", "assigned"):
                api(server, f"{url}/transitions", {"action": "resolve", "outcome": "lost"})
    assert clicked == 12  # ack | assign, 4 outcomes | reassign, 5 outcomes | (none when resolved)
    # A running note in every state, resolved included.
    for state, probe in probes.items():
        select(page, probe, state)
        page.fill("#incident-detail .note-text", f"note in {state}")
        page.press("#incident-detail .note-text", "Enter")
        wait_until(
            lambda probe=probe, state=state: (
                api(server, f"/api/incidents/{probe}")["events"][-1]["note"] == f"note in {state}"
            ),
            timeout=60,
            what=f"a note in {state}",
            page=page,
        )
    assert errors(page) == []
    page.context.close()


NOTIFICATIONS = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};
"""

LOUDNESS = """(() => {
  const a = window.limes.app.alarm.analyser;
  if (!a) return 0;
  const d = new Float32Array(a.fftSize);
  a.getFloatTimeDomainData(d);
  let m = 0;
  for (const v of d) m = Math.max(m, Math.abs(v));
  return m;
})()"""


def test_an_operator_hears_the_alarm_sends_a_patrol_and_resolves_a_group_as_humanitarian(
    browser: Any, fast_floor: Server
) -> None:
    server = fast_floor
    page = open_page(browser, server, Outside())
    page.add_init_script(NOTIFICATIONS)
    login(page, server, "operator")

    # A group walks in across the line (detections on the exercise clock through the door).
    start = server.now() - timedelta(seconds=150)
    items = server.walker("tower-w", 4000.0, start, seconds=150, group=4)

    def feed() -> None:
        for k in range(0, len(items), 15):
            assert server.post_detections(items[k : k + 15])["rejected"] == 0
            time.sleep(0.1)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    # Once the group is inside, its incident is HIGH: the alarm sounds, again and again,
    # through the page's audio node, and notifies once.
    page.wait_for_function("window.limes.app.alarm.sounding === true", timeout=90_000)
    feeder.join()
    (incident,) = [
        i
        for i in api(server, "/api/incidents")["items"]
        if i["state"] == "new" and i["severity"] in ("high", "critical")
    ]
    wait_until(lambda: page.evaluate(LOUDNESS) > 0.05, what="the alarm's sound", page=page)
    beeps = page.evaluate("window.limes.app.alarm.beeps")
    wait_until(
        lambda: page.evaluate("window.limes.app.alarm.beeps") > beeps, what="it repeats", page=page
    )
    notes = page.evaluate("window.__notes")
    assert len(notes) == 1 and f"#{incident['id']}" in notes[0]["title"]
    assert incident["mgrs"] in notes[0]["body"].replace(" ", "")

    select(page, incident["id"], "new")
    # MGRS to send a patrol to: the page's, the API's and the mgrs package's agree.
    shown = page.locator("#incident-detail .position .mgrs").get_attribute("data-mgrs")
    assert shown == incident["mgrs"] == mgrs_of(incident["lon"], incident["lat"])
    page.click("#incident-detail .act-ack")
    page.wait_for_selector("#incident-detail h3[data-state='acknowledged']")
    page.wait_for_function("window.limes.app.alarm.sounding === false")
    quiet = page.evaluate("window.limes.app.alarm.beeps")

    # Advice from the kept travel fields: no search runs while the operator waits.
    cache = server.app.state.services.advice
    wait_until(lambda: cache.built >= 2, what="the units' fields built at start", page=page)
    built = cache.built
    page.click("#incident-detail .act-assign")
    page.wait_for_selector("#advice .act-send")
    assert cache.built == built
    answer = api(server, f"/api/web/incidents/{incident['id']}/advice")
    track = api(server, f"/api/tracks/{incident['track_id']}")
    sc = server.scenario
    chainage, offset = (float(v) for v in sc.border.locate(track["x"], track["y"]))
    nx, ny = (float(v) for v in sc.border.inside_normal_at(chainage))
    v_in = track["vx"] * nx + track["vy"] * ny
    group_s = (sc.spec.strip.inside_m - offset) / v_in
    assert answer["group_s"] == pytest.approx(group_s, rel=1e-6)
    marks = {
        li.get_attribute("data-unit"): li.get_attribute("data-intercept")
        for li in page.locator("#advice ol.advice li").all()
    }
    assert marks == {
        u["unit_id"]: ("can_intercept" if u["eta_s"] <= group_s else "too_late")
        for u in answer["units"]
    }
    assert "can_intercept" in marks.values()
    page.evaluate("window.limes.app.map.setZoom(13)")
    page.wait_for_timeout(800)
    shot(page, "incident.png")
    top = page.locator("#advice .act-send").first.get_attribute("data-unit")
    page.locator("#advice .act-send").first.click()
    page.wait_for_selector("#incident-detail h3[data-state='assigned']")
    # The unit sent is committed: the advice now says so.
    page.click("#incident-detail .act-assign")
    page.wait_for_selector(f"#advice .committed-unit[data-unit='{top}']")

    page.fill("#incident-detail .note-text", "family of four, two children, asking for help")
    page.click("#incident-detail .act-note")
    wait_until(
        lambda: api(server, f"/api/incidents/{incident['id']}")["events"][-1]["action"] == "note",
        what="the note",
        page=page,
    )
    page.select_option("#incident-detail .resolve-outcome", "humanitarian")
    page.fill("#incident-detail .resolve-note", "handed to the humanitarian post")
    page.click("#incident-detail .act-resolve")
    page.wait_for_selector("#incident-detail h3[data-state='resolved']")
    done = api(server, f"/api/incidents/{incident['id']}")
    assert (done["outcome"], done["unit_id"]) == ("humanitarian", top)
    story = [(e["actor"], e["action"]) for e in done["events"] if e["actor"] != "system"]
    assert story == [("operator-user", a) for a in ("acknowledge", "assign", "note", "resolve")]
    assert page.evaluate("window.limes.app.alarm.beeps") == quiet  # silent since acknowledged
    assert errors(page) == []
    shot(page, "watch.png")
    page.context.close()


def test_an_incident_shows_which_partners_it_was_released_to(
    browser: Any, fast_floor: Server
) -> None:
    from limes.store.tables import ReleaseRow

    server = fast_floor
    shared, kept = open_incident(server), open_incident(server, km=5.0)
    with server.db.session() as session:
        for version, channel in ((1, "taxii"), (2, "taxii"), (2, "cot")):
            session.add(ReleaseRow(
                time=server.now(), partner="coalition", key=f"incident:{shared}", version=version,
                rule="sector west", channel=channel,
            ))  # fmt: skip
    # The audit as the page reads it: one row per partner.
    got = api(server, f"/api/share/recipients?key=incident:{shared}", role="viewer")
    assert [(r["partner"], r["versions"], r["channels"]) for r in got] == [
        ("coalition", [1, 2], ["cot", "taxii"])
    ]
    page = open_page(browser, server, Outside())
    login(page, server, "viewer")
    page.select_option("#filter-state", "")
    page.wait_for_selector(f"#incident-list .incident[data-id='{shared}']")
    select(page, shared, "new")
    item = page.wait_for_selector("#incident-detail ul.shared li[data-partner='coalition']")
    assert item is not None
    text = item.inner_text()
    assert "v1–v2" in text and "cot, taxii" in text, text
    assert "Shared with (1)" in page.inner_text("#incident-detail")
    select(page, kept, "new")
    page.wait_for_selector("#incident-detail .shared-none")
    assert "Shared with (0)" in page.inner_text("#incident-detail")
    assert errors(page) == []

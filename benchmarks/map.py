"""Map rendering figures in headless Chromium: frame time with 2,000 live tracks, and first paint.

Starts the real app (API + map) on the built-in scenario with a SQLite store on an ephemeral
localhost port, opens the map in Debian's Chromium (software rendering, no GPU) and measures:

- frame time (interval between animation frames, p50/p95) while 2,000 live tracks are updated
  at the stream's pace (each track once a second, delivered in 10 batches a second through the
  same code path the WebSocket feeds), against the anchor: the same page, same view, no tracks;
- the draw time of the track canvas per frame (p50/p95);
- first meaningful paint: from navigation to the map ready (border, sectors, state loaded) and
  to the first relief tiles shown.

Goal: p95 frame time under 50 ms with 2,000 tracks. `--quick` measures for less time.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from web_support import CHROMIUM, CHROMIUM_ARGS, free_port

from limes.api.app import create_app
from limes.api.settings import Settings
from limes.scenario.load import load_scenario
from limes.store.database import connect
from limes.store.migrate import migrate
from limes.store.users import Role, create_user
from limes.web.mount import mount_web

FEED_JS = """
([n, seconds]) => new Promise((resolve) => {
  const app = window.limes.app;
  const b = app.map.getBounds();
  const rnd = (a, z) => a + Math.random() * (z - a);
  const tracks = Array.from({length: n}, (_, i) => ({
    id: `bench-${i}`, lon: rnd(b.getWest(), b.getEast()), lat: rnd(b.getSouth(), b.getNorth()),
    vx: rnd(-3, 3), vy: rnd(-3, 3), cls: ['person', 'vehicle', 'animal', 'unknown'][i % 4],
  }));
  let id = 1e12, k = 0;
  const frames = [];
  app.tracks.drawMs.length = 0;
  let last = performance.now();
  const t0 = last;
  const tick = (now) => { frames.push(now - last); last = now;
    if (now - t0 < seconds * 1000) requestAnimationFrame(tick); };
  requestAnimationFrame((now) => { last = now; requestAnimationFrame(tick); });
  const batch = () => {
    if (n === 0) return;
    const changes = [];
    const per = Math.ceil(n / 10);
    for (let j = 0; j < per; j++, k = (k + 1) % n) {
      const t = tracks[k];
      // ~30x real speed so every track visibly moves between its updates.
      t.lon += t.vx * 3e-4; t.lat += t.vy * 3e-4;
      changes.push({type: 'change', id: id++, time: new Date().toISOString(), kind: 'track',
        payload: {track_id: t.id, time: new Date().toISOString(), lon: t.lon, lat: t.lat,
                  vx: t.vx, vy: t.vy, target_class: t.cls, group_size: 1 + (k % 5),
                  status: 'confirmed'}});
    }
    window.limes.inject(changes);
  };
  const timer = setInterval(batch, 100);
  setTimeout(() => { clearInterval(timer); resolve({frames, draw: app.tracks.drawMs.slice()}); },
             seconds * 1000 + 300);
})
"""


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def serve() -> tuple[str, str, uvicorn.Server, threading.Thread]:
    tmp = Path(tempfile.mkdtemp(prefix="limes-map-bench-"))
    db = connect(f"sqlite:///{tmp / 'bench.db'}")
    migrate(db)
    with db.session() as s:
        _, token = create_user(s, "bench", Role.VIEWER, actor="bench", now=datetime.now(UTC))
    sc = load_scenario("iraq-syria")
    app = create_app(Settings(migrate=False), db=db, scenario_obj=sc)
    mount_web(app, warm=False)  # first paint includes shading the terrain, as on a cold server
    sock = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for _ in range(200):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    return url, token, server, thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (under a minute)")
    parser.add_argument("--tracks", type=int, default=2000)
    args = parser.parse_args()
    seconds = 5 if args.quick else 20

    from playwright.sync_api import sync_playwright

    url, token, server, thread = serve()
    out: dict[str, Any] = {"tracks": args.tracks, "seconds": seconds}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 900}, bypass_csp=True)
        context.add_init_script(f"sessionStorage.setItem('limes.token', {json.dumps(token)})")
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=120_000)
        out["map_ready_ms"] = float(page.evaluate("Number(document.body.dataset.readyMs)"))
        page.wait_for_function(
            "[...document.querySelectorAll('img.relief-tile')].some(i => i.complete && i.src)",
            timeout=120_000,
        )
        out["relief_visible_ms"] = float(page.evaluate("performance.now()"))
        # Warm: the same page loaded again from a server that has shaded its terrain.
        page.reload()
        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=120_000)
        out["map_ready_warm_ms"] = float(page.evaluate("Number(document.body.dataset.readyMs)"))
        page.wait_for_timeout(1500)  # let the remaining tiles settle before timing frames
        for name, n in (("anchor", 0), ("ours", args.tracks)):
            res = page.evaluate(FEED_JS, [n, seconds])
            frames = [f for f in res["frames"] if f > 0]
            out[name] = {
                "frames": len(frames),
                "frame_ms_p50": round(statistics.median(frames), 2),
                "frame_ms_p95": round(pct(frames, 0.95), 2),
                "draw_ms_p50": round(pct(res["draw"], 0.5), 2) if res["draw"] else None,
                "draw_ms_p95": round(pct(res["draw"], 0.95), 2) if res["draw"] else None,
            }
            print(f"{name:7s} {n:5d} tracks: frame p50 {out[name]['frame_ms_p50']} ms, "
                  f"p95 {out[name]['frame_ms_p95']} ms, draw p50 {out[name]['draw_ms_p50']} ms, "
                  f"p95 {out[name]['draw_ms_p95']} ms")  # fmt: skip
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "limes-map-bench.png"))
        browser.close()
    server.should_exit = True
    thread.join(timeout=10)
    out["ratio_p95"] = round(out["ours"]["frame_ms_p95"] / out["anchor"]["frame_ms_p95"], 3)
    out["goal_p95_ms"] = 50.0
    out["meets_goal"] = out["ours"]["frame_ms_p95"] < 50.0
    print(f"first paint (cold server): map ready {out['map_ready_ms']:.0f} ms, relief visible "
          f"{out['relief_visible_ms']:.0f} ms; warm server: map ready "
          f"{out['map_ready_warm_ms']:.0f} ms; p95 ratio {out['ratio_p95']}")  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""`limes demo`: one command serves the map and a live exercise; its first alert reaches the API;
SIGTERM stops it cleanly (exit 0, no traceback)."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

LIMES = str(Path(sys.executable).with_name("limes"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reader(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


def test_demo_prints_map_and_token_raises_an_alert_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [LIMES, "demo", "--http", f"127.0.0.1:{port}", "--dir", str(tmp_path / "demo"),
         "--hours", "3", "--speed", "120", "--seed", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=tmp_path,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        address = token = None
        deadline = time.monotonic() + 60
        while token is None:
            assert time.monotonic() < deadline, "no token printed:\n" + "".join(seen)
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                assert proc.poll() is None, "demo exited:\n" + "".join(seen)
                continue
            seen.append(line)
            if line.startswith("map: "):
                address = line.removeprefix("map: ").strip().rstrip("/")
            elif line.startswith("token: "):
                token = line.removeprefix("token: ").strip()
        assert address == f"http://127.0.0.1:{port}"
        first = None
        shown = time.monotonic()
        with httpx.Client(base_url=address, headers={"Authorization": f"Bearer {token}"}) as api:
            assert api.get("/").status_code == 200  # the map is served
            deadline = time.monotonic() + 60
            while first is None:
                assert time.monotonic() < deadline, "no alert within 60 s:\n" + "".join(seen)
                assert proc.poll() is None, "demo exited:\n" + "".join(seen)
                items = api.get("/api/alerts", params={"limit": 1}).json()["items"]
                first = items[0] if items else None
                time.sleep(0.5)
            waited = time.monotonic() - shown
            incident = api.get(f"/api/incidents/{first['incident_id']}")
            assert incident.status_code == 200
            # The person is at the desk: no automatic dispatcher, and the map's banner says so
            # with the exercise's speed; the incident's story has only the system's steps.
            state = api.get("/api/web/state").json()
            assert state["exercise"] == {"state": "running", "speed": 120.0,
                                         "dispatcher": "off: you dispatch"}  # fmt: skip
            assert state["clock_speed"] == 120.0
            assert {e["actor"] for e in incident.json()["events"]} == {"system"}
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(0.2)  # the reader drains what is left
    while not lines.empty():
        seen.append(lines.get())
    output = "".join(seen)
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert "demo stopped" in output
    assert "automatic dispatcher: off: you dispatch" in output
    assert (tmp_path / "demo" / "demo.db").exists()
    print(f"\nfirst alert served {waited:.1f} s after the token was printed")

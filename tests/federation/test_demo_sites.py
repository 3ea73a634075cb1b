"""`limes demo --sites`: one command runs a hub, two command sites and the JOC; an alert a site
raises reaches the JOC's database with its origin; Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.federation, pytest.mark.slow]

LIMES = str(Path(sys.executable).with_name("limes"))


def _reader(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


def _rows(database: Path, query: str) -> list[tuple[object, ...]]:
    """Rows from a site's SQLite store, read as any other program would (read-only)."""
    if not database.exists():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as con:
        try:
            return con.execute(query).fetchall()
        except sqlite3.OperationalError:  # tables not made yet
            return []


def _processes_under(folder: Path) -> list[str]:
    """Command lines of live processes that name the demo's folder (its nats-servers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "nats-server" in cmd and str(folder) in cmd:
            found.append(cmd)
    return found


def _listening(url: str) -> bool:
    host, port = url.split("//")[-1].rstrip("/").rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def test_demo_sites_federates_a_sites_alert_to_the_joc_and_stops_everything(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "demo"
    proc = subprocess.Popen(
        [LIMES, "demo", "--sites", "--http", "127.0.0.1:0", "--dir", str(folder),
         "--hours", "2.2", "--speed", "120", "--seed", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=tmp_path,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    sites: dict[str, dict[str, str]] = {}
    try:
        deadline = time.monotonic() + 60
        while len(sites) < 3:
            assert time.monotonic() < deadline, "no sites printed:\n" + "".join(seen)
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                assert proc.poll() is None, "demo exited:\n" + "".join(seen)
                continue
            seen.append(line)
            if line.startswith("site "):
                name = line.split()[1]
                words = line.split(": ", 1)[1].split()
                sites[name] = dict(zip(words[::2], words[1::2], strict=True))
        assert set(sites) == {"nineveh", "anbar", "joc"}
        for site in sites.values():  # each site serves its own map, behind its own login
            with httpx.Client(base_url=site["map"]) as api:
                assert api.get("/").status_code == 200
                me = api.get("/api/alerts", headers={"Authorization": f"Bearer {site['token']}"})
                assert me.status_code == 200
        joc_db = Path(sites["joc"]["store"])
        # An alert each command site raised, as the JOC's store holds it: its origin, its id.
        copies: dict[str, tuple[object, ...]] = {}
        deadline = time.monotonic() + 90
        while len(copies) < 2:
            assert time.monotonic() < deadline, "no alert reached the JOC:\n" + "".join(seen)
            assert proc.poll() is None, "demo exited:\n" + "".join(seen)
            for origin in ("nineveh", "anbar"):
                stored = _rows(Path(sites[origin]["store"]), "select alert_id from alerts")
                raised = {f"alert:{r[0]}" for r in stored}
                held = _rows(joc_db, "select origin, object_id from federated_objects where "
                                     f"kind = 'alert' and origin = '{origin}'")  # fmt: skip
                match = [row for row in held if row[1] in raised]
                if match:
                    copies[origin] = match[0]
            time.sleep(0.5)
        # The JOC raised nothing itself: it holds no sector; what it shows came from the sites.
        assert _rows(joc_db, "select count(*) from alerts") == [(0,)]
        logged = _rows(joc_db, "select payload from changes where kind = 'federated'")
        assert any('"origin": "anbar"' in str(p[0]) for p in logged)
        proc.send_signal(signal.SIGINT)  # Ctrl-C
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
    assert _processes_under(folder) == []
    for site in sites.values():
        assert not _listening(site["nats"]) and not _listening(site["map"])
    assert (folder / "deployment.yaml").exists()

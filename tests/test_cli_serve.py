"""`limes serve` from the command line: starts, answers health without a token, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_health_refuses_anonymous_reads_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    limes = Path(sys.executable).with_name("limes")
    proc = subprocess.Popen(
        [
            str(limes),
            "serve",
            "--database",
            f"sqlite:///{tmp_path / 's.db'}",
            "--http",
            f"127.0.0.1:{port}",
            "--mqtt",
            "off",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, "service did not come up"
        assert httpx.get(f"http://127.0.0.1:{port}/api/tracks").status_code == 401
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "Traceback" not in output


def test_serve_with_an_unknown_scenario_is_a_clean_error(tmp_path: Path) -> None:
    limes = Path(sys.executable).with_name("limes")
    result = subprocess.run(
        [
            str(limes),
            "serve",
            "--scenario",
            "atlantis",
            "--mqtt",
            "off",
            "--http",
            "off",
            "--database",
            f"sqlite:///{tmp_path / 's.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "atlantis" in result.stderr and "Traceback" not in result.stderr

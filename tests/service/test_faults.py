"""Faults made for real while MQTT, HTTP and CoT stream: nothing acknowledged is lost, nothing
is stored twice, and the store comes back after each fault.

Runs `benchmarks/faults.py --quick` (a private PostgreSQL and Mosquitto of its own, never the
shared servers) and holds every case to its promise (docs/operations.md, "Faults").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.mqtt]

ROOT = Path(__file__).resolve().parents[2]


def test_no_acknowledged_report_is_lost_or_doubled_under_any_fault() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "faults.py"), "--quick"],
        capture_output=True, text=True, env=env, timeout=1500, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    cases = json.loads(done.stdout.strip().splitlines()[-1])["cases"]
    assert {c["name"] for c in cases} >= {"postgres_stopped", "sqlite_read_only", "sigkill"}
    for case in cases:
        assert "error" not in case, case
        assert case["acknowledged"] > 0, case
        assert case["lost_acknowledged"] == 0, case
        assert case["duplicates"] == 0, case
        assert case["recovery_s"] is not None, case  # the store came back
        # MQTT and HTTP reports sent before the run ended were all acknowledged and stored.
        for door in ("mqtt", "http"):
            got = case["by_door"][door]
            assert got["stored"] >= got["acknowledged"] > 0, case

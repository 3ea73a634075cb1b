"""The --workers pool: a worker that exits is started again, and stop leaves none running."""

from __future__ import annotations

import sys
import time

from limes.federation.worker_pool import WorkerPool, worker_command


def _wait(check: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_that_exits_is_started_again_and_stop_ends_them_all() -> None:
    quits = [sys.executable, "-c", "import sys; sys.exit(3)"]
    stays = [sys.executable, "-c", "import time; time.sleep(120)"]
    pool = WorkerPool([quits, stays], poll_s=0.05)
    pool.start()
    try:
        _wait(lambda: pool.restarts >= 2, 30, "the exiting worker to be started again twice")
        assert pool.alive() >= 1  # the one that stays keeps running throughout
    finally:
        pool.stop(timeout_s=10)
    assert pool.alive() == 0


def test_the_worker_command_is_the_federation_worker_verb() -> None:
    cmd = worker_command("iraq-syria", "east", "sqlite:///x.db", "nats://127.0.0.1:4222", 1, 2)
    assert cmd[1:5] == ["-m", "limes.cli", "federation", "worker"]
    assert cmd[cmd.index("--worker") + 1] == "1" and cmd[cmd.index("--workers") + 1] == "2"

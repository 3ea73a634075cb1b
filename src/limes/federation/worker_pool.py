"""`limes serve --partitions URL --workers N`: the site's tracker workers as child processes.

Without it an operator starts `limes federation worker` N times beside the service and keeps
them running. With it the service starts them itself (worker i of N, each owning its share of
the sectors' partitions, `partitions.assign`), watches them, starts again one that exits
while the service runs (after a pause that doubles up to a minute, so a worker that cannot
start does not spin), and stops them when it stops. A restarted worker resumes from its
durable consumer on the partition stream: nothing published is lost; what its tracker held in
memory (tracks, alerts fired) starts afresh, as after any worker crash.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: The longest pause before a worker that keeps exiting is started again, seconds.
MAX_PAUSE_S = 60.0


def worker_command(
    scenario: str, site: str, database: str, nats_url: str, worker: int, workers: int
) -> list[str]:
    """The command line of worker `worker` of `workers` (the `limes federation worker` verb)."""
    return [
        sys.executable, "-m", "limes.cli", "federation", "worker", "--scenario", scenario,
        "--site", site, "--database", database, "--nats", nats_url,
        "--worker", str(worker), "--workers", str(workers),
    ]  # fmt: skip


@dataclass
class _Child:
    index: int
    process: subprocess.Popen[bytes] | None = None
    pause_s: float = 1.0
    start_at: float = 0.0


class WorkerPool:
    """Starts, watches and stops the worker processes (see the module docstring)."""

    def __init__(
        self,
        commands: Sequence[Sequence[str]],
        *,
        poll_s: float = 0.5,
        spawn: Callable[[Sequence[str]], subprocess.Popen[bytes]] | None = None,
    ) -> None:
        self.commands = [list(c) for c in commands]
        self.poll_s = poll_s
        self.restarts = 0
        self._spawn = spawn or _spawn
        self._children = [_Child(i) for i in range(len(self.commands))]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="limes-workers", daemon=True)

    def start(self) -> None:
        with self._lock:
            for child in self._children:
                child.process = self._spawn(self.commands[child.index])
                child.start_at = time.monotonic()
        log.info("started %d tracker worker processes", len(self._children))
        self._thread.start()

    def alive(self) -> int:
        """How many workers run now."""
        with self._lock:
            running = [c.process for c in self._children if c.process is not None]
            return sum(1 for p in running if p.poll() is None)

    def pids(self) -> list[int]:
        with self._lock:
            return [c.process.pid for c in self._children if c.process is not None]

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop watching, ask every worker to end (SIGTERM), kill any still running after
        `timeout_s`."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        with self._lock:
            running = [c.process for c in self._children if c.process is not None]
            for p in running:
                if p.poll() is None:
                    p.terminate()
            deadline = time.monotonic() + timeout_s
            for p in running:
                try:
                    p.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("tracker worker %d did not stop; killed", p.pid)
                    p.kill()
                    p.wait()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            with self._lock:
                if self._stop.is_set():
                    return
                now = time.monotonic()
                for child in self._children:
                    self._look_after(child, now)

    def _look_after(self, child: _Child, now: float) -> None:
        p = child.process
        if p is not None and p.poll() is None:
            if now >= child.start_at + MAX_PAUSE_S:
                child.pause_s = 1.0  # it has run a while: the next exit is met at once again
            return
        if p is not None:  # it exited while the service runs: start it again after a pause
            log.error("tracker worker %d exited with %s; starting it again in %.0f s",
                      child.index, p.returncode, child.pause_s)  # fmt: skip
            child.process = None
            child.start_at = now + child.pause_s
            child.pause_s = min(MAX_PAUSE_S, child.pause_s * 2)
            return
        if now >= child.start_at:
            child.process = self._spawn(self.commands[child.index])
            child.start_at = now
            self.restarts += 1


def _spawn(command: Sequence[str]) -> subprocess.Popen[bytes]:
    # The worker imports this limes wherever it is installed or checked out.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen(list(command), env=env, stdout=subprocess.DEVNULL)

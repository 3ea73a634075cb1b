"""nats-server processes on this machine, started from the configurations a deployment wrote.

`limes demo --sites` runs a hub and one leaf node per site this way. Each server runs in a
session of its own, so a Ctrl-C at the terminal reaches only its owner, which stops the sites
first and then the servers (no site sees its server vanish while it still works); on Linux each
server is also told to end when its owner dies, so even a killed owner leaves no server behind.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from limes.federation.errors import FederationError

#: Where to find nats-server when it is not on the PATH (Debian's package puts it in /usr/sbin).
NATS_SERVER_ENV = "LIMES_NATS_SERVER"
_PR_SET_PDEATHSIG = 1


def nats_server_binary() -> str:
    """The nats-server to run: $LIMES_NATS_SERVER, the PATH, or Debian's /usr/sbin."""
    for candidate in (os.environ.get(NATS_SERVER_ENV), shutil.which("nats-server"),
                      "/usr/sbin/nats-server"):  # fmt: skip
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise FederationError(
        f"no nats-server found (install it, put it on the PATH or name it in ${NATS_SERVER_ENV})"
    )


def _child_setup() -> Callable[[], None]:
    """What the child runs before exec: a new session, and SIGTERM when its parent dies.

    `prctl` is looked up here, in the parent: the child of a threaded parent should call no
    more than it must between fork and exec.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None

    def setup() -> None:
        os.setsid()
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return setup


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class NatsProcess:
    """One nats-server run from a configuration file; `stop` ends it and waits."""

    name: str
    config: Path
    port: int
    log: Path
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, wait_s: float = 15.0) -> None:
        """Start the server; returns once its client port answers (FederationError if not)."""
        if _listening(self.host, self.port):
            raise FederationError(f"{self.name}: port {self.port} is already taken")
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(self.config), "-l", str(self.log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_child_setup(),
        )  # fmt: skip
        deadline = time.monotonic() + wait_s
        while not _listening(self.host, self.port):
            if self.process.poll() is not None:
                raise FederationError(f"{self.name}: nats-server exited at start; see {self.log}")
            if time.monotonic() > deadline:
                self.stop()
                raise FederationError(f"{self.name}: nats-server not listening after {wait_s} s")
            time.sleep(0.05)

    def stop(self, wait_s: float = 15.0) -> None:
        """SIGTERM (nats-server then closes its store cleanly), SIGKILL if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(wait_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now (the system's choice)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])

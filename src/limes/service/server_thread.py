"""An asyncio server run on a private event-loop thread, for a service whose main thread is not
asyncio: `start` returns once the server listens, `stop` closes it and joins the thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Protocol


class AsyncServer(Protocol):
    """What runs on the thread: a server started and stopped by coroutines."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ServerThread:
    """Runs `server` on its own event loop in a daemon thread named `name`."""

    def __init__(self, server: AsyncServer, name: str) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)

    def start(self, wait_s: float = 10.0) -> None:
        """Start the loop, then the server; return once it listens (or raise its error)."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(wait_s)

    def stop(self, wait_s: float = 10.0) -> None:
        """Stop the server, then the loop, and join the thread (nothing when never started)."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(wait_s)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(wait_s)

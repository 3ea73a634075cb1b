"""The partners' CoT out streams on their own event-loop thread inside `limes serve`."""

from __future__ import annotations

import asyncio
import threading

from limes.share.cot_out import CotOutServer


class ShareCotThread:
    """Runs a `CotOutServer` on a private event loop; `start` returns once it listens."""

    def __init__(self, server: CotOutServer) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="limes-share-cot", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def start(self, wait_s: float = 10.0) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(wait_s)

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(10.0)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10.0)

"""A site's federation on a thread of its own, for a service whose main thread is not asyncio.

`limes serve --federation FILE --site NAME` starts one beside its doors and API; `stop()` ends
its loops (the cursor and the consumer keep their place) and joins the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from limes.federation.deployment import Deployment
from limes.federation.site import FederatedSite
from limes.share.context import ShareContext


class FederationRunner:
    """Owns the thread and event loop that run one `FederatedSite`."""

    def __init__(self, site: FederatedSite) -> None:
        self.site = site
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="limes-federation", daemon=True)

    @classmethod
    def start(
        cls,
        share: ShareContext,
        deployment: Deployment,
        site: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> FederationRunner:
        runner = cls(FederatedSite(share, deployment, deployment.site(site), clock=clock))
        runner._thread.start()
        return runner

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.site.run(self._stop))
        finally:
            self._loop.close()

    def stop(self, timeout: float = 15.0) -> None:
        """End the loops and wait for the thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

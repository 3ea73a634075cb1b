"""The partners' CoT out streams on their own event-loop thread inside `limes serve`."""

from __future__ import annotations

from limes.service.server_thread import ServerThread
from limes.share.cot_out import CotOutServer


class ShareCotThread(ServerThread):
    """Runs a `CotOutServer` on a private event loop; `start` returns once it listens."""

    def __init__(self, server: CotOutServer) -> None:
        super().__init__(server, "limes-share-cot")
        self.cot_out = server

    @property
    def address(self) -> tuple[str, int]:
        return self.cot_out.address

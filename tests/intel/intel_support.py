"""Intelligence test support: the API with an analyst's and a viewer's token."""

from __future__ import annotations

from fastapi.testclient import TestClient


class Floor:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

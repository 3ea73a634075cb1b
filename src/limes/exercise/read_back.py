"""The live system's alerts, read back from its API for an exercise's scorecard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from limes.errors import SimError


class ReadBackError(SimError):
    """The live system's alerts could not be read (the message says why)."""


@dataclass(frozen=True)
class LiveAlert:
    """An alert as the API lists it: what the scorecard matches, and what it was."""

    time: datetime
    lon: float
    lat: float
    rule: str
    track_id: str
    incident_id: int | None


def read_alerts(
    api: str, token: str, since: datetime, until: datetime, *, timeout_s: float = 10.0
) -> list[LiveAlert]:
    """Every alert the live system stored with `since` ≤ time < `until`, oldest first."""
    import httpx

    url = api.rstrip("/") + "/api/alerts"
    params: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat(), "limit": 1000}
    found: list[LiveAlert] = []
    with httpx.Client(timeout=timeout_s, headers={"Authorization": f"Bearer {token}"}) as client:
        while True:
            try:
                resp = client.get(url, params=params)
            except httpx.HTTPError as exc:
                raise ReadBackError(f"GET {url} failed: {exc}") from None
            if resp.status_code in (401, 403):
                raise ReadBackError(
                    f"GET {url}: {resp.status_code}: the token may not read alerts "
                    "(give one of a viewer or above)"
                )
            if resp.status_code >= 400:
                raise ReadBackError(f"GET {url}: {resp.status_code} {resp.text[:300]}")
            page = resp.json()
            for a in page["items"]:
                time_ = datetime.fromisoformat(a["time"])
                where = float(a["lon"]), float(a["lat"])
                found.append(LiveAlert(time_, *where, a["rule"], a["track_id"], a["incident_id"]))
            if not page.get("next_cursor"):
                break
            params["cursor"] = page["next_cursor"]
    found.sort(key=lambda a: a.time)
    return found

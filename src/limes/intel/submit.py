"""Sending an ingest's drafts to a running limes, into its analysts' review queue.

Reads `reports.jsonl` and `documents.jsonl` from an ingest's folder and posts each draft with
the body its span points into to `POST /api/intel/drafts` (an analyst's or commander's token),
in batches. A draft already filed there is left as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from limes.intel.errors import IntelError

BATCH = 500


@dataclass(frozen=True)
class Submitted:
    filed: int
    existing: int


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise IntelError(f"{path}: not found (run `limes intel ingest … --out` first)")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise IntelError(f"{path}:{n}: not JSON ({exc.msg})") from None
    return out


def submit_drafts(
    folder: Path, target: str, token: str, *, client: httpx.Client | None = None
) -> Submitted:
    """Post the drafts of an ingest folder to a limes API; how many were filed or known."""
    bodies = {d["id"]: d["body"] for d in _lines(folder / "documents.jsonl")}
    items = []
    for r in _lines(folder / "reports.jsonl"):
        if r.get("document") not in bodies:
            raise IntelError(
                f"{folder / 'reports.jsonl'}: draft {r.get('id')} names a "
                f"document not in documents.jsonl"
            )
        items.append({"draft": r, "text": bodies[r["document"]]})
    http = client or httpx.Client(base_url=target, timeout=30.0)
    filed = existing = 0
    try:
        for i in range(0, len(items), BATCH):
            got = http.post(
                "/api/intel/drafts",
                json={"drafts": items[i : i + BATCH]},
                headers={"Authorization": f"Bearer {token}"},
            )
            if got.status_code != 201:
                raise IntelError(f"{target}: drafts refused ({got.status_code}): {got.text[:300]}")
            body = got.json()
            filed += len(body["filed"])
            existing += len(body["existing"])
    except httpx.HTTPError as exc:
        raise IntelError(f"{target}: cannot reach the API ({exc})") from None
    finally:
        if client is None:
            http.close()
    return Submitted(filed, existing)

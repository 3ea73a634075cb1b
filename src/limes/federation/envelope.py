"""One change on the wire between sites: who sent it, what it is, which version, and the body.

Subjects name origin and destination, so a receiving site's stream sources exactly what was
released to it (`limes.fed.<origin>.<destination>.<kind>`); the message id repeats on a
republish of the same change, which lets JetStream drop a copy inside its window while the
receiver's idempotent apply covers every copy outside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from limes.federation.errors import FederationError
from limes.store.federated import ReceivedChange

SUBJECT_ROOT = "limes.fed"


def subject(origin: str, destination: str, kind: str) -> str:
    """The subject a change from `origin` released to `destination` travels on."""
    return f"{SUBJECT_ROOT}.{origin}.{destination}.{kind}"


def heartbeat_subject(origin: str, destination: str) -> str:
    """The subject of the origin's periodic 'still here' message to `destination`."""
    return subject(origin, destination, "heartbeat")


@dataclass(frozen=True)
class Envelope:
    """A change released to one destination."""

    origin: str
    destination: str
    kind: str
    object_id: str
    version: int
    payload: dict[str, Any]

    @property
    def subject(self) -> str:
        return subject(self.origin, self.destination, self.kind)

    @property
    def message_id(self) -> str:
        return f"{self.origin}:{self.destination}:{self.kind}:{self.object_id}:{self.version}"

    def encode(self) -> bytes:
        return json.dumps(
            {"origin": self.origin, "destination": self.destination, "kind": self.kind,
             "id": self.object_id, "version": self.version, "payload": self.payload},
            separators=(",", ":"), default=str,
        ).encode()  # fmt: skip

    def received(self) -> ReceivedChange:
        return ReceivedChange(self.origin, self.kind, self.object_id, self.version, self.payload)


def decode(data: bytes) -> Envelope:
    """An envelope from its bytes; FederationError says what is wrong with a bad one."""
    try:
        raw = json.loads(data)
        return Envelope(
            origin=str(raw["origin"]), destination=str(raw["destination"]), kind=str(raw["kind"]),
            object_id=str(raw["id"]), version=int(raw["version"]), payload=dict(raw["payload"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError) as error:
        raise FederationError(f"not a federation envelope: {error!r}") from None

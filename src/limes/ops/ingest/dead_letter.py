"""Rejected reports: why, from where, the bytes themselves, and where they are kept."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable


class RejectReason(StrEnum):
    """Why a report was not accepted; each has its own counter."""

    OVERSIZE = "oversize"  # message, batch or CoT event over its byte or item limit
    MALFORMED = "malformed"  # not JSON / not well-formed XML / not a CoT event
    UNSAFE_XML = "unsafe_xml"  # DTD, entity declarations, external references
    SCHEMA = "schema"  # missing field, unknown field, wrong type
    UNSUPPORTED_TYPE = "unsupported_type"  # CoT type that is not a ground atom
    FRIENDLY = "friendly"  # CoT friendly track: our own, not a detection
    UNKNOWN_SENSOR = "unknown_sensor"  # sensor id not in the scenario
    SENSOR_MISMATCH = "sensor_mismatch"  # topic or caller may not speak for this sensor
    BAD_SEQUENCE = "bad_sequence"  # seq not an integer >= 0
    BAD_TIME = "bad_time"  # unparsable, or without a timezone
    FUTURE_TIME = "future_time"  # ahead of our clock beyond the skew window
    TOO_OLD = "too_old"  # older than the hard age limit
    BAD_COORDINATES = "bad_coordinates"  # not finite, or outside lon/lat ranges
    OUT_OF_AREA = "out_of_area"  # outside the scenario's area of interest
    OUT_OF_RANGE = "out_of_range"  # farther from the sensor than it can see
    BAD_UNCERTAINTY = "bad_uncertainty"  # sd not finite, <= 0 or above the maximum
    BAD_CLASS = "bad_class"  # target class not known
    BAD_CONFIDENCE = "bad_confidence"  # not in [0, 1]
    BAD_GROUP_SIZE = "bad_group_size"  # not an integer in [1, max]
    QUARANTINED = "quarantined"  # accepted, but the database refused to store it (poison)


#: Longest text each dead-letter field keeps (the store's column sizes; `detail` is free text,
#: bounded so that one hostile message cannot make a large row).
SOURCE_CHARS = 200
SENSOR_ID_CHARS = 64
DETAIL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected report (or message), kept as a dead letter.

    `source` names the door: `mqtt:<topic>`, `cot-tcp:<host>:<port>`, `cot-udp:<host>:<port>`,
    `http`. `payload` is the rejected bytes (for an item of a batch, that item re-encoded; for an
    oversize message, its first `IngestLimits.dead_letter_keep_bytes`). `item` is the index in a
    batch, `sensor_id` the sensor it claimed to come from, when known.
    """

    reason: RejectReason
    detail: str
    source: str
    received: datetime
    payload: bytes
    item: int | None = None
    sensor_id: str | None = None


def safe_text(value: str, limit: int) -> str:
    """`value` as text every database stores: NUL and unpaired surrogates written as escapes
    (`\\x00`, `\\ud800`), cut to `limit` characters (a cut end is marked with `...`)."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value if len(value) <= limit else value[: max(limit - 3, 0)] + "..."


def storable(rejection: Rejection, keep_bytes: int = 4096) -> Rejection:
    """The rejection with every field fit for the dead-letter table on any database: text made
    safe and cut to its column (`safe_text`), the payload cut to its first `keep_bytes`.

    The doors call it on what they reject, and the store once more before it writes, so a
    hostile message can neither stop the store nor fill it."""
    sensor = rejection.sensor_id
    fixed = dataclasses.replace(
        rejection,
        detail=safe_text(rejection.detail, DETAIL_CHARS),
        source=safe_text(rejection.source, SOURCE_CHARS),
        payload=bytes(rejection.payload[:keep_bytes]),
        sensor_id=None if not sensor else safe_text(sensor, SENSOR_ID_CHARS),
    )
    return rejection if fixed == rejection else fixed


@runtime_checkable
class DeadLetterSink(Protocol):
    """Where rejections go (the store provides a table-backed one); `put` must not raise."""

    def put(self, rejection: Rejection) -> None:
        """Keep one rejection."""
        ...


class MemoryDeadLetterSink:
    """A bounded in-memory dead-letter sink with per-reason counters (thread-safe).

    Keeps the newest `capacity` rejections; counters cover everything ever put, including
    rejections since evicted (`evicted` says how many).
    """

    def __init__(self, capacity: int = 1000) -> None:
        if capacity < 1:
            raise ValueError("dead-letter capacity must be at least 1")
        self._items: deque[Rejection] = deque(maxlen=capacity)
        self._counts: Counter[RejectReason] = Counter()
        self._evicted = 0
        self._lock = threading.Lock()

    def put(self, rejection: Rejection) -> None:
        """Keep one rejection, evicting the oldest when full."""
        with self._lock:
            if len(self._items) == self._items.maxlen:
                self._evicted += 1
            self._items.append(rejection)
            self._counts[rejection.reason] += 1

    __call__ = put  # so the sink itself can be an adapter's `on_rejection`

    @property
    def items(self) -> list[Rejection]:
        """The kept rejections, oldest first."""
        with self._lock:
            return list(self._items)

    @property
    def counts(self) -> dict[RejectReason, int]:
        """Rejections per reason since the sink was made."""
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        """All rejections since the sink was made."""
        with self._lock:
            return sum(self._counts.values())

    @property
    def evicted(self) -> int:
        """Rejections dropped from memory to respect the capacity (still counted)."""
        with self._lock:
            return self._evicted

    def reasons(self) -> list[RejectReason]:
        """The reasons of the kept rejections, oldest first (handy in tests and logs)."""
        with self._lock:
            return [r.reason for r in self._items]

"""Cursor-on-Target: one `<event>` document to a detection or a rejection (see docs/protocols.md).

XML is read with defusedxml and no DTD at all is allowed, so entity expansion (billion laughs)
and external entities (XXE) end as `UNSAFE_XML` rejections before anything is expanded or
fetched.

Mapping:
- `type` must be an atom on the ground, `a-<affiliation>-G[-…]`. Hostile (h), suspect (s),
  joker (j), faker (k), unknown (u), pending (p), neutral (n) and none (o) are accepted;
  friend (f) and assumed friend (a) are our own forces, not detections, and are rejected as
  `FRIENDLY`; other types (air, sea, pings, drawings) as `UNSUPPORTED_TYPE`.
- The atoms after `G` give the class, longest prefix first (`TYPE_CLASSES`); the `class`
  attribute of `<detail><limes/>`, when present, overrides it.
- `time` is the observation time; `stale` before `time` is an error; an event already stale
  on arrival is accepted and flagged `late`. `start` is checked for form only.
- `how` must be well formed; `h-g-i-g-o` ("garbage in, garbage out": the producer disowns the
  position) is rejected as `BAD_UNCERTAINTY`.
- `point@ce` is the one-sigma horizontal error in metres; the CoT "unknown" value 9999999 (or
  more) gives the sensor's default position sd instead (TAK tools write it routinely).
  `hae` and `le` are checked for form only (ground targets: the tracker works in 2-D).
- The sensor is `<detail><limes sensor=…>`; without it, the first of `contact@callsign`,
  `uid`, and `uid` up to its first `.` that names a known sensor. The sequence number is
  `limes@seq`; without it, a 63-bit hash of `uid` and `time`, so a resent event is still
  recognised as a duplicate.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from limes.ops.detection import TargetClass
from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.cot_stream import CotStreamSplitter
from limes.ops.ingest.dead_letter import Rejection, RejectReason, storable
from limes.ops.ingest.normalise import (
    RawReport,
    ReportError,
    normalise_batch,
    parse_time,
    shorten,
)
from limes.ops.ingest.outcome import IngestOutcome

__all__ = [
    "ACCEPTED_AFFILIATIONS",
    "TYPE_CLASSES",
    "CotStreamSplitter",
    "cot_report",
    "cot_type_class",
    "parse_cot_event",
    "parse_cot_events",
]

CE_UNKNOWN: Final = 9_999_999.0

#: Affiliation letter (second atom of the type) → name, for those taken as detections.
ACCEPTED_AFFILIATIONS: Mapping[str, str] = {
    "h": "hostile",
    "s": "suspect",
    "j": "joker",
    "k": "faker",
    "u": "unknown",
    "p": "pending",
    "n": "neutral",
    "o": "none",
}
FRIENDLY_AFFILIATIONS: Mapping[str, str] = {"f": "friend", "a": "assumed friend"}

#: Atoms after `G` → class (CoT type tree, from MIL-STD-2525); the longest matching prefix wins.
TYPE_CLASSES: Mapping[tuple[str, ...], TargetClass] = {
    ("U", "C"): TargetClass.PERSON,  # ground unit, combat: people on foot unless refined
    ("U", "C", "I"): TargetClass.PERSON,  # infantry
    ("U", "C", "R"): TargetClass.PERSON,  # reconnaissance
    ("U", "C", "A"): TargetClass.VEHICLE,  # armour
    ("U", "C", "I", "M"): TargetClass.VEHICLE,  # mechanised infantry
    ("U", "C", "I", "Z"): TargetClass.VEHICLE,  # motorised infantry
    ("U", "C", "R", "V"): TargetClass.VEHICLE,  # reconnaissance, cavalry (vehicles)
    ("E", "V"): TargetClass.VEHICLE,  # ground equipment, vehicle (civilian E-V-C included)
}

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"\d{1,19}")
_HOW = re.compile(r"[a-z](?:-[a-z]+)*")
_TYPE = re.compile(r"[a-zA-Z](?:-[A-Za-z0-9]+)*")

_NAMES = {
    "sensor_id": "detail/limes@sensor",
    "seq": "detail/limes@seq",
    "time": "event@time",
    "lon": "point@lon",
    "lat": "point@lat",
    "position_sd_m": "point@ce",
    "target_class": "detail/limes@class",
    "confidence": "detail/limes@confidence",
    "group_size": "detail/limes@group",
}


def cot_type_class(cot_type: str) -> TargetClass:
    """The class a CoT type implies, or a `ReportError` when it is not a detection type."""
    if not _TYPE.fullmatch(cot_type):
        raise ReportError(RejectReason.SCHEMA, f"event@type: malformed (value {shorten(cot_type)})")
    atoms = cot_type.split("-")
    if atoms[0] != "a" or len(atoms) < 3:
        raise ReportError(
            RejectReason.UNSUPPORTED_TYPE, f"event@type: not an atom (value {shorten(cot_type)})"
        )
    affiliation, dimension = atoms[1], atoms[2]
    if affiliation in FRIENDLY_AFFILIATIONS:
        raise ReportError(
            RejectReason.FRIENDLY,
            f"event@type: {FRIENDLY_AFFILIATIONS[affiliation]} track, not a detection "
            f"(value {shorten(cot_type)})",
        )
    if affiliation not in ACCEPTED_AFFILIATIONS or dimension != "G":
        raise ReportError(
            RejectReason.UNSUPPORTED_TYPE,
            f"event@type: only ground atoms a-{{h,s,j,k,u,p,n,o}}-G are detections "
            f"(value {shorten(cot_type)})",
        )
    rest = tuple(atoms[3:])
    for n in range(len(rest), 0, -1):
        if rest[:n] in TYPE_CLASSES:
            return TYPE_CLASSES[rest[:n]]
    return TargetClass.UNKNOWN


def _attr(element: ET.Element, name: str, where: str, *, required: bool = True) -> str | None:
    value = element.get(name)
    if value is None and required:
        raise ReportError(RejectReason.SCHEMA, f"{where}@{name}: missing")
    return value


def _float(text: str | None, where: str, reason: RejectReason) -> float | None:
    if text is None:
        return None
    if not _NUMBER.fullmatch(text.strip()):
        raise ReportError(reason, f"{where}: not a decimal number (value {shorten(text)})")
    return float(text)


def _int(text: str | None, where: str, reason: RejectReason) -> int | None:
    if text is None:
        return None
    if not _INTEGER.fullmatch(text.strip()):
        raise ReportError(reason, f"{where}: not a non-negative integer (value {shorten(text)})")
    return int(text)


def _sensor_id(ctx: IngestContext, limes: ET.Element | None, event: ET.Element) -> str:
    if limes is not None and limes.get("sensor") is not None:
        return limes.get("sensor", "")
    contact = event.find("detail/contact")
    uid = event.get("uid", "")
    candidates = [
        contact.get("callsign") if contact is not None else None,
        uid,
        uid.split(".", 1)[0],
    ]
    for candidate in candidates:
        if candidate and candidate in ctx.sensors:
            return candidate
    tried = [c for c in candidates if c]
    raise ReportError(
        RejectReason.UNKNOWN_SENSOR,
        f"event: no <detail><limes sensor=…>, and none of callsign/uid {shorten(tried)} "
        "is a sensor of the scenario",
    )


def _fallback_seq(uid: str, time_text: str) -> int:
    digest = hashlib.blake2b(f"{uid}|{time_text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def cot_report(event: ET.Element, ctx: IngestContext, payload: bytes) -> RawReport:
    """The raw report one parsed `<event>` carries (checks that need the XML happen here)."""
    if event.tag != "event":
        raise ReportError(
            RejectReason.MALFORMED, f"document: root is <{shorten(event.tag)}>, not <event>"
        )
    cot_type = _attr(event, "type", "event") or ""
    type_class = cot_type_class(cot_type)
    how = _attr(event, "how", "event") or ""
    if not _HOW.fullmatch(how):
        raise ReportError(RejectReason.SCHEMA, f"event@how: malformed (value {shorten(how)})")
    if how == "h-g-i-g-o":
        raise ReportError(
            RejectReason.BAD_UNCERTAINTY, "event@how: h-g-i-g-o, the producer disowns the position"
        )
    time_text = _attr(event, "time", "event") or ""
    time = parse_time(time_text, "event@time")
    parse_time(_attr(event, "start", "event"), "event@start")
    stale = parse_time(_attr(event, "stale", "event"), "event@stale")
    if stale < time:
        raise ReportError(
            RejectReason.BAD_TIME,
            f"event@stale: before event@time (value {shorten(stale.isoformat())})",
        )
    point = event.find("point")
    if point is None:
        raise ReportError(RejectReason.SCHEMA, "event/point: missing")
    lat = _float(_attr(point, "lat", "point"), "point@lat", RejectReason.BAD_COORDINATES)
    lon = _float(_attr(point, "lon", "point"), "point@lon", RejectReason.BAD_COORDINATES)
    ce = _float(point.get("ce"), "point@ce", RejectReason.BAD_UNCERTAINTY)
    _float(point.get("hae"), "point@hae", RejectReason.SCHEMA)
    _float(point.get("le"), "point@le", RejectReason.SCHEMA)
    if ce is not None and ce >= CE_UNKNOWN:
        ce = None  # unknown: the sensor's default applies
    limes = event.find("detail/limes")
    sensor_id = _sensor_id(ctx, limes, event)
    seq: int | None = None
    target_class: str | TargetClass = type_class
    confidence = group = None
    if limes is not None:
        seq = _int(limes.get("seq"), "detail/limes@seq", RejectReason.BAD_SEQUENCE)
        target_class = limes.get("class") or type_class
        confidence = _float(
            limes.get("confidence"), "detail/limes@confidence", RejectReason.BAD_CONFIDENCE
        )
        group = _int(limes.get("group"), "detail/limes@group", RejectReason.BAD_GROUP_SIZE)
    if seq is None:
        seq = _fallback_seq(event.get("uid", ""), time_text)
    return RawReport(
        sensor_id=sensor_id,
        seq=seq,
        time=time,
        lon=lon,
        lat=lat,
        position_sd_m=ce,
        target_class=target_class,
        confidence=confidence,
        group_size=group,
        stale=stale,
        payload=payload,
        names=_NAMES,
    )


def parse_cot_xml(data: bytes) -> ET.Element:
    """Parse one CoT document safely: no DTD, no entities, no external references."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise ReportError(RejectReason.UNSAFE_XML, f"document: refused ({error!r})") from None
    except (ET.ParseError, ValueError, UnicodeError) as error:
        raise ReportError(
            RejectReason.MALFORMED, f"document: not well-formed XML ({error})"
        ) from None


def parse_cot_events(
    documents: Sequence[bytes],
    ctx: IngestContext,
    *,
    source: str,
    received: datetime | None = None,
) -> IngestOutcome:
    """Many CoT documents (one read of a TCP stream) to one outcome, placed in one batch."""
    now = ctx.now() if received is None else received
    limits = ctx.limits
    outcome = IngestOutcome()
    reports: list[RawReport] = []
    for data in documents:
        if len(data) > limits.max_event_bytes:
            outcome.rejections.append(
                Rejection(
                    RejectReason.OVERSIZE,
                    f"event: {len(data)} bytes, over the {limits.max_event_bytes} byte limit",
                    source,
                    now,
                    bytes(data[: limits.dead_letter_keep_bytes]),
                )
            )
            continue
        try:
            reports.append(cot_report(parse_cot_xml(data), ctx, bytes(data)))
        except ReportError as error:
            outcome.rejections.append(
                Rejection(error.reason, error.detail, source, now, bytes(data))
            )
    outcome.extend(normalise_batch(reports, ctx, source=source, received=now))
    outcome.rejections = [storable(r, limits.dead_letter_keep_bytes) for r in outcome.rejections]
    return outcome


def parse_cot_event(
    data: bytes, ctx: IngestContext, *, source: str, received: datetime | None = None
) -> IngestOutcome:
    """One CoT document (a UDP datagram, or one event cut from a TCP stream) to an outcome."""
    return parse_cot_events([data], ctx, source=source, received=received)

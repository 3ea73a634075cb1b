"""The limes JSON detection format: one detection object, or a batch `{"detections": [...]}`.

Used by the MQTT door (one message) and the HTTP door (one body). Sizes are checked before any
parsing; types are strict (`"12"` is not a number, `12.0` is not an integer, `true` is neither);
NaN and infinities are rejected; each item of a batch is checked on its own, so one bad item
does not cost the others. The JSON Schema published at `docs/schemas/detection.schema.json` is
generated from these models; `write_detection_schema()` rewrites it after a model change.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.dead_letter import Rejection, RejectReason, storable
from limes.ops.ingest.normalise import MAX_SEQ, RawReport, normalise_batch, shorten
from limes.ops.ingest.outcome import IngestOutcome

SENSOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
SCHEMA_PATH = "docs/schemas/detection.schema.json"

_EITHER_POSITION: dict[str, Any] = {
    "oneOf": [
        {
            "required": ["lon", "lat"],
            "not": {"anyOf": [{"required": ["bearing_deg"]}, {"required": ["range_m"]}]},
        },
        {
            "required": ["bearing_deg", "range_m"],
            "not": {"anyOf": [{"required": ["lon"]}, {"required": ["lat"]}]},
        },
    ]
}


class DetectionIn(BaseModel):
    """One detection as a sensor sends it (JSON)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        allow_inf_nan=False,
        populate_by_name=True,
        title="Detection",
        json_schema_extra=_EITHER_POSITION,
    )

    sensor_id: str = Field(
        pattern=SENSOR_ID_PATTERN, description="The reporting sensor's id, as in the scenario."
    )
    seq: int = Field(
        ge=0,
        le=MAX_SEQ,
        description="The sensor's message sequence number; (sensor_id, seq) "
        "identifies a report, and a repeat is dropped as a duplicate.",
    )
    time: str = Field(
        max_length=64,
        json_schema_extra={"format": "date-time"},
        description="When the sensor saw it: ISO 8601 with Z or an offset.",
    )
    lon: float | None = Field(None, ge=-180, le=180, description="WGS84 longitude, degrees.")
    lat: float | None = Field(None, ge=-90, le=90, description="WGS84 latitude, degrees.")
    position_sd_m: float | None = Field(
        None, gt=0, description="One-sigma position error, metres (default: the sensor's)."
    )
    bearing_deg: float | None = Field(
        None, ge=0, lt=360, description="True bearing from the sensor, degrees clockwise."
    )
    range_m: float | None = Field(None, gt=0, description="Range from the sensor, metres.")
    bearing_sd_deg: float | None = Field(
        None, gt=0, le=90, description="One-sigma bearing error, degrees (default: the sensor's)."
    )
    range_sd_m: float | None = Field(
        None, gt=0, description="One-sigma range error, metres (default: the sensor's)."
    )
    target_class: str | None = Field(
        None,
        alias="class",
        max_length=32,
        description="person, vehicle, animal or unknown (case-insensitive; aliases such as "
        "human, pedestrian, car, truck are accepted). Default unknown.",
    )
    confidence: float | None = Field(None, ge=0, le=1, description="In [0, 1]; default 1.")
    group_size: int | None = Field(None, ge=1, description="How many in the group, if known.")


class DetectionBatchIn(BaseModel):
    """Many detections in one message (at most `IngestLimits.max_batch_size`, default 1000)."""

    model_config = ConfigDict(strict=True, extra="forbid", title="DetectionBatch")

    detections: list[DetectionIn]


_MESSAGE: TypeAdapter[DetectionIn | DetectionBatchIn] = TypeAdapter(DetectionIn | DetectionBatchIn)

#: Which reason a value (not type) error on a field gets.
_FIELD_REASONS = {
    "seq": RejectReason.BAD_SEQUENCE,
    "time": RejectReason.BAD_TIME,
    "lon": RejectReason.BAD_COORDINATES,
    "lat": RejectReason.BAD_COORDINATES,
    "bearing_deg": RejectReason.BAD_COORDINATES,
    "range_m": RejectReason.BAD_COORDINATES,
    "position_sd_m": RejectReason.BAD_UNCERTAINTY,
    "bearing_sd_deg": RejectReason.BAD_UNCERTAINTY,
    "range_sd_m": RejectReason.BAD_UNCERTAINTY,
    "class": RejectReason.BAD_CLASS,
    "confidence": RejectReason.BAD_CONFIDENCE,
    "group_size": RejectReason.BAD_GROUP_SIZE,
}
#: Error types that mean the message has the wrong shape, whatever the field.
_SHAPE_ERRORS = {"missing", "extra_forbidden", "model_type", "model_attributes_type"}


def detection_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of one MQTT message or HTTP body."""
    schema = _MESSAGE.json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "limes detection message",
        "description": 'One detection, or a batch {"detections": [...]}. See docs/protocols.md.',
        **schema,
    }


def write_detection_schema(path: str | Path = SCHEMA_PATH) -> None:
    """Write the published schema file (run after changing the models)."""
    text = json.dumps(detection_json_schema(), indent=2, ensure_ascii=False) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def _from_validation_error(error: ValidationError, path: str) -> tuple[RejectReason, str]:
    details = []
    reason: RejectReason | None = None
    for e in error.errors():
        loc = ".".join(str(part) for part in e["loc"])
        field = str(e["loc"][0]) if e["loc"] else ""
        shape = e["type"] in _SHAPE_ERRORS or e["type"].endswith(("_type", "_parsing"))
        this = RejectReason.SCHEMA if shape else _FIELD_REASONS.get(field, RejectReason.SCHEMA)
        reason = reason or this
        shown = f" (value {shorten(e['input'])})" if e["type"] != "missing" else ""
        details.append(f"{path}{loc or 'message'}: {e['msg']}{shown}")
    return reason or RejectReason.SCHEMA, "; ".join(details)


def _report(model: DetectionIn, payload: bytes, item: int | None, path: str) -> RawReport:
    return RawReport(
        sensor_id=model.sensor_id,
        seq=model.seq,
        time=model.time,
        lon=model.lon,
        lat=model.lat,
        position_sd_m=model.position_sd_m,
        bearing_deg=model.bearing_deg,
        range_m=model.range_m,
        bearing_sd_deg=model.bearing_sd_deg,
        range_sd_m=model.range_sd_m,
        target_class=model.target_class,
        confidence=model.confidence,
        group_size=model.group_size,
        payload=payload,
        item=item,
        path=path,
        names={"target_class": "class"},
    )


def parse_json_message(
    data: bytes,
    ctx: IngestContext,
    *,
    source: str,
    received: datetime | None = None,
    expected_sensor: str | None = None,
    allowed_sensors: Collection[str] | None = None,
) -> IngestOutcome:
    """Read one JSON message into detections and rejections; never raises on bad input.

    `expected_sensor` (the sensor named by the MQTT topic) and `allowed_sensors` (those an HTTP
    caller may speak for) reject items claiming another sensor with `SENSOR_MISMATCH`.
    Rejections come out `storable`: whatever the message held (NUL, unpaired surrogates,
    overlong ids or topics, megabytes), its dead letter fits the store.
    """
    outcome = _read_message(data, ctx, source, received, expected_sensor, allowed_sensors)
    keep = ctx.limits.dead_letter_keep_bytes
    outcome.rejections = [storable(r, keep) for r in outcome.rejections]
    return outcome


def _read_message(
    data: bytes,
    ctx: IngestContext,
    source: str,
    received: datetime | None,
    expected_sensor: str | None,
    allowed_sensors: Collection[str] | None,
) -> IngestOutcome:
    now = ctx.now() if received is None else received
    limits = ctx.limits

    def whole(reason: RejectReason, detail: str, payload: bytes = data) -> IngestOutcome:
        return IngestOutcome.rejected(Rejection(reason, detail, source, now, payload))

    if len(data) > limits.max_message_bytes:
        return whole(
            RejectReason.OVERSIZE,
            f"message: {len(data)} bytes, over the {limits.max_message_bytes} byte limit",
            bytes(data[: limits.dead_letter_keep_bytes]),
        )
    try:
        parsed = pydantic_core.from_json(data, allow_inf_nan=False)
    except ValueError as error:
        return whole(RejectReason.MALFORMED, f"message: not valid JSON ({error})")
    if not isinstance(parsed, dict):
        return whole(RejectReason.SCHEMA, f"message: must be a JSON object, not {_kind(parsed)}")

    items: Sequence[object]
    if "detections" in parsed:
        extra = sorted(set(parsed) - {"detections"})
        if extra:
            return whole(RejectReason.SCHEMA, f"message: unknown keys beside detections: {extra}")
        batch = parsed["detections"]
        if not isinstance(batch, list):
            return whole(RejectReason.SCHEMA, f"detections: must be a list, not {_kind(batch)}")
        if len(batch) > limits.max_batch_size:
            return whole(
                RejectReason.OVERSIZE,
                f"detections: {len(batch)} items, over the {limits.max_batch_size} item limit",
            )
        items = batch
        is_batch = True
    else:
        items = [parsed]
        is_batch = False

    outcome = IngestOutcome()
    reports: list[RawReport] = []
    plain = _Plain(expected_sensor, allowed_sensors)
    for index, raw in enumerate(items):
        item = index if is_batch else None
        path = f"detections[{index}]." if is_batch else ""
        if is_batch:
            fast = plain.report(raw, index, path)
            if fast is not None:
                reports.append(fast)  # its payload is encoded only if it is rejected
                continue
        payload = pydantic_core.to_json(raw) if is_batch else data
        claimed = raw.get("sensor_id") if isinstance(raw, dict) else None
        claimed = claimed if isinstance(claimed, str) else None
        try:
            model = DetectionIn.model_validate(raw, strict=True)
        except ValidationError as error:
            reason, detail = _from_validation_error(error, path)
            outcome.rejections.append(
                Rejection(reason, detail, source, now, payload, item, claimed)
            )
            continue
        mismatch = None
        if expected_sensor is not None and model.sensor_id != expected_sensor:
            mismatch = f"the topic is for sensor {expected_sensor!r}"
        elif allowed_sensors is not None and model.sensor_id not in allowed_sensors:
            mismatch = "the caller may not report for it"
        if mismatch:
            outcome.rejections.append(
                Rejection(
                    RejectReason.SENSOR_MISMATCH,
                    f"{path}sensor_id: {model.sensor_id!r} refused, {mismatch}",
                    source,
                    now,
                    payload,
                    item,
                    model.sensor_id,
                )
            )
            continue
        reports.append(_report(model, payload, item, path))
    checked = normalise_batch(reports, ctx, source=source, received=now)
    outcome.detections.extend(checked.detections)
    outcome.rejections.extend(
        dataclasses.replace(r, payload=pydantic_core.to_json(items[r.item]))
        if not r.payload and r.item is not None
        else r
        for r in checked.rejections
    )
    outcome.rejections.sort(key=lambda r: -1 if r.item is None else r.item)
    return outcome


_PLAIN_KEYS = frozenset(
    {"sensor_id", "seq", "time", "lon", "lat", "position_sd_m", "class", "confidence",
     "group_size"}
)  # fmt: skip
_SENSOR_ID = re.compile(SENSOR_ID_PATTERN)
_NAMES = {"target_class": "class"}


class _Plain:
    """The common item read without the model: a lon/lat report whose every field has the
    model's type and lies within its bounds, and whose sensor the caller may speak for.

    It accepts a subset of what `DetectionIn` accepts and yields the same `RawReport`, so an
    item it does not take goes through the model, which names what is wrong with it exactly.
    """

    def __init__(
        self, expected_sensor: str | None, allowed_sensors: Collection[str] | None
    ) -> None:
        self.expected = expected_sensor
        self.allowed = allowed_sensors
        self.sensors: dict[str, bool] = {}  # sensor id -> well-formed and allowed here

    def _sensor_ok(self, sensor_id: str) -> bool:
        ok = self.sensors.get(sensor_id)
        if ok is None:
            ok = self.sensors[sensor_id] = (
                _SENSOR_ID.fullmatch(sensor_id) is not None
                and (self.expected is None or sensor_id == self.expected)
                and (self.allowed is None or sensor_id in self.allowed)
            )
        return ok

    def report(self, raw: object, item: int, path: str) -> RawReport | None:
        if type(raw) is not dict or not raw.keys() <= _PLAIN_KEYS:
            return None
        fields: dict[str, Any] = raw
        sensor_id: Any = fields.get("sensor_id")
        seq: Any = fields.get("seq")
        time: Any = fields.get("time")
        lon: Any = fields.get("lon")
        lat: Any = fields.get("lat")
        sd: Any = fields.get("position_sd_m")
        cls: Any = fields.get("class")
        confidence: Any = fields.get("confidence")
        group: Any = fields.get("group_size")
        if not (
            type(sensor_id) is str and self._sensor_ok(sensor_id)
            and type(seq) is int and 0 <= seq <= MAX_SEQ
            and type(time) is str and len(time) <= 64
            and type(lon) in _REAL and -180 <= lon <= 180
            and type(lat) in _REAL and -90 <= lat <= 90
            and (sd is None or (type(sd) in _REAL and 0 < sd < math.inf))
            and (cls is None or (type(cls) is str and len(cls) <= 32))
            and (confidence is None or (type(confidence) in _REAL and 0 <= confidence <= 1))
            and (group is None or (type(group) is int and group >= 1))
        ):  # fmt: skip
            return None
        return RawReport(
            sensor_id, seq, time, float(lon), float(lat), None if sd is None else float(sd),
            target_class=cls, confidence=None if confidence is None else float(confidence),
            group_size=group, payload=b"", item=item, path=path, names=_NAMES,
        )  # fmt: skip


_REAL = (float, int)


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )

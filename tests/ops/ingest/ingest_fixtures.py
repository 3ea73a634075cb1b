"""Shared helpers for the ingest tests: a small invented scenario on the Iraq–Syria border."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import box

from limes.geo.frame import Frame
from limes.ops.ingest.context import IngestContext, IngestLimits, SensorInfo, utc_now

#: The fixed "now" of every test context.
NOW = datetime(2025, 3, 1, 21, 0, 0, tzinfo=UTC)

# Invented sensor positions near Al-Qaim (labelled as such: not real assets).
SENSORS = {
    "tower-1": SensorInfo(
        "tower-1",
        41.00,
        34.40,
        position_sd_m=25.0,
        range_m=10_000.0,
        bearing_sd_deg=1.0,
        range_sd_m=20.0,
    ),
    "radar-2": SensorInfo("radar-2", 41.20, 34.50, position_sd_m=50.0, range_m=20_000.0),
    "op-3": SensorInfo("op-3", 40.80, 34.30, position_sd_m=100.0),
}
AREA = box(40.5, 34.0, 41.5, 34.8)
FRAME = Frame.transverse_mercator(41.0, 34.4)  # built once: pyproj transformers are slow to make


def make_context(limits: IngestLimits | None = None, now: datetime | None = NOW) -> IngestContext:
    """The test scenario's ingest context with a fixed clock (`now=None`: the real clock)."""
    return IngestContext(
        frame=FRAME,
        sensors=SENSORS,
        area=AREA,
        limits=limits or IngestLimits(),
        clock=utc_now if now is None else (lambda: now),
    )


def good_item(**overrides: Any) -> dict[str, Any]:
    """A valid JSON detection (tower-1, 2 km north-east of it), with fields replaced."""
    item: dict[str, Any] = {
        "sensor_id": "tower-1",
        "seq": 1,
        "time": (NOW - timedelta(seconds=2)).isoformat().replace("+00:00", "Z"),
        "lon": 41.015,
        "lat": 34.41,
        "position_sd_m": 30.0,
        "class": "person",
        "confidence": 0.8,
        "group_size": 3,
    }
    for key, value in overrides.items():
        if value is _DROP:
            item.pop(key, None)
        else:
            item[key] = value
    return item


_DROP = object()
DROP: Any = _DROP  # pass as an override to remove a field


def good_json(**overrides: Any) -> bytes:
    return json.dumps(good_item(**overrides)).encode()


def good_cot(
    seq: int = 1,
    *,
    sensor: str = "tower-1",
    cot_type: str = "a-h-G-U-C",
    lat: float = 34.41,
    lon: float = 41.015,
    ce: str = "30",
    time: datetime | None = None,
    declaration: bool = False,
) -> bytes:
    """A valid CoT event with the limes detail element."""
    t = (time or NOW - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = ((time or NOW) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    decl = b'<?xml version="1.0" encoding="UTF-8"?>\n' if declaration else b""
    return (
        decl
        + (
            f'<event version="2.0" uid="{sensor}.t{seq}" type="{cot_type}" how="m-r" time="{t}" '
            f'start="{t}" stale="{stale}"><point lat="{lat}" lon="{lon}" hae="300" ce="{ce}" '
            f'le="9999999.0"/><detail><limes sensor="{sensor}" seq="{seq}" class="person" '
            f'confidence="0.7" group="2"/></detail></event>'
        ).encode()
    )


Factory = Callable[..., bytes]


#: A billion-laughs DTD (put before an event: its entities are never expanded).
BILLION_LAUGHS_HEAD = (
    b'<?xml version="1.0"?>\n<!DOCTYPE event [<!ENTITY lol "lol">'
    b'<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>\n'
)

"""The hostile corpus: messages a hostile or broken sender puts on each door.

Each entry is (name, bytes). None of them may stop the store, stall a door or cost the good
message that follows it; each must end as a dead letter (or a quarantined item).
"""

from __future__ import annotations

import json

from service_support import LAT, LON, SENSOR, good_cot

_T = "2025-01-01T00:00:00Z"


def _item(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"sensor_id": SENSOR, "seq": 10**12, "time": _T, "lon": LON,
                               "lat": LAT}  # fmt: skip
    base.update(fields)
    return base


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _deep(levels: int) -> bytes:
    return b'{"detections": ' + b"[" * levels + b"]" * levels + b"}"


#: For the JSON doors (MQTT message, HTTP body).
JSON_CORPUS: list[tuple[str, bytes]] = [
    ("NUL key", _json({**_item(), "\x00": 1})),
    ("NUL key in a batch", _json({"detections": [{**_item(), "a\x00b": 1}]})),
    ("NUL in sensor id", _json(_item(sensor_id="tower\x00w"))),
    ("NUL in class", _json(_item(**{"class": "per\x00son"}))),
    ("lone surrogate escaped", b'{"sensor_id": "\\ud800", "seq": 1}'),
    ("lone surrogate as a key", b'{"\\udfff": 1}'),
    ("overlong sensor id", _json(_item(sensor_id="s" * 300))),
    ("overlong sensor id in a batch", _json({"detections": [_item(sensor_id="x" * 5000)]})),
    ("deep nesting", _deep(100_000)),
    ("1 MB string", _json(_item(sensor_id="a" * 1_000_000))),
    ("over 1 MiB", b'{"x": "' + b"a" * (1 << 20) + b'"}'),
    (
        "1e309 longitude",
        b'{"sensor_id": "tower-w", "seq": 5, "time": "2025-01-01T00:00:00Z", '
        b'"lon": 1e309, "lat": 34.0}',
    ),
    ("-1e309 in a batch", b'{"detections": [{"lat": -1e309}]}'),
    ("boolean coordinates", _json(_item(lon=True, lat=False))),
    ("string coordinates", _json(_item(lon="41.04", lat="34.01"))),
    ("invalid UTF-8", b'{"sensor_id": "\xff\xfe\xed\xa0\x80", "seq": 1}'),
    ("raw NUL bytes", b"\x00" * 64),
    ("empty", b""),
    ("not an object", b"[1, 2, 3]"),
    ("year 1 at +14:00", _json(_item(time="0001-01-01T00:00:00+14:00"))),
    ("year 9999 at -14:00", _json(_item(time="9999-12-31T23:59:59-14:00"))),
    ("huge seq", _json(_item(seq=2**64))),
    ("negative seq", _json(_item(seq=-1))),
    ("NaN text", b'{"sensor_id": "tower-w", "seq": 1, "lon": NaN}'),
    ("many bad items", _json({"detections": [{"\x00": i} for i in range(1000)]})),
]
#: Entries of JSON_CORPUS that reject more than one dead letter: name -> how many.
JSON_LETTERS = {"many bad items": 1000}

_EVENT = good_cot(1).decode()
_UID = f'uid="{SENSOR}.t1"'
_SENSOR = f'sensor="{SENSOR}"'

#: For the CoT doors (a TCP stream, UDP datagrams).
COT_CORPUS: list[tuple[str, bytes]] = [
    ("NUL byte in an attribute", _EVENT.replace('how="m-r"', 'how="m\x00r"').encode()),
    ("invalid UTF-8", _EVENT.replace('how="m-r"', 'how="\udcff"').encode(errors="surrogateescape")),
    ("overlong uid", _EVENT.replace(_UID, 'uid="' + "u" * 70_000 + '"').encode()),
    ("overlong sensor", _EVENT.replace(_SENSOR, 'sensor="' + "s" * 5000 + '"').encode()),
    ("1e309 latitude", _EVENT.replace(f'lat="{LAT}"', 'lat="1e309"').encode()),
    ("boolean latitude", _EVENT.replace(f'lat="{LAT}"', 'lat="true"').encode()),
    ("deep nesting", ("<event><detail>" + "<a>" * 5000 + "</a>" * 5000 + "</detail></event>")
     .encode()),
    ("billion laughs", b'<?xml version="1.0"?><!DOCTYPE event [<!ENTITY a "aaaaaaaaaa">'
                       b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><event uid="&b;"/>'),
    ("external entity", b'<!DOCTYPE event [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        b'<event uid="&x;"/>'),
    ("not an event", b"<event uid='x'><point/></event>"),
    ("year 1 at +14:00", _EVENT.replace('time="', 'time="0001-01-01T00:00:00+14:00" x="', 1)
     .encode()),
]  # fmt: skip

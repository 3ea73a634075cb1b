"""Offline tracking: a JSON-lines file of detections in, a JSON-lines file of track states out.

Input, one JSON object per line (blank lines are skipped):

    {"time": "2024-03-01T02:00:01Z", "sensor_id": "radar-1", "seq": 17,
     "lon": 41.01, "lat": 34.40,            # or "x": 912.4, "y": -33.0 (metres, in the frame)
     "sd_m": 5.0,                            # or "var_xx", "var_xy", "var_yy" (m²)
     "target_class": "person", "confidence": 0.8, "group_size": 3}

`time` (ISO 8601 with a UTC offset), a position and its uncertainty are required; `sensor_id`
defaults to "file", `seq` to the line number, `target_class` to "unknown", `confidence` to 1.
The doors' JSON detection (docs/protocols.md) reads as it is: `position_sd_m` for `sd_m`,
`class` for `target_class`, a batch `{"detections": [...]}` for its items; and so does
`limes simulate`'s detections.jsonl, whose lines carry the message sent in `message`.
The metric frame is `frame` (any PROJ/EPSG string pyproj reads) when given, else a transverse
Mercator centred on the mean lon/lat of the file. Records with x/y are used as they are (in
`frame` when given; without one, lon/lat is not written out, and a file that mixes x/y and
lon/lat-only records is refused).
Output: one `TrackState.to_json()` object per line, plus "lon"/"lat" where the frame is known;
only tracks that were confirmed at some time (their states from confirmation on, and their
deletion), unless `tentative` asks for every state.

Bad records are rejected one by one, as the live doors do, each with its place and reason
(a missing or non-finite field, `sd_m` or variances not positive, a position beyond
`MAX_COORDINATE_M` of the frame's origin, a repeated `sensor_id`/`seq`); the rest are tracked.
A file that cannot be read at all (not there, not UTF-8, no frame) is an error.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from limes.errors import GeoError, OpsError
from limes.ops.detection import Detection, TargetClass
from limes.ops.tracker import Tracker, TrackerConfig, TrackState, TrackStatus, Untracked
from limes.ops.tracker.kernel import compile_if_worth

if TYPE_CHECKING:  # pyproj is imported only when a file needs a frame
    from limes.geo.frame import Frame

#: Largest |x| or |y| (m) taken: 10,000 km from the frame's origin, beyond any border strip.
MAX_COORDINATE_M = 1.0e7


class TrackFileError(OpsError):
    """A detections file that cannot be read, with the place (file:line) and field at fault."""


@dataclass(frozen=True)
class SkippedRecord:
    """A record of the file not tracked: where (file:line) and why."""

    where: str
    reason: str


@dataclass(frozen=True)
class TrackFileSummary:
    """What `track_file` did."""

    detections: int
    states_written: int
    tracks: int
    frame: str
    rejected: list[Untracked] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)

    def rejection_counts(self) -> dict[str, int]:
        """How many records were not tracked, by reason (the reason's text before any colon)."""
        out: dict[str, int] = {}
        reasons = [s.reason for s in self.skipped] + [r.reason for r in self.rejected]
        for reason in reasons:
            key = reason.split(":", 1)[0]
            out[key] = out.get(key, 0) + 1
        return out


def _number(obj: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = obj.get(key, default)
    if value is None:
        raise TrackFileError(f"{where}: missing field {key!r}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TrackFileError(f"{where}: field {key!r} must be a finite number, got {value!r}")
    return float(value)


def _time(obj: dict[str, Any], where: str) -> datetime:
    raw = obj.get("time")
    if not isinstance(raw, str):
        raise TrackFileError(f"{where}: field 'time' must be an ISO 8601 string, got {raw!r}")
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise TrackFileError(f"{where}: field 'time' is not ISO 8601: {raw!r}") from exc
    if when.tzinfo is None:
        raise TrackFileError(f"{where}: field 'time' needs a UTC offset (e.g. 'Z'): {raw!r}")
    return when


def _read(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[SkippedRecord]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrackFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise TrackFileError(f"{path}: not UTF-8 text: {exc.reason}") from exc
    records = []
    skipped = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(SkippedRecord(where, f"not JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            skipped.append(
                SkippedRecord(where, f"expected a JSON object, got {type(obj).__name__}")
            )
            continue
        try:
            records.extend(_unwrapped(where, obj))
        except TrackFileError as exc:
            skipped.append(SkippedRecord(where, str(exc).removeprefix(f"{where}: ")))
    return records, skipped


def _unwrapped(where: str, obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The detections of one line: itself, the message `limes simulate` recorded sending
    (`{"send_s", "actor_id", "message"}`), or the items of a doors' batch."""
    if "message" in obj and "time" not in obj:
        obj = obj["message"]
        if not isinstance(obj, dict):
            raise TrackFileError(f"{where}: field 'message' must be a JSON object")
    items = obj.get("detections")
    if items is None:
        return [(where, obj)]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise TrackFileError(f"{where}: field 'detections' must be a list of JSON objects")
    return [(f"{where} detections[{k}]", item) for k, item in enumerate(items)]


def _finite_lonlat(obj: dict[str, Any]) -> tuple[float, float] | None:
    lon, lat = obj.get("lon"), obj.get("lat")
    ok = all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in (lon, lat)
    )
    if not ok or not (-180 <= lon <= 180 and -90 <= lat <= 90):  # type: ignore[operator]
        return None
    return float(lon), float(lat)  # type: ignore[arg-type]


def _frame(records: list[tuple[str, dict[str, Any]]], frame: str | None) -> Frame | None:
    if frame is not None:
        try:
            return _frames().from_user_input(frame)
        except GeoError as exc:
            raise TrackFileError(f"frame {frame!r}: {exc}") from exc
    metric = [w for w, o in records if "x" in o or "y" in o]
    lonlat = [
        ll
        for _, o in records
        if "lon" in o and "lat" in o and not ("x" in o or "y" in o)
        if (ll := _finite_lonlat(o)) is not None
    ]
    if metric and lonlat:
        raise TrackFileError(
            f"{metric[0]}: x/y records mixed with lon/lat-only records need an explicit frame"
        )
    if not lonlat:
        return None
    lon, lat = np.mean(np.array(lonlat), axis=0)
    return _frames().transverse_mercator(float(lon), float(lat))


def _frames() -> type[Frame]:
    """`Frame`, imported only for a file that needs one (pyproj takes 0.1 s to import)."""
    from limes.geo.frame import Frame

    return Frame


def _detection(where: str, obj: dict[str, Any], seq: int, frame: Frame | None) -> Detection:
    if "x" in obj or "y" in obj:
        x, y = _number(obj, "x", where), _number(obj, "y", where)
        if "lon" in obj and "lat" in obj:
            lon, lat = _number(obj, "lon", where), _number(obj, "lat", where)
        elif frame is not None:
            lons, lats = frame.to_lonlat(x, y)
            lon, lat = float(lons), float(lats)
        else:
            lon = lat = math.nan
    elif "lon" in obj and "lat" in obj:
        lon, lat = _number(obj, "lon", where), _number(obj, "lat", where)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise TrackFileError(f"{where}: lon/lat out of range: {lon}, {lat}")
        assert frame is not None  # a frame exists whenever any record has lon/lat
        xs, ys = frame.to_xy(lon, lat)
        x, y = float(xs), float(ys)
    else:
        raise TrackFileError(f"{where}: a position is needed: 'x' and 'y', or 'lon' and 'lat'")
    if not (abs(x) <= MAX_COORDINATE_M and abs(y) <= MAX_COORDINATE_M):
        raise TrackFileError(
            f"{where}: position beyond {MAX_COORDINATE_M:.0e} m of the frame's origin: {x}, {y}"
        )
    sd_key = "sd_m" if "sd_m" in obj else "position_sd_m"  # the file's name, the doors' name
    if sd_key in obj:
        sd = _number(obj, sd_key, where)
        if sd <= 0:
            raise TrackFileError(f"{where}: {sd_key} must be positive, got {sd}")
        var_xx, var_xy, var_yy = sd * sd, 0.0, sd * sd
    elif "var_xx" in obj:
        var_xx = _number(obj, "var_xx", where)
        var_xy = _number(obj, "var_xy", where, 0.0)
        var_yy = _number(obj, "var_yy", where)
        if not (var_xx > 0 and var_yy > 0 and var_xx * var_yy > var_xy * var_xy):
            raise TrackFileError(
                f"{where}: var_xx, var_xy, var_yy must be a positive-definite covariance"
            )
    else:
        raise TrackFileError(
            f"{where}: an uncertainty is needed: 'sd_m' (or 'position_sd_m'), or 'var_xx'/'var_yy'"
        )
    cls_raw = obj.get("target_class", obj.get("class", "unknown"))
    try:
        cls = TargetClass(cls_raw)
    except ValueError as exc:
        allowed = ", ".join(c.value for c in TargetClass)
        raise TrackFileError(f"{where}: target_class {cls_raw!r} is not one of {allowed}") from exc
    group = obj.get("group_size")
    if group is not None and (not isinstance(group, int) or isinstance(group, bool) or group < 1):
        raise TrackFileError(f"{where}: group_size must be a positive integer, got {group!r}")
    seq_raw = obj.get("seq", seq)
    if not isinstance(seq_raw, int) or isinstance(seq_raw, bool):
        raise TrackFileError(f"{where}: seq must be an integer, got {seq_raw!r}")
    return Detection(
        sensor_id=str(obj.get("sensor_id", "file")),
        seq=seq_raw,
        time=_time(obj, where),
        lon=lon,
        lat=lat,
        x=x,
        y=y,
        var_xx=var_xx,
        var_xy=var_xy,
        var_yy=var_yy,
        target_class=cls,
        confidence=_number(obj, "confidence", where, 1.0),
        group_size=group,
    )


def _line(state: TrackState, frame: Frame | None) -> str:
    out = state.to_json()
    if frame is not None:
        lon, lat = frame.to_lonlat(state.x, state.y)
        out["lon"], out["lat"] = float(lon), float(lat)
    return json.dumps(out)


def _detections(
    records: list[tuple[str, dict[str, Any]]], metric: Frame | None
) -> tuple[list[Detection], list[SkippedRecord]]:
    """The records as detections, and those rejected one by one with their reasons."""
    out: list[Detection] = []
    skipped: list[SkippedRecord] = []
    keys: dict[tuple[str, int], str] = {}
    for i, (where, obj) in enumerate(records):
        try:
            d = _detection(where, obj, i + 1, metric)
        except TrackFileError as exc:
            skipped.append(SkippedRecord(where, str(exc).removeprefix(f"{where}: ")))
            continue
        first = keys.get(d.key)
        if first is not None:
            skipped.append(
                SkippedRecord(where, f"duplicate sensor_id/seq: {d.key} (first at {first})")
            )
            continue
        keys[d.key] = where
        out.append(d)
    return out, skipped


def track_file(
    in_path: str | Path,
    out_path: str | Path,
    config: TrackerConfig | None = None,
    *,
    frame: str | None = None,
    tentative: bool = False,
) -> TrackFileSummary:
    """Track the detections of a JSON-lines file; write track state changes as JSON lines.

    The whole file is known in advance, so detections are tracked in time order (stable for
    equal times) and none is too late. Records that cannot be used are skipped one by one
    (the summary's `skipped`, with file:line and reason); detections the tracker refuses
    are in `rejected`. Only tracks confirmed at some time are written, unless `tentative`.
    Raises `TrackFileError` for a file it cannot read at all.
    """
    source = Path(in_path)
    records, unread = _read(source)
    metric = _frame(records, frame)
    detections, skipped = _detections(records, metric)
    skipped = sorted(unread + skipped, key=lambda r: int(r.where.rsplit(":", 1)[1]))
    detections.sort(key=lambda d: d.time)
    tracker = Tracker(config)
    written = 0
    ids: set[str] = set()
    with Path(out_path).open("w", encoding="utf-8") as sink:
        step = 1000
        for start in range(0, len(detections), step):
            states = tracker.update(detections[start : start + step])
            states += tracker.flush() if start + step >= len(detections) else []
            # The whole file is known: compile the kernels only if the rest is worth the load.
            compile_if_worth(min(start + step, len(detections)), len(detections))
            for s in states:
                if not tentative:
                    if s.status is TrackStatus.TENTATIVE:
                        continue
                    if s.status is TrackStatus.DELETED and s.track_id not in ids:
                        continue
                sink.write(_line(s, metric) + "\n")
                ids.add(s.track_id)
                written += 1
    return TrackFileSummary(
        detections=len(detections),
        states_written=written,
        tracks=len(ids),
        frame=metric.crs.to_string() if metric is not None else "none (x/y as given)",
        rejected=tracker.take_rejected(),
        skipped=skipped,
    )

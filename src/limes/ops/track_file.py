"""Offline tracking: a JSON-lines file of detections in, a JSON-lines file of track states out.

Input, one JSON object per line (blank lines are skipped):

    {"time": "2024-03-01T02:00:01Z", "sensor_id": "radar-1", "seq": 17,
     "lon": 41.01, "lat": 34.40,            # or "x": 912.4, "y": -33.0 (metres, in the frame)
     "sd_m": 5.0,                            # or "var_xx", "var_xy", "var_yy" (m²)
     "target_class": "person", "confidence": 0.8, "group_size": 3}

`time` (ISO 8601 with a UTC offset), a position and its uncertainty are required; `sensor_id`
defaults to "file", `seq` to the line number, `target_class` to "unknown", `confidence` to 1.
The metric frame is `frame` (any PROJ/EPSG string pyproj reads) when given, else a transverse
Mercator centred on the mean lon/lat of the file. Records with x/y are used as they are (in
`frame` when given; without one, lon/lat is not written out, and a file that mixes x/y and
lon/lat-only records is refused).
Output: one `TrackState.to_json()` object per line, plus "lon"/"lat" where the frame is known.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from limes.errors import GeoError, OpsError
from limes.geo.frame import Frame
from limes.ops.detection import Detection, TargetClass
from limes.ops.tracker import Tracker, TrackerConfig, TrackState, Untracked


class TrackFileError(OpsError):
    """A detections file that cannot be read, with the place (file:line) and field at fault."""


@dataclass(frozen=True)
class TrackFileSummary:
    """What `track_file` did."""

    detections: int
    states_written: int
    tracks: int
    frame: str
    rejected: list[Untracked] = field(default_factory=list)


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


def _read(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrackFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrackFileError(f"{where}: not JSON: {exc.msg}") from exc
        if not isinstance(obj, dict):
            raise TrackFileError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        records.append((where, obj))
    return records


def _frame(records: list[tuple[str, dict[str, Any]]], frame: str | None) -> Frame | None:
    if frame is not None:
        try:
            return Frame.from_user_input(frame)
        except GeoError as exc:
            raise TrackFileError(f"frame {frame!r}: {exc}") from exc
    metric = [w for w, o in records if "x" in o or "y" in o]
    lonlat = [
        (_number(o, "lon", w), _number(o, "lat", w))
        for w, o in records
        if "lon" in o and "lat" in o and not ("x" in o or "y" in o)
    ]
    if metric and lonlat:
        raise TrackFileError(
            f"{metric[0]}: x/y records mixed with lon/lat-only records need an explicit frame"
        )
    if not lonlat:
        return None
    lon, lat = np.mean(np.array(lonlat), axis=0)
    return Frame.transverse_mercator(float(lon), float(lat))


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
    if "sd_m" in obj:
        sd = _number(obj, "sd_m", where)
        var_xx, var_xy, var_yy = sd * sd, 0.0, sd * sd
    elif "var_xx" in obj:
        var_xx = _number(obj, "var_xx", where)
        var_xy = _number(obj, "var_xy", where, 0.0)
        var_yy = _number(obj, "var_yy", where)
    else:
        raise TrackFileError(f"{where}: an uncertainty is needed: 'sd_m', or 'var_xx'/'var_yy'")
    cls_raw = obj.get("target_class", "unknown")
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


def track_file(
    in_path: str | Path,
    out_path: str | Path,
    config: TrackerConfig | None = None,
    *,
    frame: str | None = None,
) -> TrackFileSummary:
    """Track the detections of a JSON-lines file; write every track state change as JSON lines.

    The whole file is known in advance, so detections are tracked in time order (stable for
    equal times) and none is too late; invalid ones are returned in the summary's `rejected`.
    Raises `TrackFileError` naming file:line and field for input it cannot read.
    """
    source = Path(in_path)
    records = _read(source)
    metric = _frame(records, frame)
    detections = [_detection(w, o, i + 1, metric) for i, (w, o) in enumerate(records)]
    detections.sort(key=lambda d: d.time)
    tracker = Tracker(config)
    written = 0
    ids: set[str] = set()
    with Path(out_path).open("w", encoding="utf-8") as sink:
        step = 1000
        for start in range(0, len(detections), step):
            states = tracker.update(detections[start : start + step])
            states += tracker.flush() if start + step >= len(detections) else []
            for s in states:
                sink.write(_line(s, metric) + "\n")
                ids.add(s.track_id)
            written += len(states)
    return TrackFileSummary(
        detections=len(detections),
        states_written=written,
        tracks=len(ids),
        frame=metric.crs.to_string() if metric is not None else "none (x/y as given)",
        rejected=tracker.take_rejected(),
    )

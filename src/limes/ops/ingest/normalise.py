"""Raw report fields to a validated `Detection` in the scenario frame, or a `Rejection`.

Every door (JSON over MQTT or HTTP, Cursor-on-Target) turns its bytes into `RawReport`s and
calls `normalise_batch`, so the same rules apply whatever the door. The scalar checks run per
report; projection, bearing-and-range conversion, the area test and the range test run once
over the whole batch (numpy, pyproj and shapely vectorised).

Bearing-and-range reports: the position is the geodesic point at `range_m` along true bearing
`bearing_deg` from the sensor (WGS84 ellipsoid). Its covariance is the first-order
linearisation of that transform: in the frame, the range axis points along the grid direction
from the sensor to the report (this absorbs the meridian convergence between true and grid
north) and the covariance is `k² R diag(σ_r², (r·σ_θ)²) Rᵀ`, with `R` the rotation onto that
axis and `k` the frame's scale (frame distance over geodesic distance, ≈ 1). It holds while
`σ_θ` is small (a few degrees); with wide bearing spreads the true cloud is a banana that no
covariance describes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

from limes.errors import OpsError
from limes.geo.frame import Frame
from limes.ops.detection import Detection, TargetClass
from limes.ops.ingest.context import IngestContext, SensorInfo
from limes.ops.ingest.dead_letter import Rejection, RejectReason
from limes.ops.ingest.outcome import IngestOutcome

_GEOD = Geod(ellps="WGS84")
MAX_SEQ = 2**63 - 1  # fits a signed 64-bit database column

#: Accepted spellings of each target class (compared lower-cased, trimmed).
CLASS_ALIASES: Mapping[str, TargetClass] = {
    **{
        name: TargetClass.PERSON for name in ("person", "human", "people", "pedestrian", "dismount")
    },
    **{name: TargetClass.VEHICLE for name in ("vehicle", "car", "truck", "motorcycle", "4x4")},
    **{name: TargetClass.ANIMAL for name in ("animal", "livestock")},
    **{name: TargetClass.UNKNOWN for name in ("unknown", "other")},
}


@dataclass(frozen=True, slots=True)
class RawReport:
    """One report as a door read it, before any check.

    A position is either `lon`/`lat` (+ `position_sd_m`, else the sensor's default) or
    `bearing_deg`/`range_m` from the sensor (+ `bearing_sd_deg`/`range_sd_m`, else the sensor's
    defaults). `time` is an aware datetime or an ISO 8601 string with a zone. `stale` (CoT) is
    when the report stops being valid: one already stale on arrival is flagged late. `names`
    maps field names to what the door calls them (e.g. `"lat": "point@lat"`) for error details;
    `path` prefixes them (e.g. `"detections[3]."`).
    """

    sensor_id: str
    seq: object
    time: object
    lon: object = None
    lat: object = None
    position_sd_m: object = None
    bearing_deg: object = None
    range_m: object = None
    bearing_sd_deg: object = None
    range_sd_m: object = None
    target_class: object = None
    confidence: object = None
    group_size: object = None
    stale: datetime | None = None
    payload: bytes = b""
    item: int | None = None
    path: str = ""
    names: Mapping[str, str] = field(default_factory=dict)


#: Exact spellings looked up before the trimmed, lower-cased parse (the usual case, cheaply).
_CLASS_OF: Mapping[str, TargetClass] = {
    **CLASS_ALIASES,
    **{name.upper(): c for name, c in CLASS_ALIASES.items()},
    **{name.capitalize(): c for name, c in CLASS_ALIASES.items()},
}


class ReportError(OpsError):
    """A report fails one check: the reason and a detail naming the field and its value."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class _Checked:
    """A report whose scalar fields passed; its position is still to be placed and tested."""

    report: RawReport
    sensor: SensorInfo
    time: datetime
    late: bool
    target_class: TargetClass
    confidence: float
    group_size: int | None
    seq: int
    polar: bool
    a: float  # lon, or bearing in degrees
    b: float  # lat, or range in metres
    sd_a: float  # position sd, or bearing sd in degrees
    sd_b: float  # unused, or range sd in metres


def shorten(value: object, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters (details must stay readable and bounded)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name(report: RawReport, key: str) -> str:
    return report.path + report.names.get(key, key)


def _number(report: RawReport, key: str, value: object, reason: RejectReason) -> float:
    """A finite real number (bool and strings are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportError(reason, f"{_name(report, key)}: not a number (value {shorten(value)})")
    number = float(value)
    if not math.isfinite(number):
        raise ReportError(reason, f"{_name(report, key)}: not finite (value {shorten(value)})")
    return number


def _sd(report: RawReport, key: str, value: object, default: float | None, top: float) -> float:
    if value is None:
        if default is None:
            raise ReportError(
                RejectReason.BAD_UNCERTAINTY,
                f"{_name(report, key)}: missing, and sensor {report.sensor_id!r} has no default",
            )
        value = default
    sd = _number(report, key, value, RejectReason.BAD_UNCERTAINTY)
    if not 0 < sd <= top:
        raise ReportError(
            RejectReason.BAD_UNCERTAINTY,
            f"{_name(report, key)}: must be in (0, {top:g}] (value {sd:g})",
        )
    return sd


def parse_time(value: object, name: str = "time") -> datetime:
    """An aware UTC datetime from an aware datetime or an ISO 8601 string with a zone."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ReportError(
                RejectReason.BAD_TIME, f"{name}: not an ISO 8601 time (value {shorten(value)})"
            ) from None
    else:
        raise ReportError(RejectReason.BAD_TIME, f"{name}: not a time (value {shorten(value)})")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ReportError(
            RejectReason.BAD_TIME,
            f"{name}: has no timezone; add Z or an offset (value {shorten(value)})",
        )
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. year 1 at +14:00: before the first UTC instant there is
        raise ReportError(
            RejectReason.BAD_TIME,
            f"{name}: outside the representable years (value {shorten(value)})",
        ) from None


def parse_target_class(value: object, name: str = "class") -> TargetClass:
    """A target class from its name or an alias, case-insensitive; None means unknown."""
    if value is None:
        return TargetClass.UNKNOWN
    if isinstance(value, TargetClass):
        return value
    if isinstance(value, str) and value.strip().lower() in CLASS_ALIASES:
        return CLASS_ALIASES[value.strip().lower()]
    known = ", ".join(sorted(CLASS_ALIASES))
    raise ReportError(
        RejectReason.BAD_CLASS, f"{name}: unknown class {shorten(value)} (one of {known})"
    )


def _check_scalars(
    report: RawReport,
    ctx: IngestContext,
    now: datetime,
    times: dict[str, tuple[datetime, float]] | None = None,
) -> _Checked:
    """The scalar checks of one report; `times` caches parsed time strings and their age
    within a batch (a sensor's scan shares one time)."""
    limits = ctx.limits
    sensor = ctx.sensors.get(report.sensor_id)
    if sensor is None:
        raise ReportError(
            RejectReason.UNKNOWN_SENSOR,
            f"{_name(report, 'sensor_id')}: no sensor {shorten(report.sensor_id)} in the scenario",
        )
    seq = report.seq
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise ReportError(
            RejectReason.BAD_SEQUENCE,
            f"{_name(report, 'seq')}: must be an integer in [0, 2**63-1] (value {shorten(seq)})",
        )
    raw_time = report.time
    known = times.get(raw_time) if times is not None and type(raw_time) is str else None
    if known is None:
        time = parse_time(raw_time, _name(report, "time"))
        age = (now - time).total_seconds()
        if times is not None and type(raw_time) is str:
            times[raw_time] = (time, age)
    else:
        time, age = known
    if -age > limits.future_skew_s:
        raise ReportError(
            RejectReason.FUTURE_TIME,
            f"{_name(report, 'time')}: {-age:.1f} s ahead of our clock, more than the "
            f"{limits.future_skew_s:g} s allowed (value {time.isoformat()})",
        )
    if age > limits.max_age_s:
        raise ReportError(
            RejectReason.TOO_OLD,
            f"{_name(report, 'time')}: {age:.0f} s old, more than the {limits.max_age_s:g} s "
            f"limit (value {time.isoformat()})",
        )
    late = age > limits.late_after_s or (report.stale is not None and report.stale < now)
    raw_class = report.target_class
    target_class = _CLASS_OF.get(raw_class) if type(raw_class) is str else None
    if target_class is None:
        target_class = parse_target_class(raw_class, _name(report, "target_class"))
    confidence = 1.0
    if report.confidence is not None:
        confidence = _number(report, "confidence", report.confidence, RejectReason.BAD_CONFIDENCE)
        if not 0.0 <= confidence <= 1.0:
            raise ReportError(
                RejectReason.BAD_CONFIDENCE,
                f"{_name(report, 'confidence')}: must be in [0, 1] (value {confidence:g})",
            )
    group = report.group_size
    if group is not None and (
        isinstance(group, bool)
        or not isinstance(group, int)
        or not 1 <= group <= limits.max_group_size
    ):
        raise ReportError(
            RejectReason.BAD_GROUP_SIZE,
            f"{_name(report, 'group_size')}: must be an integer in [1, {limits.max_group_size}] "
            f"(value {shorten(group)})",
        )
    has_position = report.lon is not None or report.lat is not None
    has_polar = report.bearing_deg is not None or report.range_m is not None
    if has_position == has_polar:
        raise ReportError(
            RejectReason.SCHEMA,
            f"{report.path or 'report'}: give either lon/lat or bearing_deg/range_m, exactly one",
        )
    top = limits.max_position_sd_m
    if has_position:
        lon = _number(report, "lon", report.lon, RejectReason.BAD_COORDINATES)
        lat = _number(report, "lat", report.lat, RejectReason.BAD_COORDINATES)
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise ReportError(
                RejectReason.BAD_COORDINATES,
                f"{_name(report, 'lon')}/{_name(report, 'lat')}: outside [-180, 180] x [-90, 90] "
                f"(value {lon:g}, {lat:g})",
            )
        sd = _sd(report, "position_sd_m", report.position_sd_m, sensor.position_sd_m, top)
        return _Checked(
            report,
            sensor,
            time,
            late,
            target_class,
            confidence,
            group,
            seq,
            False,
            lon,
            lat,
            sd,
            0.0,
        )
    bearing = _number(report, "bearing_deg", report.bearing_deg, RejectReason.BAD_COORDINATES)
    rng = _number(report, "range_m", report.range_m, RejectReason.BAD_COORDINATES)
    if not 0.0 <= bearing < 360.0 or not rng > 0.0:
        raise ReportError(
            RejectReason.BAD_COORDINATES,
            f"{_name(report, 'bearing_deg')}/{_name(report, 'range_m')}: need bearing in [0, 360) "
            f"and range > 0 (value {bearing:g}, {rng:g})",
        )
    sd_bearing = _sd(report, "bearing_sd_deg", report.bearing_sd_deg, sensor.bearing_sd_deg, 90.0)
    sd_range = _sd(report, "range_sd_m", report.range_sd_m, sensor.range_sd_m, top)
    return _Checked(
        report,
        sensor,
        time,
        late,
        target_class,
        confidence,
        group,
        seq,
        True,
        bearing,
        rng,
        sd_bearing,
        sd_range,
    )


class PolarPositions(NamedTuple):
    """Bearing-and-range reports placed: lon/lat, frame x/y and covariance terms (arrays)."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    var_xx: NDArray[np.float64]
    var_xy: NDArray[np.float64]
    var_yy: NDArray[np.float64]


def polar_to_frame(
    frame: Frame,
    sensor_lon: ArrayLike,
    sensor_lat: ArrayLike,
    bearing_deg: ArrayLike,
    range_m: ArrayLike,
    bearing_sd_deg: ArrayLike,
    range_sd_m: ArrayLike,
) -> PolarPositions:
    """Place bearing-and-range reports and linearise their covariance (see the module doc)."""
    slon, slat, brg, rng, sd_b, sd_r = np.broadcast_arrays(
        *(
            np.asarray(v, float)
            for v in (sensor_lon, sensor_lat, bearing_deg, range_m, bearing_sd_deg, range_sd_m)
        )
    )
    lon, lat, _ = _GEOD.fwd(slon, slat, brg, rng)
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    sx, sy = frame.to_xy(slon, slat)
    x, y = frame.to_xy(lon, lat)
    dx, dy = x - sx, y - sy
    chord = np.hypot(dx, dy)
    # Grid azimuth of the range axis (clockwise from grid north); the frame's scale k.
    azimuth = np.arctan2(dx, dy)
    scale2 = (chord / rng) ** 2
    s, c = np.sin(azimuth), np.cos(azimuth)
    var_r = sd_r**2
    var_t = (rng * np.radians(sd_b)) ** 2
    var_xx = scale2 * (var_r * s * s + var_t * c * c)
    var_yy = scale2 * (var_r * c * c + var_t * s * s)
    var_xy = scale2 * (var_r - var_t) * s * c
    return PolarPositions(lon, lat, x, y, var_xx, var_xy, var_yy)


def normalise_batch(
    reports: Sequence[RawReport],
    ctx: IngestContext,
    *,
    source: str,
    received: datetime | None = None,
) -> IngestOutcome:
    """Check and place many reports at once; order is kept within detections and rejections."""
    now = ctx.now() if received is None else received.astimezone(UTC)
    outcome = IngestOutcome()
    checked: list[_Checked] = []

    def reject(report: RawReport, error: ReportError) -> None:
        outcome.rejections.append(
            Rejection(
                error.reason,
                error.detail,
                source,
                now,
                report.payload,
                report.item,
                report.sensor_id[:64] or None,
            )
        )

    times: dict[str, tuple[datetime, float]] = {}
    for report in reports:
        try:
            checked.append(_check_scalars(report, ctx, now, times))
        except ReportError as error:
            reject(report, error)
    if not checked:
        return outcome

    n = len(checked)
    polar = np.array([c.polar for c in checked])
    a = np.array([c.a for c in checked])
    b = np.array([c.b for c in checked])
    sd_a = np.array([c.sd_a for c in checked])
    sd_b = np.array([c.sd_b for c in checked])
    slon = np.array([c.sensor.lon for c in checked])
    slat = np.array([c.sensor.lat for c in checked])
    lon, lat = a.copy(), b.copy()
    var_xx = sd_a**2
    var_yy = sd_a**2
    var_xy = np.zeros(n)
    x = np.empty(n)
    y = np.empty(n)
    sd_along = sd_a.copy()  # position sd along the sensor's line of sight, for the range test
    if polar.any():
        p = polar_to_frame(
            ctx.frame, slon[polar], slat[polar], a[polar], b[polar], sd_a[polar], sd_b[polar]
        )
        lon[polar], lat[polar], x[polar], y[polar] = p.lon, p.lat, p.x, p.y
        var_xx[polar], var_xy[polar], var_yy[polar] = p.var_xx, p.var_xy, p.var_yy
        sd_along[polar] = sd_b[polar]
    if (~polar).any():
        x[~polar], y[~polar] = ctx.frame.to_xy(lon[~polar], lat[~polar])
    sx, sy = ctx.frame.to_xy(slon, slat)
    distance = np.where(polar, b, np.hypot(x - sx, y - sy))
    inside = shapely.intersects_xy(ctx.area, lon, lat)
    # Largest one-sigma axis of each covariance ellipse.
    half_trace = (var_xx + var_yy) / 2
    major_sd = np.sqrt(half_trace + np.sqrt(((var_xx - var_yy) / 2) ** 2 + var_xy**2))
    finite = np.isfinite(x) & np.isfinite(y) & np.isfinite(major_sd)

    limits = ctx.limits
    reach = np.array([np.nan if c.sensor.range_m is None else c.sensor.range_m for c in checked])
    with np.errstate(invalid="ignore"):
        beyond = distance > reach + limits.range_tolerance_sd * sd_along  # NaN reach: never
        good = finite & inside & (major_sd <= limits.max_position_sd_m) & ~beyond
    bad = np.flatnonzero(~good).tolist()
    for i in bad:  # the reasons in the order they are checked
        c = checked[i]
        r = c.report
        where = f"{_name(r, 'lon')}/{_name(r, 'lat')}"
        if not finite[i]:
            problem = ReportError(
                RejectReason.BAD_COORDINATES,
                f"{where}: cannot be placed in the scenario frame (value {lon[i]:g}, {lat[i]:g})",
            )
        elif not inside[i]:
            problem = ReportError(
                RejectReason.OUT_OF_AREA,
                f"{where}: outside the scenario's area of interest "
                f"(value {lon[i]:.6f}, {lat[i]:.6f})",
            )
        elif major_sd[i] > limits.max_position_sd_m:
            problem = ReportError(
                RejectReason.BAD_UNCERTAINTY,
                f"{r.path}position: one-sigma error {major_sd[i]:.0f} m is over "
                f"the {limits.max_position_sd_m:g} m limit",
            )
        else:
            problem = ReportError(
                RejectReason.OUT_OF_RANGE,
                f"{where}: {distance[i]:.0f} m from sensor {c.sensor.sensor_id!r}, "
                f"beyond its {c.sensor.range_m:g} m range",
            )
        reject(r, problem)
    # Plain Python floats, converted once per column rather than once per value.
    columns = (lon, lat, x, y, var_xx, var_xy, var_yy)
    lon_, lat_, x_, y_, vxx, vxy, vyy = (v.tolist() for v in columns)
    keep = range(n) if not bad else np.flatnonzero(good).tolist()
    outcome.detections.extend(
        Detection(
            checked[i].sensor.sensor_id,
            checked[i].seq,
            checked[i].time,
            lon_[i],
            lat_[i],
            x_[i],
            y_[i],
            vxx[i],
            vxy[i],
            vyy[i],
            checked[i].target_class,
            checked[i].confidence,
            checked[i].group_size,
            now,
            checked[i].late,
        )
        for i in keep
    )
    return outcome


def normalise(
    report: RawReport, ctx: IngestContext, *, source: str, received: datetime | None = None
) -> Detection | Rejection:
    """Check and place one report (a batch of one)."""
    outcome = normalise_batch([report], ctx, source=source, received=received)
    return outcome.detections[0] if outcome.detections else outcome.rejections[0]

"""The normaliser: every check names its reason, positions land in the frame, polar covariances
match a Monte Carlo of the same transform."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_fixtures import NOW, SENSORS, make_context
from pyproj import Geod

from limes.ops.detection import Detection, TargetClass
from limes.ops.ingest.context import IngestContext, IngestLimits
from limes.ops.ingest.dead_letter import Rejection, RejectReason
from limes.ops.ingest.normalise import RawReport, normalise, normalise_batch, polar_to_frame


def raw(**overrides: Any) -> RawReport:
    fields: dict[str, Any] = dict(
        sensor_id="tower-1",
        seq=7,
        time=NOW - timedelta(seconds=1),
        lon=41.02,
        lat=34.41,
        position_sd_m=20.0,
        target_class="person",
        confidence=0.9,
        group_size=2,
    )
    fields.update(overrides)
    return RawReport(**fields)


def accepted(result: Detection | Rejection) -> Detection:
    assert isinstance(result, Detection), result
    return result


def rejected(result: Detection | Rejection) -> Rejection:
    assert isinstance(result, Rejection), result
    return result


def test_good_report_is_projected_into_the_frame(ctx: IngestContext) -> None:
    d = accepted(normalise(raw(), ctx, source="test"))
    x, y = ctx.frame.to_xy(41.02, 34.41)
    assert (d.x, d.y) == pytest.approx((float(x), float(y)))
    assert (d.var_xx, d.var_xy, d.var_yy) == (400.0, 0.0, 400.0)
    assert d.target_class is TargetClass.PERSON
    assert d.received == NOW and d.late is False and d.key == ("tower-1", 7)


def test_missing_sd_takes_the_sensors_default(ctx: IngestContext) -> None:
    d = accepted(normalise(raw(position_sd_m=None), ctx, source="test"))
    assert d.var_xx == SENSORS["tower-1"].position_sd_m ** 2


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"sensor_id": "nobody"}, RejectReason.UNKNOWN_SENSOR),
        ({"seq": -1}, RejectReason.BAD_SEQUENCE),
        ({"seq": 1.5}, RejectReason.BAD_SEQUENCE),
        ({"seq": True}, RejectReason.BAD_SEQUENCE),
        ({"seq": "3"}, RejectReason.BAD_SEQUENCE),
        ({"seq": 2**63}, RejectReason.BAD_SEQUENCE),
        ({"time": "yesterday"}, RejectReason.BAD_TIME),
        ({"time": "2025-03-01T20:59:59"}, RejectReason.BAD_TIME),
        ({"time": NOW.replace(tzinfo=None)}, RejectReason.BAD_TIME),
        ({"time": 1740862799}, RejectReason.BAD_TIME),
        ({"time": NOW + timedelta(seconds=11)}, RejectReason.FUTURE_TIME),
        ({"time": NOW - timedelta(days=1, seconds=1)}, RejectReason.TOO_OLD),
        ({"lon": float("nan")}, RejectReason.BAD_COORDINATES),
        ({"lat": float("inf")}, RejectReason.BAD_COORDINATES),
        ({"lon": 181.0}, RejectReason.BAD_COORDINATES),
        ({"lat": -90.5}, RejectReason.BAD_COORDINATES),
        ({"lon": "41.0"}, RejectReason.BAD_COORDINATES),
        ({"lon": 45.0}, RejectReason.OUT_OF_AREA),
        ({"lon": None, "lat": None}, RejectReason.SCHEMA),
        ({"bearing_deg": 10.0, "range_m": 100.0}, RejectReason.SCHEMA),
        ({"position_sd_m": 0.0}, RejectReason.BAD_UNCERTAINTY),
        ({"position_sd_m": -3.0}, RejectReason.BAD_UNCERTAINTY),
        ({"position_sd_m": 5000.1}, RejectReason.BAD_UNCERTAINTY),
        ({"position_sd_m": float("nan")}, RejectReason.BAD_UNCERTAINTY),
        ({"target_class": "tank"}, RejectReason.BAD_CLASS),
        ({"target_class": 3}, RejectReason.BAD_CLASS),
        ({"confidence": 1.01}, RejectReason.BAD_CONFIDENCE),
        ({"confidence": -0.1}, RejectReason.BAD_CONFIDENCE),
        ({"confidence": float("nan")}, RejectReason.BAD_CONFIDENCE),
        ({"group_size": 0}, RejectReason.BAD_GROUP_SIZE),
        ({"group_size": 1001}, RejectReason.BAD_GROUP_SIZE),
        ({"group_size": 2.0}, RejectReason.BAD_GROUP_SIZE),
        # 41.2 E is ~18 km east of tower-1, beyond its 10 km range (+3 sigma).
        ({"lon": 41.2, "lat": 34.4}, RejectReason.OUT_OF_RANGE),
    ],
)
def test_each_bad_field_is_rejected_with_its_reason(
    ctx: IngestContext, overrides: dict[str, Any], reason: RejectReason
) -> None:
    r = rejected(normalise(raw(**overrides), ctx, source="test"))
    assert r.reason is reason, r.detail
    assert r.source == "test" and r.received == NOW


def test_detail_names_the_field_and_the_value(ctx: IngestContext) -> None:
    report = raw(confidence=1.5, path="detections[4].")
    r = rejected(normalise(report, ctx, source="test"))
    assert "detections[4].confidence" in r.detail and "1.5" in r.detail


def test_limits_are_inclusive_at_the_edges(ctx: IngestContext) -> None:
    skew = ctx.limits.future_skew_s
    for overrides in (
        {"time": NOW + timedelta(seconds=skew)},
        {"time": NOW - timedelta(seconds=ctx.limits.max_age_s)},
        {"confidence": 0.0},
        {"confidence": 1},
        {"group_size": 1000},
        {"position_sd_m": 5000.0},
    ):
        accepted(normalise(raw(**overrides), ctx, source="test"))


def test_late_reports_are_accepted_and_flagged(ctx: IngestContext) -> None:
    window = ctx.limits.late_after_s
    fresh = accepted(normalise(raw(time=NOW - timedelta(seconds=window)), ctx, source="t"))
    late = accepted(normalise(raw(time=NOW - timedelta(seconds=window + 1)), ctx, source="t"))
    stale = accepted(normalise(raw(stale=NOW - timedelta(seconds=1)), ctx, source="t"))
    assert (fresh.late, late.late, stale.late) == (False, True, True)


def test_time_strings_with_offsets_become_utc(ctx: IngestContext) -> None:
    d = accepted(normalise(raw(time="2025-03-02T00:59:58+04:00"), ctx, source="t"))
    assert d.time == NOW - timedelta(seconds=2) and d.time.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("Person", TargetClass.PERSON),
        (" HUMAN ", TargetClass.PERSON),
        ("pedestrian", TargetClass.PERSON),
        ("Truck", TargetClass.VEHICLE),
        ("vehicle", TargetClass.VEHICLE),
        ("ANIMAL", TargetClass.ANIMAL),
        (None, TargetClass.UNKNOWN),
        (TargetClass.VEHICLE, TargetClass.VEHICLE),
    ],
)
def test_class_aliases_are_case_insensitive(
    ctx: IngestContext, spelling: object, expected: TargetClass
) -> None:
    assert accepted(normalise(raw(target_class=spelling), ctx, source="t")).target_class is expected


def test_area_boundary_counts_as_inside() -> None:
    ctx = make_context()
    d = accepted(normalise(raw(sensor_id="op-3", lon=40.5, lat=34.3), ctx, source="t"))
    assert d.lon == 40.5


def test_polar_report_lands_on_the_geodesic_and_its_axes_follow_the_bearing(
    ctx: IngestContext,
) -> None:
    report = raw(
        lon=None,
        lat=None,
        position_sd_m=None,
        bearing_deg=90.0,
        range_m=4000.0,
        bearing_sd_deg=2.0,
        range_sd_m=10.0,
    )
    d = accepted(normalise(report, ctx, source="t"))
    lon, lat, _ = Geod(ellps="WGS84").fwd(41.0, 34.4, 90.0, 4000.0)
    assert (d.lon, d.lat) == pytest.approx((lon, lat), abs=1e-9)
    # Due east: range error along x, cross-range error (r·σθ) along y.
    assert d.var_xx == pytest.approx(100.0, rel=0.02)
    assert d.var_yy == pytest.approx((4000 * np.radians(2.0)) ** 2, rel=0.01)
    assert abs(d.var_xy) < 0.05 * d.var_yy


def test_polar_report_without_spread_uses_the_sensor_defaults(ctx: IngestContext) -> None:
    report = raw(lon=None, lat=None, position_sd_m=None, bearing_deg=0.0, range_m=2000.0)
    d = accepted(normalise(report, ctx, source="t"))
    assert d.var_yy == pytest.approx(SENSORS["tower-1"].range_sd_m ** 2, rel=0.01)  # type: ignore[operator]
    no_default = raw(sensor_id="radar-2", lon=None, lat=None, bearing_deg=0.0, range_m=2000.0)
    r = rejected(normalise(no_default, ctx, source="t"))
    assert r.reason is RejectReason.BAD_UNCERTAINTY and "bearing_sd_deg" in r.detail


def test_polar_report_beyond_the_sensors_range_is_rejected(ctx: IngestContext) -> None:
    report = raw(
        lon=None, lat=None, bearing_deg=0.0, range_m=10_100.0, range_sd_m=10.0, bearing_sd_deg=0.5
    )
    assert rejected(normalise(report, ctx, source="t")).reason is RejectReason.OUT_OF_RANGE
    within = replace(report, range_m=10_020.0)  # inside range + 3 sigma
    accepted(normalise(within, ctx, source="t"))


def test_wide_bearing_error_that_exceeds_the_position_limit_is_rejected(
    ctx: IngestContext,
) -> None:
    # 9 km at 40 degrees one-sigma: cross-range sd ~6.3 km > 5 km limit.
    report = raw(
        sensor_id="radar-2",
        lon=None,
        lat=None,
        bearing_deg=270.0,
        range_m=9000.0,
        bearing_sd_deg=40.0,
        range_sd_m=30.0,
    )
    assert rejected(normalise(report, ctx, source="t")).reason is RejectReason.BAD_UNCERTAINTY


@pytest.mark.parametrize(
    ("sensor_lon", "bearing", "rng", "sd_bearing", "sd_range"),
    [
        (41.0, 45.0, 5000.0, 1.0, 20.0),  # on the central meridian
        (43.0, 300.0, 15000.0, 0.5, 50.0),  # 2 degrees off: grid convergence ~1.1 degrees
        (41.3, 170.0, 800.0, 3.0, 5.0),  # near and wide
    ],
)
def test_polar_covariance_matches_a_monte_carlo_of_the_same_transform(
    sensor_lon: float, bearing: float, rng: float, sd_bearing: float, sd_range: float
) -> None:
    ctx = make_context()
    lat0 = 34.4
    lin = polar_to_frame(ctx.frame, sensor_lon, lat0, bearing, rng, sd_bearing, sd_range)
    gen = np.random.default_rng(20250301)
    n = 200_000
    b = bearing + sd_bearing * gen.standard_normal(n)
    r = rng + sd_range * gen.standard_normal(n)
    lon, lat, _ = Geod(ellps="WGS84").fwd(np.full(n, sensor_lon), np.full(n, lat0), b, r)
    x, y = ctx.frame.to_xy(lon, lat)
    sample = np.cov(np.vstack([x, y]))
    ours = np.array([[lin.var_xx, lin.var_xy], [lin.var_xy, lin.var_yy]], dtype=float)
    # Relative Frobenius error: MC noise at n=200k is ~0.5 %; linearisation error is smaller.
    error = np.linalg.norm(sample - ours) / np.linalg.norm(sample)
    assert error < 0.02, (sample, ours)
    # The mean of the cloud sits on our position (the bias of the linearisation is tiny).
    spread = np.sqrt(np.trace(ours))
    assert np.hypot(x.mean() - lin.x, y.mean() - lin.y) < 0.05 * spread
    # The test can fail: a covariance using the true bearing as the grid azimuth is worse off
    # the central meridian than ours.
    if sensor_lon != 41.0:
        s, c = np.sin(np.radians(bearing)), np.cos(np.radians(bearing))
        vr, vt = sd_range**2, (rng * np.radians(sd_bearing)) ** 2
        naive = np.array(
            [
                [vr * s * s + vt * c * c, (vr - vt) * s * c],
                [(vr - vt) * s * c, vr * c * c + vt * s * s],
            ]
        )
        assert np.linalg.norm(sample - naive) / np.linalg.norm(sample) > error


def test_batch_equals_one_by_one_and_keeps_order(ctx: IngestContext) -> None:
    reports = [
        raw(seq=1),
        raw(seq=2, lon=99.0),
        raw(seq=3, lon=None, lat=None, bearing_deg=10.0, range_m=3000.0),
        raw(seq=4, sensor_id="radar-2", lon=41.25, lat=34.55, position_sd_m=None),
        raw(seq=5, confidence=3.0),
        raw(seq=6, sensor_id="op-3", lon=40.9, lat=34.35),
    ]
    outcome = normalise_batch(reports, ctx, source="t")
    singles = [normalise(r, ctx, source="t") for r in reports]
    assert outcome.detections == [s for s in singles if isinstance(s, Detection)]
    assert {r.detail for r in outcome.rejections} == {
        s.detail for s in singles if isinstance(s, Rejection)
    }
    assert [d.seq for d in outcome.detections] == [1, 3, 4, 6]


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(40.5, 41.5),
    lat=st.floats(34.0, 34.8),
    sd=st.floats(0.1, 5000.0),
)
def test_any_in_area_position_from_a_rangeless_sensor_is_accepted_with_its_variance(
    lon: float, lat: float, sd: float
) -> None:
    d = accepted(
        normalise(
            raw(sensor_id="op-3", lon=lon, lat=lat, position_sd_m=sd), make_context(), source="t"
        )
    )
    assert d.var_xx == pytest.approx(sd * sd) and d.var_xy == 0.0


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="late_after_s"):
        IngestLimits(late_after_s=10.0, max_age_s=5.0)
    with pytest.raises(ValueError, match="max_batch_size"):
        IngestLimits(max_batch_size=0)

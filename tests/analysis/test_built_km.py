"""One meaning of "built km" everywhere: the km of line a barrier holds (the union of the
barriers' intervals), in the assessment report as in `limes scenario show`."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import LineString

from limes.analysis.report import STATUS_LABELS, _barrier_rows
from limes.scenario.load import load_scenario
from limes.scenario.schema import BarrierStatus
from limes.scenario.summary import summarize


def _union_km(intervals: list[tuple[float, float]], length_km: float) -> float:
    """Independent reference: the intervals as segments, merged by shapely, clipped to the line."""
    if not intervals:
        return 0.0
    merged = shapely.union_all([LineString([(a, 0), (b, 0)]) for a, b in intervals])
    return float(merged.intersection(LineString([(0, 0), (length_km, 0)])).length)


def test_the_report_and_scenario_show_count_built_km_alike_on_the_builtin_border() -> None:
    sc = load_scenario("iraq-syria")
    rows = {r["status"]: r for r in _barrier_rows(sc)}
    summary = summarize(sc).barriers
    for status, shown in (
        (BarrierStatus.BUILT, summary.built),
        (BarrierStatus.UNDER_CONSTRUCTION, summary.under_construction),
        (BarrierStatus.PLANNED, summary.planned),
    ):
        intervals = [(b.from_km, b.to_km) for b in sc.spec.barriers if b.status is status]
        reference = _union_km(intervals, sc.length_km)
        assert rows[STATUS_LABELS[status]]["line_km"] == pytest.approx(reference, abs=1e-9)
        assert shown == pytest.approx(reference, abs=1e-9)
    # The builtin's barriers overlap (a wall and a trench on the same km): the sum is larger.
    built = [(b.from_km, b.to_km) for b in sc.spec.barriers if b.status is BarrierStatus.BUILT]
    assert sum(b - a for a, b in built) > _union_km(built, sc.length_km)

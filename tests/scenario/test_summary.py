"""The scenario summary: interval unions, closure by precedence, counts per sector and kind."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from limes.scenario.load import load_scenario
from limes.scenario.model import Scenario
from limes.scenario.summary import covered_km, summarize, union_intervals

intervals = st.lists(
    st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(lambda t: t[0] != t[1]),
    max_size=12,
)


@given(intervals, st.integers(0, 100), st.integers(0, 100))
def test_union_length_matches_counting_unit_cells(
    ivs: list[tuple[int, int]], a: int, b: int
) -> None:
    lo, hi = min(a, b), max(a, b)
    cells = np.zeros(100, dtype=bool)  # cell k is [k, k+1]
    for x, y in ivs:
        cells[min(x, y) : max(x, y)] = True
    expected = cells[lo:hi].sum()
    assert covered_km([(float(x), float(y)) for x, y in ivs], lo, hi) == pytest.approx(expected)


@given(intervals)
def test_a_union_is_sorted_and_disjoint(ivs: list[tuple[int, int]]) -> None:
    merged = union_intervals([(float(x), float(y)) for x, y in ivs])
    for (a0, a1), (b0, _b1) in itertools.pairwise(merged):
        assert a0 < a1 < b0


def test_the_example_summary(example_file: Path) -> None:
    s = summarize(load_scenario(example_file))
    assert s.length_km == pytest.approx(45.0, abs=0.5)
    north, south = s.sectors
    assert (north.barriers.built, north.barriers.under_construction) == (18.0, 2.0)
    assert (south.barriers.built, south.barriers.under_construction, south.barriers.planned) == (
        0.0,
        8.0,
        14.0,
    )
    assert s.km_by_command == {"1st Brigade": 22.0, "2nd Brigade": pytest.approx(22.9)}
    (middle,) = s.stretches
    # km 15–30: trench built to 20, under construction 20–30.
    assert (middle.closed_km, middle.under_construction_km, middle.planned_km, middle.open_km) == (
        5.0,
        10.0,
        0.0,
        0.0,
    )
    assert s.sensors_by_kind == {"day_camera": 2, "ground_sensor": 1}
    # tw-2 stands abreast of the middle vertex, km ~22.5: in the South sector.
    assert north.sensors_by_kind == {"day_camera": 1}
    assert south.sensors_by_kind == {"day_camera": 1, "ground_sensor": 1}
    assert s.units_by_kind == {"helicopter": 1, "patrol": 1}
    assert s.line().startswith("wadi-example: 45.0 km, 2 sectors, 18 km of built barrier")


def test_barriers_on_the_same_km_count_once(iraq_syria: Scenario) -> None:
    s = summarize(iraq_syria)
    nineveh = next(x for x in s.sectors if x.name == "Nineveh")
    # Trench, berm and wire lie on km 42–120 and 135–180 together: 123 km, not three times that.
    assert nineveh.barriers.built == pytest.approx(123.0)
    assert nineveh.barriers_by_kind["wire"].built == pytest.approx(123.0)
    brute = _brute_force_built_km(iraq_syria, 42.0, 180.0)
    assert nineveh.barriers.built == pytest.approx(brute, abs=0.01)


def _brute_force_built_km(sc: Scenario, lo: float, hi: float) -> float:
    km = np.arange(lo + 0.0005, hi, 0.001)
    hit = np.zeros_like(km, dtype=bool)
    for b in sc.spec.barriers:
        if b.status.value == "built":
            hit |= (km >= b.from_km) & (km <= b.to_km)
    return float(hit.sum()) * 0.001


def test_closure_parts_add_up_to_each_stretch(iraq_syria: Scenario) -> None:
    for st_ in summarize(iraq_syria).stretches:
        parts = st_.closed_km + st_.under_construction_km + st_.planned_km + st_.open_km
        assert parts == pytest.approx(st_.length_km)
        assert min(st_.closed_km, st_.under_construction_km, st_.planned_km, st_.open_km) >= 0


def test_km_per_command_adds_up_to_the_line(iraq_syria: Scenario) -> None:
    s = summarize(iraq_syria)
    assert sum(s.km_by_command.values()) == pytest.approx(s.length_km, abs=1.0)
    assert s.km_by_command["Anbar Operations Command"] == pytest.approx(233.0)


def test_sensors_per_sector_add_up_to_all_sensors(iraq_syria: Scenario) -> None:
    s = summarize(iraq_syria)
    for kind, n in s.sensors_by_kind.items():
        assert sum(sec.sensors_by_kind.get(kind, 0) for sec in s.sectors) == n
    assert sum(s.sensors_by_kind.values()) == len(iraq_syria.spec.sensors)

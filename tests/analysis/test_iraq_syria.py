"""The built-in Iraq–Syria scenario: what its defences mean for foot crossings, night and day.

The public facts the scenario encodes: ~140 km of the 220 km vulnerable stretch in the north
was closed (trench, berm, wire) with watch towers carrying day and thermal cameras; the rest
of that stretch is open or being dug, with few towers; one sector (al-Tanf) has no thermal
camera at all. The analysis must see what those facts imply: at night the closed part holds
and the open part does not, and sectors with thermal cameras are stronger than those without.
The comparisons are asserted with a margin, at 200 m (the whole border, both lights, in a few
seconds).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from limes.analysis.assess import AssessConfig, assess
from limes.analysis.result import KmResult, Weakness
from limes.scenario.load import builtin_names, load_scenario
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode, SensorKind

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("iraq-syria" not in builtin_names(), reason="iraq-syria not built in"),
]


@pytest.fixture(scope="module")
def foot() -> tuple[Scenario, dict[Light, list[KmResult]]]:
    sc = load_scenario("iraq-syria")
    a = assess(
        sc,
        modes=(Mode.FOOT,),
        lights=(Light.NIGHT, Light.DAY),
        resolution_m=200.0,
        config=AssessConfig(worst_paths=0),
    )
    return sc, {r.light: r.per_km for r in a.runs}


def vulnerable_stretch(sc: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """The km of the vulnerable north, and whether a built barrier closes each."""
    (north,) = [s for s in sc.spec.stretches if s.name == "vulnerable north"]
    km = np.arange(int(north.from_km), int(north.to_km))
    mid = km + 0.5
    shut = np.zeros(km.size, dtype=bool)
    for b in sc.spec.barriers:
        if b.status.value == "built":
            shut |= (mid >= b.from_km) & (mid <= b.to_km)
    return km, shut


def p_of(km: list[KmResult]) -> dict[int, float]:
    return {int(k.chainage_km): k.p_interruption for k in km}


def thermal_sectors(sc: Scenario) -> set[str]:
    out = set()
    for s in sc.spec.sensors:
        if sc.model_of(s).kind is SensorKind.THERMAL_CAMERA:
            ch, _ = sc.locate(*sc.position_xy(s.position))
            out.add(sc.sector_at(min(float(ch) / 1000, sc.length_km)).name)
    return out


def sector_means(sc: Scenario, km: list[KmResult]) -> dict[str, float]:
    return {
        s.name: float(np.mean([k.p_interruption for k in km if k.sector == s.name]))
        for s in sc.spec.sectors
    }


def test_every_km_is_reported_with_a_probability(foot: Any) -> None:
    sc, runs = foot
    for km in runs.values():
        # Every 1-km bin of the line, the ones at its sharp bends and its last partial km too.
        assert [k.chainage_km for k in km] == list(range(int(np.ceil(sc.length_km))))
        assert all(0.0 <= k.p_interruption <= 1.0 for k in km)


def test_the_open_part_of_the_vulnerable_stretch_is_weaker_than_the_closed_at_night(
    foot: Any,
) -> None:
    sc, runs = foot
    km, shut = vulnerable_stretch(sc)
    assert shut.sum() == 140
    p = p_of(runs[Light.NIGHT])
    night = np.array([p[int(k)] for k in km])
    assert night[shut].mean() - night[~shut].mean() >= 0.2
    # And for the reason the closure gives: crossings there are seen and stopped.
    reasons = {int(k.chainage_km): k.reason for k in runs[Light.NIGHT]}
    held = np.array([reasons[int(k)] is Weakness.HELD for k in km])
    assert held[shut].mean() > 0.5 > held[~shut].mean()


def test_sectors_with_thermal_cameras_are_stronger_at_night(foot: Any) -> None:
    sc, runs = foot
    thermal = thermal_sectors(sc)
    night = runs[Light.NIGHT]
    with_t = [k.p_interruption for k in night if k.sector in thermal]
    without = [k.p_interruption for k in night if k.sector not in thermal]
    assert with_t and without
    assert np.mean(with_t) - np.mean(without) >= 0.15


def test_sectors_without_thermal_cameras_are_weaker_at_night_than_by_day(foot: Any) -> None:
    sc, runs = foot
    without = {s.name for s in sc.spec.sectors} - thermal_sectors(sc)
    day, night = sector_means(sc, runs[Light.DAY]), sector_means(sc, runs[Light.NIGHT])
    assert without
    for name in without:
        assert day[name] > night[name] + 0.1, name


def test_the_sector_figures_say_something(foot: Any) -> None:
    sc, runs = foot
    for light, km in runs.items():
        means = sector_means(sc, km)
        # Neither all 0 nor all 1: strong and weak sectors, and at least one in between.
        assert max(means.values()) > 0.5, light
        assert min(means.values()) < 0.5, light
        assert any(0.05 < m < 0.95 for m in means.values()), light

"""Kept travel fields: the same answers as the per-request search, by hand-computable cases."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_dispatch import CFG, build, target_of

from limes.ops.dispatch import UnitSituation, advise
from limes.ops.dispatch_fields import AdviceCache
from limes.scenario.load import scenario_from_data


@pytest.fixture(scope="module")
def case() -> Any:
    return build()


def test_cached_advice_equals_the_search_and_the_hand_computation(case: Any) -> None:
    sc, pts = case
    cache = AdviceCache(sc, CFG)
    target = target_of(sc, pts)
    got = cache.advise(target)
    exact = advise(sc, target, config=CFG)
    assert [a.unit_id for a in got] == ["patrol", "heli", "foot"]
    assert [a.total_s for a in got] == pytest.approx([900.0, 1620.0, 2220.0], abs=1e-6)
    assert [a.total_s for a in got] == pytest.approx([a.total_s for a in exact])
    assert [a.distance_m for a in got] == pytest.approx([a.distance_m for a in exact], abs=1e-3)
    for a in got:
        assert a.route[-1] == pytest.approx((target.lon, target.lat), abs=1e-9)
    built = cache.built
    cache.advise(target)  # a second request builds nothing
    assert cache.built == built == 2  # two ground units, near fields only (far: on demand)


def test_a_road_only_unit_reaches_a_target_beside_its_road(case: Any) -> None:
    """Off-road cells are closed to it: the target cell is entered at road speed from the
    road, exactly as the per-request search lets it."""
    sc, pts = case
    data = sc.spec.model_dump(mode="json", exclude_none=True)
    data["units"] = [u for u in data["units"] if u["id"] == "patrol"]
    data["units"][0]["speeds"] = {"road_kmh": 60}
    sc2 = scenario_from_data(data)
    lon, lat = sc2.frame.to_lonlat(pts["target"][0], pts["target"][1] + 100.0)  # next row
    from limes.ops.dispatch import target_at_lonlat

    target = target_at_lonlat(sc2, float(lon), float(lat))
    exact = advise(sc2, target, config=CFG)
    got = AdviceCache(sc2, CFG).advise(target)
    assert [a.total_s for a in got] == pytest.approx([a.total_s for a in exact])
    assert len(got) == 1


def test_a_unit_that_moved_a_little_is_answered_at_once_from_its_kept_field(case: Any) -> None:
    sc, pts = case
    cache = AdviceCache(sc, CFG)
    target = target_of(sc, pts)
    cache.advise(target)
    x, y = pts["patrol"]
    lon, lat = sc.frame.to_lonlat(x - 500.0, y)  # 500 m back along the road
    moved = {"patrol": UnitSituation("patrol", "returning", float(lon), float(lat))}
    got = {a.unit_id: a for a in cache.advise(target, moved)}
    # Kept field + 500 m at its off-road 20 km/h (an upper bound of the road's 30 s).
    assert got["patrol"].total_s == pytest.approx(900.0 + 500.0 / (20 / 3.6), abs=1e-6)
    assert got["patrol"].total_s >= advise(sc, target, moved, CFG)[0].total_s


def test_close_stops_the_warming_and_joins_the_background_rebuilds(case: Any) -> None:
    """A field thread left running when the interpreter exits can abort the process: `close()`
    waits for each rebuild it started and stops `warm` from starting another field."""
    sc, pts = case
    cache = AdviceCache(sc, CFG)
    target = target_of(sc, pts)
    cache.advise(target)
    x, y = pts["patrol"]
    lon, lat = sc.frame.to_lonlat(x - 500.0, y)
    moved = {"patrol": UnitSituation("patrol", "returning", float(lon), float(lat))}
    before = cache.built
    cache.advise(target, moved)  # answered from the kept field; the new one builds behind it
    cache.close()
    assert not [t for t in threading.enumerate() if t.name == "limes-travel-field"]
    assert cache.built == before + 1  # the rebuild finished inside close(), not after it
    cache.advise(target, {})  # after close: no new background rebuild is started
    assert not [t for t in threading.enumerate() if t.name == "limes-travel-field"]
    warmed = cache.built
    cache.warm()
    assert cache.built == warmed  # a closed cache warms nothing more


def test_warm_builds_every_free_ground_units_near_and_far_field(case: Any) -> None:
    sc, _ = case
    cache = AdviceCache(sc, CFG)
    cache.warm()
    assert cache.built == 4  # two ground units, near and far each (the helicopter needs none)

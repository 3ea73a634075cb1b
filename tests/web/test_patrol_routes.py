"""The planner's patrol route: the equilibrium of an assessment's patrol game and the day's
schedule, with the scenario's catch chance and windows, placed on the line; who may ask."""

from __future__ import annotations

import json
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from web_support import SCENARIO, RoleClient, role_client

from limes.scenario.load import scenario_from_data
from limes.scenario.model import Scenario

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)


def _scenario(**patrols: float) -> Scenario:
    data = deepcopy(SCENARIO)
    if patrols:
        data["patrols"] = patrols
    return scenario_from_data(data)


def _stretch(rank: int, a: float, b: float, p: float) -> dict[str, Any]:
    return {"rank": rank, "from_km": a, "to_km": b, "length_km": b - a, "min_p": p,
            "mean_p": p, "weakest_km": a, "dominant_reason": "not seen"}  # fmt: skip


def _hand_summary(folder: Path, scenario: str, stretches: list[dict[str, Any]]) -> Path:
    """An assessment folder whose weak stretches are chosen, so the game's answer is known."""
    folder.mkdir(parents=True)
    run = {"mode": "foot", "light": "night", "weak_stretches": stretches,
           "per_km": [{"chainage_km": 0.0, "p_interruption": 0.0}]}  # fmt: skip
    doc = {"scenario": scenario, "title": "hand-made", "runs": [run]}
    (folder / "summary.json").write_text(json.dumps(doc))
    return folder


@pytest.fixture
def web(tmp_path: Path, assessment_dir: Path) -> Iterator[RoleClient]:
    yield from role_client(tmp_path, _scenario(), [assessment_dir])


def _locate(sc: Scenario, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    chain, offset = sc.locate(*sc.frame.to_xy(np.asarray(lon), np.asarray(lat)))
    return np.atleast_1d(chain) / 1000.0, np.atleast_1d(offset)


def test_one_gap_two_windows_one_patrol_is_a_coin_toss_placed_on_the_line(
    web: RoleClient, assessment_dir: Path
) -> None:
    summary = json.loads((assessment_dir / "summary.json").read_text())
    (weak,) = summary["runs"][0]["weak_stretches"]  # the map test's one weak stretch
    r = web.get("/api/web/assessments/map-test/foot-night/patrols")
    assert r.status_code == 200, r.text
    plan = r.json()
    # One patrol unit in the scenario, two equal targets (the gap by night and by day): by
    # hand the patrol is on each half the days, and the adversary gets through
    # (1 − P)(1 − 0.6 · 0.5) wherever it goes; a fixed patrol lets it through untouched.
    assert plan["patrols"] == 1 and plan["catch_p"] == 0.6 and plan["schedules"] == 2
    assert plan["windows"] == [{"window": 0, "from_h": 18.0, "to_h": 6.0},
                               {"window": 1, "from_h": 6.0, "to_h": 18.0}]  # fmt: skip
    (st,) = plan["stretches"]
    assert (st["from_km"], st["to_km"]) == (weak["from_km"], weak["to_km"])
    through = (1 - weak["mean_p"]) * (1 - 0.6 * 0.5)
    for w in st["windows"]:
        assert w["coverage"] == pytest.approx(0.5, abs=1e-9)
        assert w["through"] == pytest.approx(through, abs=1e-9)
        # the band lies along the stretch, inside the line by 500 m a window
        km, off = _locate(web.sc, *np.array(w["line"]).T)
        assert km.min() == pytest.approx(weak["from_km"], abs=0.01)
        assert km.max() == pytest.approx(min(weak["to_km"], web.sc.length_km), abs=0.01)
        assert off == pytest.approx(500.0 * (w["window"] + 1), abs=1.0)
    assert plan["through_mixed"] == pytest.approx(through, abs=1e-9)
    assert plan["through_best_fixed"] == pytest.approx(1 - weak["mean_p"], abs=1e-9)
    (today,) = plan["today"]
    km, off = _locate(web.sc, today["lon"], today["lat"])
    assert km[0] == pytest.approx(0.5 * (weak["from_km"] + weak["to_km"]), abs=0.01)
    assert off[0] == pytest.approx(500.0 * (today["window"] + 1), abs=1.0)
    assert today["latlon"].endswith("E") and today["mgrs"]


def test_the_days_schedule_follows_the_seed(web: RoleClient) -> None:
    def window(seed: int) -> int:
        plan = web.get(f"/api/web/assessments/map-test/foot-night/patrols?seed={seed}").json()
        return int(plan["today"][0]["window"])

    days = [window(s) for s in range(24)]
    assert days == [window(s) for s in range(24)]  # the same seed, the same day
    assert set(days) == {0, 1}  # 24 fair draws all alike: 2⁻²³


def test_the_catch_chance_and_windows_come_from_the_scenario(tmp_path: Path) -> None:
    # Gap A (P 0, through 1) and B (P 0.5), one window, one patrol catching 0.8: the adversary
    # is indifferent when 1 − 0.8c = 0.5(1 − 0.8(1 − c)), so c = 0.75 and it gets through 0.4
    # (the indifference rule, solved by hand).
    folder = _hand_summary(
        tmp_path / "hand", "map-test", [_stretch(1, 2, 5, 0.0), _stretch(2, 10, 14, 0.5)]
    )
    sc = _scenario(catch_p=0.8, windows=1)
    for web in role_client(tmp_path, sc, [folder]):
        plan = web.get("/api/web/assessments/hand/foot-night/patrols").json()
        assert plan["catch_p"] == 0.8
        assert [len(st["windows"]) for st in plan["stretches"]] == [1, 1]
        cover = [st["windows"][0]["coverage"] for st in plan["stretches"]]
        assert cover == pytest.approx([0.75, 0.25], abs=1e-9)
        assert plan["through_mixed"] == pytest.approx(0.4, abs=1e-9)
        assert [st["windows"][0]["through"] for st in plan["stretches"]] == pytest.approx(
            [0.4, 0.4], abs=1e-9
        )
        # asked for one stretch only, the costliest: the patrol is always there
        one = web.get("/api/web/assessments/hand/foot-night/patrols?stretches=1").json()
        assert [st["rank"] for st in one["stretches"]] == [1]
        assert one["stretches"][0]["windows"][0]["coverage"] == pytest.approx(1.0)


def test_who_may_ask_and_what_is_refused(tmp_path: Path, web: RoleClient) -> None:
    url = "/api/web/assessments/map-test/foot-night/patrols"
    assert web.get(url, None).status_code == 401
    assert web.get(url, "sensor").status_code == 403  # sensors do not read the map
    assert web.get(url, "viewer").status_code == 200
    assert web.get("/api/web/assessments/nope/foot-night/patrols").status_code == 404
    assert web.get("/api/web/assessments/map-test/vehicle-day/patrols").status_code == 404
    too_many = web.get(url + "?patrols=3")  # 1 stretch × 2 windows
    assert too_many.status_code == 422 and "each patrol needs a target" in too_many.text
    assert web.get(url + "?patrols=0").status_code == 422
    assert web.get(url + "?seed=-1").status_code == 422


def test_an_assessment_of_another_scenario_is_refused(tmp_path: Path) -> None:
    folder = _hand_summary(tmp_path / "other", "elsewhere", [_stretch(1, 2, 5, 0.0)])
    for web in role_client(tmp_path, _scenario(), [folder]):
        r = web.get("/api/web/assessments/other/foot-night/patrols")
        assert r.status_code == 409 and "elsewhere" in r.text


def test_a_run_without_weak_stretches_has_nothing_to_patrol(tmp_path: Path) -> None:
    folder = _hand_summary(tmp_path / "held", "map-test", [])
    for web in role_client(tmp_path, _scenario(), [folder]):
        plan = web.get("/api/web/assessments/held/foot-night/patrols").json()
        assert plan["stretches"] == [] and plan["today"] == [] and "nothing" in plan["note"]

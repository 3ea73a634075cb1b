"""What a crossing of one km is: starts opposite it (even round a sharp bend), a bounded walk
along the line, no slipping between seen cells that touch only at a corner."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from analysis_support import FLAT, scenario, tower, unit

from limes.analysis.assess import (
    LATERAL_M,
    AssessConfig,
    AssessError,
    assess,
    lateral_freedom,
    tile_margin_m,
)
from limes.geo.terrain import Dem
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, Mode

WATCH = {
    "name": "watch",
    "kind": "thermal_camera",
    "mast_height_m": 10.0,
    "fov_deg": 360.0,
    "laws": {
        "person": {"night": {"range_m": 30000.0, "hazard_per_s": 0.004, "falloff": "constant"}}
    },
}


def instant() -> dict[str, Any]:
    """A unit that is always in time for a detection with any time left (σ = 0, μ ≈ 0)."""
    return unit(
        "heli",
        5.0,
        500.0,
        kind="helicopter",
        readiness={"mean_s": 0.0, "sd_s": 0.0},
        speeds={"air_kmh": 1e7},
    )


def watched(border: dict[str, Any] | None = None, **kw: Any) -> Scenario:
    fields: dict[str, Any] = {
        "sensor_models": [WATCH],
        "sensors": [tower("w", 5.0, 0.0, model="watch")],
        "units": [instant()],
        "response": {"alert_handling": {"mean_s": 0.0, "sd_s": 0.0}},
    }
    if border:
        fields["border"] = border
    fields.update(kw)
    return scenario(**fields)


def sight_where(sc: Scenario, keep: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Any:
    """A line of sight that sees exactly the window cells whose chainage/offset `keep` accepts."""

    def see(dem: Dem, *_: float) -> np.ndarray:
        x, y = dem.grid.cell_centres()
        ch, off = sc.locate(x, y)
        return np.asarray(keep(ch, off), dtype=bool)

    return see


def per_km(sc: Scenario, sight: Any = None, res: float = 50.0, **cfg: Any) -> list[Any]:
    a = assess(
        sc,
        resolution_m=res,
        terrain=FLAT,
        sight=sight,
        config=AssessConfig(worst_paths=0, **cfg),
    )
    return a.runs[0].per_km


def test_seen_cells_touching_only_at_corners_cost_what_the_path_model_says() -> None:
    # A checkerboard of seen cells across the middle of the strip: on an 8-connected grid a
    # diagonal walk could pass every seen cell at its corner and never be seen.
    sc = watched()
    cell = 50.0

    def board(ch: np.ndarray, off: np.ndarray) -> np.ndarray:
        i = np.floor(ch / cell).astype(int) + np.floor(off / cell).astype(int)
        return (np.abs(off) < 400.0) & (i % 2 == 0)

    km = per_km(sc, sight_where(sc, board), cell)
    assert len(km) == 12
    for k in km:
        # Detection is always timely here, so the field's P is the path's P(detect), and the
        # exact EASI along the traced path (with its corner charges) must say the same.
        assert k.p_easi == pytest.approx(k.p_interruption, abs=1e-9)
        # Half the band's cells are seen: at least a straight pass through the seen cells.
        band_s = 800.0 / (4.0 / 3.6)
        assert k.p_interruption >= 1 - math.exp(-0.004 * 0.5 * band_s) - 0.02


def test_every_km_of_a_sharply_bent_line_gets_starts_and_a_result() -> None:
    # North 6 km, then a turn of 135° to the south-east: the outside (east) is the bend's
    # concave side, where the outer edge opposite the km near the vertex is swallowed.
    bent = {"line": [[42.0, 35.0], [42.0, 35.054], [42.046, 35.018]], "inside": "left"}
    sc = watched(bent)
    km = per_km(sc, sight_where(sc, lambda ch, off: np.abs(off) < 300.0), 100.0)
    n = math.ceil(sc.length_km)
    assert [k.chainage_km for k in km] == list(range(n))
    assert all(0.0 <= k.p_interruption <= 1.0 for k in km)


def test_a_crossing_strays_no_farther_along_the_line_than_the_lateral_freedom() -> None:
    # A seen band along the line with a gap at km 5-6, and an unseen approach outside it: a
    # km's best crossing walks to the gap only when the gap lies within its lateral freedom.
    sc = watched()

    def gap(ch: np.ndarray, off: np.ndarray) -> np.ndarray:
        return (np.abs(off) < 600.0) & ~((ch > 5000.0) & (ch < 6000.0))

    near = {k.chainage_km: k.p_interruption for k in per_km(sc, sight_where(sc, gap), 100.0)}
    assert near[5.0] == pytest.approx(0.0, abs=1e-12)
    assert near[4.0] < 0.05 and near[6.0] < 0.05  # the gap is within 1 km of them
    assert near[3.0] > 0.9 and near[8.0] > 0.9  # it is not
    far = {
        k.chainage_km: k.p_interruption
        for k in per_km(sc, sight_where(sc, gap), 100.0, lateral_m=3000.0)
    }
    assert far[3.0] < 0.05 and far[8.0] < 0.05
    assert far[1.0] > 0.9


def test_how_the_line_is_cut_into_tiles_does_not_change_any_km() -> None:
    sc = scenario(
        sensors=[tower("a", 2.5, 200.0), tower("b", 7.0, -300.0)],
        units=[unit("u", 5.0, 800.0)],
    )
    one = per_km(sc, None, 100.0)
    many = per_km(sc, None, 100.0, tile_core_km=2)
    assert [k.chainage_km for k in one] == [k.chainage_km for k in many]
    assert np.allclose([k.p_interruption for k in one], [k.p_interruption for k in many])


def test_a_km_no_start_of_which_reaches_the_goal_is_held() -> None:
    sc = watched(
        barriers=[
            {
                "id": "wall",
                "kind": "wall",
                "from_km": 0.0,
                "to_km": 11.1,
                "offset_m": 0.0,
                "delay": {"foot": {"mean_s": 60.0}},
                "blocks_vehicles": True,
            }
        ]
    )
    a = assess(
        sc, modes=(Mode.VEHICLE,), lights=(Light.NIGHT,), resolution_m=100.0, terrain=FLAT,
        config=AssessConfig(worst_paths=0),
    )  # fmt: skip
    km = a.runs[0].per_km
    assert len(km) == math.ceil(sc.length_km)
    assert all(k.p_interruption == 1.0 and k.reason.value == "held" for k in km)


def test_lateral_freedom_defaults_to_a_km_and_is_checked() -> None:
    sc = scenario()
    assert lateral_freedom(sc) == LATERAL_M == 1000.0
    assert lateral_freedom(sc, AssessConfig(lateral_m=0.0)) == 0.0
    assert tile_margin_m(sc, AssessConfig(lateral_m=4000.0)) >= 4000.0
    with pytest.raises(AssessError, match="lateral_m must be a non-negative"):
        per_km(sc, None, 200.0, lateral_m=-1.0)

"""Invariants: P in [0, 1], and more defence (a sensor, a barrier, a unit, a closer unit) never
lowers any kilometre's P(interruption)."""

from __future__ import annotations

from typing import Any

import numpy as np
from analysis_support import Ground, barrier, scenario, tower, unit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limes.analysis.assess import AssessConfig, assess
from limes.scenario.schema import Light, Mode

HILLS = Ground(lambda x, y: 15.0 * np.sin(x / 700.0) * np.cos(y / 900.0))
CFG = AssessConfig(worst_paths=0)
PROPS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

chainage = st.floats(0.5, 10.5)
offset_in = st.floats(-900.0, 900.0)


def per_km(sc: Any, mode: Mode = Mode.FOOT) -> np.ndarray:
    a = assess(
        sc,
        modes=(mode,),
        lights=(Light.NIGHT,),
        resolution_m=100.0,
        terrain=HILLS,
        config=CFG,
    )
    return np.array([k.p_interruption for k in a.runs[0].per_km])


def base(sensors: list[dict[str, Any]], units: list[dict[str, Any]], bars=()) -> Any:
    return scenario(sensors=sensors, units=units, barriers=list(bars))


@PROPS
@given(chainage, offset_in, chainage, offset_in)
def test_adding_a_sensor_never_lowers_any_km(c1: float, o1: float, c2: float, o2: float) -> None:
    units = [unit("u", 5.0, 1500.0)]
    before = per_km(base([tower("a", c1, o1)], units))
    after = per_km(base([tower("a", c1, o1), tower("b", c2, o2)], units))
    assert ((before >= 0) & (before <= 1)).all() and ((after >= 0) & (after <= 1)).all()
    assert (after >= before - 1e-12).all()


@PROPS
@given(chainage, offset_in, st.floats(0.0, 9.0), st.floats(0.3, 2.0), offset_in)
def test_adding_a_barrier_never_lowers_any_km(
    c1: float, o1: float, b0: float, span: float, bo: float
) -> None:
    sensors = [tower("a", c1, o1), tower("b", 10.5 - c1, -o1)]
    units = [unit("u", 5.0, 1500.0)]
    before = per_km(base(sensors, units))
    after = per_km(base(sensors, units, [barrier("f", b0, b0 + span, bo)]))
    assert (after >= before - 1e-12).all()


@PROPS
@given(chainage, offset_in, chainage, st.floats(0.0, 900.0))
def test_adding_a_unit_never_lowers_any_km(c1: float, o1: float, cu: float, ou: float) -> None:
    sensors = [tower("a", c1, o1), tower("b", 10.5 - c1, 300.0)]
    first = [unit("u", 5.0, 900.0, readiness={"mean_s": 900.0, "sd_s": 200.0})]
    before = per_km(base(sensors, first))
    after = per_km(base(sensors, [*first, unit("v", cu, ou)]))
    assert (after >= before - 1e-12).all()


@PROPS
@given(chainage, offset_in, chainage, st.integers(1, 3))
def test_moving_a_unit_closer_never_lowers_any_km(
    c1: float, o1: float, cu: float, steps: int
) -> None:
    # The unit starts behind the strip and moves straight toward the line by whole cells of
    # the response grid (500 m), so it comes closer to every cell of the strip.
    sensors = [tower("a", c1, o1), tower("b", 10.5 - c1, 300.0)]
    far = per_km(base(sensors, [unit("u", cu, 3000.0)]))
    near = per_km(base(sensors, [unit("u", cu, 3000.0 - 500.0 * steps)]))
    assert (near >= far - 1e-12).all()

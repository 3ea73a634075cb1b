"""Detection laws: the fall-off forms, zero beyond range, blind laws, Poisson detection."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from limes.scenario.schema import DetectionLaw, Light, Mode, SensorModel, TargetClassName
from limes.sensing.detection_law import (
    falloff,
    hazard_at,
    law_for,
    p_detect,
    report_rate,
    target_class,
)


@pytest.mark.parametrize(
    ("kind", "u", "expected"),
    [
        ("constant", 0.5, 1.0),
        ("linear", 0.25, 0.75),
        ("quadratic", 0.5, 0.75),
        ("linear", 1.0, 0.0),
        ("constant", 1.0, 1.0),
    ],
)
def test_falloff_forms_match_their_formulas(kind: str, u: float, expected: float) -> None:
    assert float(falloff(u, kind)) == pytest.approx(expected)


@given(st.sampled_from(["constant", "linear", "quadratic"]), st.floats(1.0001, 100.0))
def test_hazard_is_zero_beyond_range(kind: str, u: float) -> None:
    law = DetectionLaw(range_m=1000.0, hazard_per_s=0.1, falloff=kind)  # type: ignore[arg-type]
    assert float(hazard_at(law, 1000.0 * u)) == 0.0


@given(st.sampled_from(["linear", "quadratic"]), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_hazard_never_rises_with_range(kind: str, a: float, b: float) -> None:
    law = DetectionLaw(range_m=500.0, hazard_per_s=0.2, falloff=kind)  # type: ignore[arg-type]
    near, far = sorted((a, b))
    assert hazard_at(law, 500 * near) >= hazard_at(law, 500 * far)


def test_hazard_at_the_sensor_is_the_law_hazard() -> None:
    law = DetectionLaw(range_m=800.0, hazard_per_s=0.05, falloff="quadratic")
    assert float(hazard_at(law, 0.0)) == pytest.approx(0.05)
    assert float(hazard_at(law, 400.0)) == pytest.approx(0.05 * 0.75)


def test_unknown_falloff_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown fall-off 'cubic'"):
        falloff(0.5, "cubic")


def test_detection_probability_is_poisson() -> None:
    assert float(p_detect(0.01, 100.0)) == pytest.approx(1 - math.exp(-1.0))
    assert float(p_detect(0.0, 1e9)) == 0.0
    assert np.allclose(p_detect([0.1, 0.2], 10.0), 1 - np.exp(-np.array([1.0, 2.0])))


@given(hazard=st.floats(0.001, 5.0), interval=st.floats(0.5, 60.0))
def test_the_report_rate_is_the_hazard_when_weak_and_one_an_interval_at_most(
    hazard: float, interval: float
) -> None:
    rate = float(report_rate(hazard, interval))
    assert rate <= min(hazard, 1.0 / interval) * (1 + 1e-12)
    if hazard * interval < 1e-2:
        assert rate == pytest.approx(hazard, rel=1e-2)


def test_the_report_rate_is_the_share_of_intervals_a_poisson_process_fires_in() -> None:
    # Monte Carlo: a Poisson process of rate h over 200,000 intervals of τ, one report for each
    # interval holding at least one event.
    rng = np.random.default_rng(5)
    for h, tau in ((0.5, 5.0), (0.02, 5.0), (1.0, 2.0)):
        n = 200_000
        fired = rng.poisson(h * tau, n) > 0
        observed = fired.sum() / (n * tau)
        sd = math.sqrt(n * (p := float(p_detect(h, tau))) * (1 - p)) / (n * tau)
        assert abs(observed - float(report_rate(h, tau))) < 4 * sd + 1e-12


def test_a_day_camera_is_blind_at_night() -> None:
    model = SensorModel(
        name="cam",
        kind="day_camera",  # type: ignore[arg-type]
        laws={TargetClassName.PERSON: {Light.DAY: DetectionLaw(range_m=1000, hazard_per_s=0.1)}},
    )
    assert law_for(model, TargetClassName.PERSON, Light.DAY) is not None
    assert law_for(model, TargetClassName.PERSON, Light.NIGHT) is None
    assert law_for(model, TargetClassName.VEHICLE, Light.DAY) is None


def test_modes_map_to_target_classes() -> None:
    assert target_class(Mode.FOOT) is TargetClassName.PERSON
    assert target_class(Mode.VEHICLE) is TargetClassName.VEHICLE

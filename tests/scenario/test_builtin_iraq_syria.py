"""The built-in Iraq–Syria scenario says what the public reporting says, and labels the rest."""

from __future__ import annotations

import numpy as np
import pytest

from limes.geo.terrain import ground_elevation
from limes.scenario.model import Scenario
from limes.scenario.schema import Light, SensorKind, Stance, TargetClassName, UnitKind
from limes.scenario.summary import summarize
from limes.scenario.terrain import synthetic_ground


def chainage_km(sc: Scenario, lon: float, lat: float) -> tuple[float, float]:
    s, off = sc.locate(*sc.frame.to_xy(lon, lat))
    return float(s) / 1000.0, float(off)


def place(sc: Scenario, name: str) -> tuple[float, float]:
    (p,) = [p for p in sc.spec.places if p.name == name]
    return chainage_km(sc, p.lon, p.lat)


def test_the_line_is_within_five_percent_of_600_km(iraq_syria: Scenario) -> None:
    assert abs(iraq_syria.length_km - 600.0) <= 0.05 * 600.0


def test_the_line_runs_from_the_tigris_tripoint_to_the_jordan_tripoint(
    iraq_syria: Scenario,
) -> None:
    line = iraq_syria.spec.border.line
    assert line is not None
    assert line[0] == pytest.approx((42.355, 37.107))
    assert line[-1] == pytest.approx((38.794, 33.375))
    assert iraq_syria.spec.border.inside_name == "Iraq"


def test_every_place_lies_on_its_side(iraq_syria: Scenario) -> None:
    for p in iraq_syria.spec.places:
        _, off = chainage_km(iraq_syria, p.lon, p.lat)
        assert (off > 0) == (p.side == "inside"), p.name


def test_sectors_split_where_the_commands_meet(iraq_syria: Scenario) -> None:
    sectors = iraq_syria.spec.sectors
    commands = [s.command for s in sectors]
    assert commands[0] == "Kurdistan Region Peshmerga"
    assert commands[1:3] == ["Nineveh Operations Command", "Jazeera Operations Command"]
    assert set(commands[3:]) == {"Anbar Operations Command"}
    rabia, _ = place(iraq_syria, "Rabia")
    husaybah, _ = place(iraq_syria, "Husaybah")
    assert abs(sectors[0].to_km - rabia) < 5.0  # Peshmerga / Nineveh near Rabia
    assert abs(sectors[2].to_km - husaybah) < 5.0  # Jazeera ends at the Euphrates at al-Qaim


def test_each_far_side_is_reached_by_its_own_channel(iraq_syria: Scenario) -> None:
    channel = {s.name: iraq_syria.channel_of(s) for s in iraq_syria.spec.sectors}
    far = {s.name: s.far_side for s in iraq_syria.spec.sectors}
    assert far["Peshmerga"] == far["Nineveh"] == far["Jazeera"] == "SDF"
    assert "coalition" in channel["Nineveh"]
    assert far["Anbar (al-Qaim)"] == "Syrian army"
    assert "quadrilateral" in channel["Anbar (al-Qaim)"]
    assert far["Anbar (al-Tanf)"] == "al-Tanf opposition"
    assert "al-Tanf" in channel["Anbar (al-Tanf)"]


def test_140_of_the_220_km_vulnerable_stretch_is_closed(iraq_syria: Scenario) -> None:
    (north,) = [s for s in summarize(iraq_syria).stretches if s.name == "vulnerable north"]
    assert north.length_km == pytest.approx(220.0)
    assert north.closed_km == pytest.approx(140.0)
    assert north.under_construction_km > 0 and north.open_km > 0
    # Independently: sample every 100 m of the stretch and ask whether a built barrier covers it.
    km = np.arange(0.05, 220.0, 0.1)
    built = [b for b in iraq_syria.spec.barriers if b.status.value == "built"]
    covered = np.zeros_like(km, dtype=bool)
    for b in built:
        covered |= (km >= b.from_km) & (km <= b.to_km)
    assert covered.sum() * 0.1 == pytest.approx(140.0, abs=0.1)
    # Work in progress says how far along it is.
    assert all(
        b.progress_pct is not None
        for b in iraq_syria.spec.barriers
        if b.status.value == "under_construction"
    )


def test_towers_are_placed_unevenly_and_thermal_cameras_stand_on_the_closed_stretch(
    iraq_syria: Scenario,
) -> None:
    sc = iraq_syria
    kinds = [sc.model_of(s).kind for s in sc.spec.sensors]
    assert kinds.count(SensorKind.AEROSTAT) == 2
    towers = [s for s, k in zip(sc.spec.sensors, kinds, strict=True) if k is SensorKind.DAY_CAMERA]
    xy = np.array([sc.position_xy(s.position) for s in towers])
    gaps = np.diff(np.sort(sc.locate(xy[:, 0], xy[:, 1])[0])) / 1000.0
    # Long empty stretches next to dense clusters: spacing varies as much as it averages.
    assert gaps.max() > 10 * gaps.min()
    assert gaps.std() > 0.8 * gaps.mean()
    assert {SensorKind.OBSERVATION_POST, SensorKind.GROUND_SENSOR} <= set(kinds)
    # The closure programme's thermal cameras: most of them on the 140 km closed in the north,
    # few on the rest of the vulnerable stretch, and one sector with none at all.
    built = [b for b in sc.spec.barriers if b.status.value == "built" and b.to_km <= 220]
    thermal_km = [
        float(sc.locate(*sc.position_xy(s.position))[0]) / 1000.0
        for s, k in zip(sc.spec.sensors, kinds, strict=True)
        if k is SensorKind.THERMAL_CAMERA
    ]
    closed = [km for km in thermal_km if any(b.from_km <= km <= b.to_km for b in built)]
    open_north = [km for km in thermal_km if km < 220 and km not in closed]
    assert len(closed) >= 2 * (len(thermal_km) - len(closed))
    assert len(closed) / 140.0 > 5 * len(open_north) / 80.0  # per km, many times denser
    sectors = {sc.sector_at(min(km, sc.length_km)).name for km in thermal_km}
    assert set(s.name for s in sc.spec.sectors) - sectors  # some sector has no thermal camera


def test_sensor_models_model_the_night(iraq_syria: Scenario) -> None:
    models = {m.kind: m for m in iraq_syria.spec.sensor_models}
    day_cam = models[SensorKind.DAY_CAMERA].laws
    thermal = models[SensorKind.THERMAL_CAMERA].laws
    op = models[SensorKind.OBSERVATION_POST].laws
    person = TargetClassName.PERSON
    assert day_cam[person][Light.NIGHT].range_m < day_cam[person][Light.DAY].range_m
    assert op[person][Light.NIGHT].range_m < op[person][Light.DAY].range_m
    assert thermal[person][Light.NIGHT].range_m >= thermal[person][Light.DAY].range_m
    assert models[SensorKind.AEROSTAT].mast_height_m >= 100


def test_units_include_patrols_quick_reaction_forces_and_a_helicopter(
    iraq_syria: Scenario,
) -> None:
    kinds = {u.kind for u in iraq_syria.spec.units}
    assert kinds == {UnitKind.PATROL, UnitKind.QRF, UnitKind.HELICOPTER}
    (helo,) = [u for u in iraq_syria.spec.units if u.kind is UnitKind.HELICOPTER]
    assert helo.speeds.air_kmh is not None and helo.speeds.road_kmh is None


def test_threats_include_is_cells_smugglers_refugees_and_herders(iraq_syria: Scenario) -> None:
    by_stance = {t.stance for t in iraq_syria.spec.threats}
    assert by_stance == {Stance.HOSTILE, Stance.SUSPECT, Stance.HUMANITARIAN, Stance.NUISANCE}
    cells = [t for t in iraq_syria.spec.threats if t.name.startswith("IS cell")]
    assert {t.knowledge.value for t in cells} == {"full", "partial"}
    assert all(t.group_size == (2, 8) and t.light_preference.value == "night" for t in cells)
    (refugees,) = [t for t in iraq_syria.spec.threats if t.stance is Stance.HUMANITARIAN]
    assert refugees.mode.value == "foot" and refugees.light_preference.value == "day"


def test_synthetic_and_invented_are_said_out_loud(iraq_syria: Scenario) -> None:
    assert "synthetic" in iraq_syria.spec.terrain.note.lower()
    assert "invented" in iraq_syria.spec.demonstration_note.lower()
    assert "synthetic" in iraq_syria.spec.demonstration_note.lower()


def _ground_at(sc: Scenario, lon: float, lat: float) -> float:
    spec = sc.spec.terrain.synthetic
    assert spec is not None
    x, y = sc.frame.to_xy(lon, lat)
    return float(ground_elevation(x, y, synthetic_ground(sc, spec)))


def test_the_terrain_is_shaped_like_the_real_one(iraq_syria: Scenario) -> None:
    sc = iraq_syria
    crest = _ground_at(sc, 41.80, 36.39)
    assert 1250 < crest < 1500  # Jabal Sinjar, up to ~1,400 m
    assert chainage_km(sc, 41.80, 36.39)[1] > 0  # east of the line: in Iraq
    desert = _ground_at(sc, 41.22, 35.60)
    assert 250 < desert < 550
    river = _ground_at(sc, 40.97, 34.43)
    assert river < _ground_at(sc, 41.10, 34.60) - 50  # the Euphrates valley cuts in
    assert river < 250
    assert 550 < _ground_at(sc, 38.794, 33.375) < 750  # the western desert rises toward Jordan


@pytest.mark.slow
def test_the_whole_terrain_builds_and_covers_the_strip(iraq_syria: Scenario) -> None:
    dem = iraq_syria.terrain()
    assert dem.grid.cell_m == pytest.approx(100.0)
    s = np.linspace(0, iraq_syria.border.length_m, 500)
    for offset in (-5000.0, 0.0, 5000.0):
        assert np.isfinite(dem.sample(*iraq_syria.border.point_at(s, offset))).all()
    assert iraq_syria.terrain() is dem  # built once

"""Places: press spellings to one place, and the scenario's sector and chainage near the line."""

from __future__ import annotations

import pytest

from limes.intel.gazetteer import Gazetteer
from limes.intel.ingest import Reader
from limes.scenario.model import Scenario


@pytest.fixture(scope="module")
def gaz(reader: Reader) -> Gazetteer:
    return reader.gazetteer


@pytest.mark.parametrize(
    ("spellings", "canonical"),
    [
        (["Abu Kamal", "Albu Kamal", "al-Bukamal", "Albukamal"], "Abu Kamal"),
        (["al-Qaim", "Al Qaim", "al-Qa'im"], "al-Qaim"),
        (["Rabia"], "Rabia"),
        (["al-Yarubiyah", "Yarubiyah"], "al-Yarubiyah"),
        (["Deir ez-Zor", "Deir Ezzor", "Deir al-Zour"], "Deir Ezzor"),
        (["al-Hol", "al-Hawl", "al-Hol camp"], "al-Hol"),
        (["Tal Afar", "Tel Afar"], "Tal Afar"),
        (["al-Tanf", "Tanf"], "al-Tanf"),
    ],
)
def test_press_spellings_name_one_place(
    gaz: Gazetteer, spellings: list[str], canonical: str
) -> None:
    for s in spellings:
        found = gaz.find(f"Fighters were seen near {s} on Monday.")
        assert [m.entry.name for m in found] == [canonical], s
        assert found[0].text == s


def test_places_near_the_line_get_the_scenarios_sector_and_chainage(
    gaz: Gazetteer, iraq_syria: Scenario
) -> None:
    (qaim,) = gaz.find("near al-Qaim")
    # The scenario's own line comments put the Euphrates crossing at km 346.2.
    assert qaim.chainage_km == pytest.approx(346.2, abs=3.0)
    assert qaim.sector == iraq_syria.sector_at(qaim.chainage_km).name == "Anbar (al-Qaim)"
    (rabia,) = gaz.find("at Rabia")
    assert rabia.chainage_km == pytest.approx(42.2, abs=3.0)
    (hol,) = gaz.find("al-Hol camp")
    assert hol.offset_km is not None and hol.offset_km < 0  # in Syria, outside


def test_far_places_have_no_sector(gaz: Gazetteer) -> None:
    (mosul,) = gaz.find("taken to Mosul")
    assert mosul.sector is None and mosul.chainage_km is None


def test_verbs_and_regions_are_not_places(gaz: Gazetteer) -> None:
    assert gaz.find("Hit by a drone, the convoy in Anbar stopped on the Euphrates.") == []

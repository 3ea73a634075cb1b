"""Border-state claims checked against the scenario's built barrier km."""

from __future__ import annotations

from datetime import UTC, datetime

from limes.intel.document import Document
from limes.intel.ingest import Reader, draft_reports
from limes.scenario.model import Scenario
from limes.scenario.summary import summarize


def check_of(reader: Reader, body: str) -> dict[str, object]:
    d = Document("d", "d", "text", "Nineveh Daily", datetime(2021, 9, 14, tzinfo=UTC), "", body)
    (report,) = [
        r for r in draft_reports([reader.extract(d)], reader) if r["event_type"] == "fortification"
    ]
    check = report["scenario_check"]
    assert isinstance(check, dict)
    return {**check, "credibility": report["credibility"]}


def test_the_reported_closure_agrees_with_the_scenario(
    reader: Reader, iraq_syria: Scenario
) -> None:
    (north,) = [s for s in summarize(iraq_syria).stretches if s.name == "vulnerable north"]
    check = check_of(
        reader,
        f"The Peshmerga have closed {north.closed_km:.0f} km of the "
        f"{north.length_km:.0f} km vulnerable section near Rabia, a spokesman said.",
    )
    assert check["agrees"] is True
    assert check["stretch"] == "vulnerable north"
    assert check["scenario_closed_km"] == round(north.closed_km, 1)


def test_a_mismatch_is_flagged_for_the_planner_and_doubted(reader: Reader) -> None:
    check = check_of(
        reader, "Only 60 km of the 220 km vulnerable section near Rabia has been closed."
    )
    assert check["agrees"] is False
    assert "update the scenario" in str(check["note"])
    assert check["credibility"] == 4


def test_a_sector_named_by_its_place_is_checked_on_that_sector(
    reader: Reader, iraq_syria: Scenario
) -> None:
    check = check_of(reader, "Engineers have closed 500 km of border near Sinjar.")
    (nineveh,) = [s for s in summarize(iraq_syria).sectors if s.name == "Nineveh"]
    assert check["stretch"] == "Nineveh"
    assert check["scenario_closed_km"] == round(nineveh.barriers.built, 1)
    assert check["agrees"] is False

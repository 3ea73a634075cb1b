"""Corroboration across two separate ingests, through what the store keeps of the first.

Each ingest alone has one origin for the claim (credibility 3). A later ingest with an
independent report of the same event raises both the new draft and the stored report to 2;
a later ingest with another outlet republishing the stored story raises neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intel_support import Floor

from limes.intel.ingest import Reader, ingest
from limes.intel.submit import submit_drafts

WIRE = """Euphrates Wire
14 March 2024
IS fighters try to cross near Husaybah

Islamic State fighters tried to cross the border near Husaybah on Tuesday night but withdrew \
when Iraqi border guards opened fire, an Iraqi army officer said.
The officer said the group of about 15 fighters came from the Syrian side near Abu Kamal.
"""

PATROL = """Anbar Border Guard patrol report
14 March 2024
Night patrol log, Husaybah berm

A patrol reported that a group of IS militants approached the berm south of Husaybah on \
Tuesday night and tried to infiltrate before guards fired flares. They fell back towards the \
Syrian side.
"""

REPUBLISHED = """Nineveh Daily
15 March 2024
Border attack repelled

Our correspondents follow the fighting in the west of the country day by day.
Islamic State fighters tried to cross the border near Husaybah on Tuesday night but withdrew \
when Iraqi border guards opened fire, an Iraqi army officer said.
The officer said the group of about 15 fighters came from the Syrian side near Abu Kamal.
"""


def batch(tmp: Path, name: str, text: str, reader: Reader, floor: Floor) -> dict[str, Any]:
    """Ingest one file on its own and submit its drafts; the infiltration draft."""
    folder = tmp / name
    folder.mkdir()
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    out = tmp / f"{name}-out"
    result = ingest(folder, out, reader=reader)
    submitted = submit_drafts(out, "http://testserver", floor.tokens["analyst"],
                              client=floor.client)  # fmt: skip
    assert submitted.filed == len(result.reports)
    (draft,) = [r for r in result.reports if r["event_type"] == "infiltration"]
    assert draft["independent_origins"] == 1 and draft["credibility"] == 3  # alone in its batch
    return draft


def stored(floor: Floor, source: str) -> dict[str, Any]:
    """The filed infiltration report of one outlet, as the queue shows it."""
    queue = floor.client.get("/api/intel/reports?status=draft", headers=floor.h("analyst"))
    (one,) = [q for q in queue.json() if q["report"]["source"] == source
              and q["report"]["event_type"] == "infiltration"]  # fmt: skip
    return one  # type: ignore[no-any-return]


def test_a_later_independent_report_raises_both(
    floor: Floor, reader: Reader, tmp_path: Path
) -> None:
    batch(tmp_path, "first", WIRE, reader, floor)
    assert stored(floor, "Euphrates Wire")["grade"] == "B3"
    before = stored(floor, "Euphrates Wire")["version"]

    batch(tmp_path, "second", PATROL, reader, floor)
    wire = stored(floor, "Euphrates Wire")
    patrol = stored(floor, "Anbar Border Guard patrol report")
    assert wire["report"]["credibility"] == 2  # raised by the second batch
    assert wire["version"] == before + 1 and wire["report"]["status"] == "draft"
    assert patrol["report"]["credibility"] == 2  # and the new one by the stored one


def test_a_later_republication_raises_neither(floor: Floor, reader: Reader, tmp_path: Path) -> None:
    batch(tmp_path, "first", WIRE, reader, floor)
    batch(tmp_path, "second", REPUBLISHED, reader, floor)
    wire = stored(floor, "Euphrates Wire")
    again = stored(floor, "Nineveh Daily")
    assert wire["report"]["credibility"] == 3 and wire["version"] == 1
    assert again["report"]["credibility"] == 3


def test_submitting_the_same_batch_twice_raises_nothing(
    floor: Floor, reader: Reader, tmp_path: Path
) -> None:
    batch(tmp_path, "first", WIRE, reader, floor)
    out = tmp_path / "first-out"
    again = submit_drafts(out, "http://testserver", floor.tokens["analyst"], client=floor.client)
    assert again.filed == 0
    assert stored(floor, "Euphrates Wire")["report"]["credibility"] == 3

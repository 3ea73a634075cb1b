"""summary.json, the file `limes assess` leaves for people and programs: its model and its reader.

`load_assessment` is the one reader of the file: the live system's plan lookup, the exercise's
plan and the map's planner view all read it through here. The models below are the file's
format (docs/assess-output.md explains every field); docs/schemas/assessment-summary.schema.json
is generated from them (`python -m limes.analysis.summary_file`) and the writer
(`limes.analysis.outputs.summary`) is tested against that schema. Fields added by a later
writer are kept (`extra="allow"`), so an older reader still reads a newer file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from limes.errors import AnalysisError

SCHEMA_ID = "https://limes.example/schemas/assessment-summary.schema.json"


class AssessmentFileError(AnalysisError):
    """An assessment's summary.json that cannot be read; names the file and the field."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class KmRecord(_Record):
    """The weakest crossing that starts in one km of chainage."""

    chainage_km: float = Field(ge=0, description="Start of the km along the line (km).")
    p_interruption: float | None = Field(
        ge=0, le=1, description="P(interruption) of the km's weakest crossing (null: not known)."
    )
    sector: str = Field("", description="The sector holding the km.")
    reason: str = Field(
        "held", description="Why the km is weak: not seen, seen too late, too fast to stop, held."
    )
    p_detection: float | None = Field(None, description="P(detection) along that crossing.")
    coverage: float | None = Field(None, description="Share of the km's strip seen (0 … 1).")
    p_easi: float | None = Field(None, description="Exact EASI along the km's best path.")
    crossing_time_s: float | None = Field(None, description="Time to cross the strip (s).")
    response_time_s: float | None = Field(None, description="Response time to the km (s).")


class Overall(_Record):
    """One run's figures over the whole line."""

    km: int = Field(ge=0, description="Km assessed.")
    worst_p: float | None = Field(None, description="Lowest P(interruption) of any km.")
    mean_p: float | None = Field(None, description="Mean P(interruption) over the km.")
    km_below: int = Field(ge=0, description="Km below the weak threshold.")


class SectorRecord(_Record):
    """How one sector fares in one run."""

    name: str
    command: str
    from_km: float
    to_km: float
    km: int = Field(ge=0)
    worst_p: float | None
    worst_km: float | None
    mean_p: float | None
    km_below: int = Field(ge=0)
    coverage_pct: float | None
    dominant_reason: str | None


class StretchRecord(_Record):
    """A weak stretch: contiguous km below the weak threshold, ranked."""

    rank: int = Field(ge=1)
    from_km: float
    to_km: float
    length_km: float
    min_p: float
    mean_p: float
    weakest_km: float
    dominant_reason: str


class PathRecord(_Record):
    """A worst path's numbers (its geometry is in worst_paths.geojson)."""

    start_chainage_km: float
    p_interruption: float | None
    p_monte_carlo: float | None = None
    mc_interval: list[float] | None = None


class RasterRecord(_Record):
    """A GeoTIFF written beside summary.json."""

    file: str = Field(description="File name, in the same folder.")
    units: str


class RunRecord(_Record):
    """One adversary mode under one light."""

    mode: str = Field(description="Adversary mode: foot or vehicle.")
    light: str = Field(description="Light: day or night.")
    per_km: list[KmRecord] = Field(min_length=1)
    overall: Overall | None = None
    sectors: list[SectorRecord] = []
    weak_stretches: list[StretchRecord] = []
    worst_paths: list[PathRecord] = []
    rasters: dict[str, RasterRecord] = {}


class AssessmentSummary(_Record):
    """The content of summary.json."""

    scenario: str = Field(description="The scenario's name.")
    title: str = Field("", description="The scenario's title.")
    resolution_m: float | None = Field(None, gt=0, description="Analysis cell size (m).")
    output_cell_m: float | None = Field(None, gt=0, description="Raster output cell size (m).")
    cells: int | None = Field(None, ge=0, description="Cells analysed.")
    length_km: float | None = Field(None, ge=0, description="Border length (km).")
    weak_below: float | None = Field(None, ge=0, le=1, description="The weak threshold on P.")
    frame_crs: str | None = Field(None, description="The metric frame, as WKT.")
    timings_s: dict[str, float] = Field({}, description="Seconds per stage of the analysis.")
    runs: list[RunRecord] = Field(min_length=1)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of summary.json (draft 2020-12), as docs/schemas holds it."""
    schema = AssessmentSummary.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def load_assessment(path: str | Path) -> AssessmentSummary:
    """Read and check an assessment's summary.json (or the folder holding it).

    Raises `AssessmentFileError` naming the file and, for a field at fault, its path.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AssessmentFileError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AssessmentFileError(f"{p}: not JSON ({exc})") from None
    try:
        return AssessmentSummary.model_validate(doc)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()]
        claimed = doc.get("scenario") if isinstance(doc, dict) else None
        of = f" (of {claimed!r})" if isinstance(claimed, str) else ""
        raise AssessmentFileError(
            f"{p}: not an assessment summary{of}: {'; '.join(problems[:5])}"
        ) from None


def main() -> None:
    """Print the schema for docs/schemas (`python -m limes.analysis.summary_file`)."""
    print(json.dumps(json_schema(), indent=2))


if __name__ == "__main__":
    main()

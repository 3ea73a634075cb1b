"""Warnings: what a scenario may legally say but almost surely does not mean.

An error (`scenario.checks`) stops a scenario; a warning does not. It flags an entry that is
valid but whose effect the author probably did not intend, with the consequence in numbers:

- a narrow field of view without a `heading_deg` faces grid north (0°), whatever the line does;
- a sensor whose view wedge (longest range, field of view) meets none of the analysed strip
  adds nothing to any assessment;
- a unit that cannot reach its own sector's line within the sector's `response_goal_min` even
  on a straight road at its best speed (readiness and alert handling included: a lower bound,
  so the warning is never a false alarm of the road network);
- a barrier under construction or planned without `as_of` / `due` dates: a status nobody can
  date is a status nobody can trust.

Geometry only (shapely over the frame), no line of sight: a warning must be instant. The
functions that say which way a sensor faces and where the line lies from it are used again by
`limes assess --compare` to say why a change bought nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import shapely
from shapely.ops import substring

from limes.scenario.model import Scenario
from limes.scenario.schema import BarrierStatus, Sensor

# A field of view narrower than this has a direction that matters.
NARROW_FOV_DEG = 180.0


class Severity(StrEnum):
    """How much a finding matters: a warning changes the results, a note explains them."""

    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One thing a scenario says that is probably not meant, by field path."""

    path: str
    reason: str
    severity: Severity = Severity.WARNING
    line: int | None = None
    file: str | None = None

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{self.severity.value}: {where}: {self.path}: {self.reason}"


def scenario_warnings(sc: Scenario) -> list[Finding]:
    """Every warning for a scenario, in file order, with the file line where it can be found."""
    found = [*_sensor_warnings(sc), *_unit_warnings(sc), *_barrier_warnings(sc)]
    return _located(sc, found)


# --- sensors ------------------------------------------------------------------------------------


def longest_range_m(sc: Scenario, sensor: Sensor) -> float:
    """The longest range of any of a sensor's detection laws, metres (0 when it has none)."""
    model = sc.sensor_models.get(sensor.model)
    if model is None:
        return 0.0
    return max(
        (law.range_m for by_light in model.laws.values() for law in by_light.values()), default=0.0
    )


def bearing_to_line_deg(sc: Scenario, sensor: Sensor) -> float:
    """Grid bearing (degrees clockwise from north) from a sensor to the nearest point of line."""
    x, y = sc.position_xy(sensor.position)
    ch, off = sc.locate(x, y)
    if abs(float(off)) < 1.0:
        # On the line: the outside is where to look; take the normal toward it.
        lx, ly = sc.border.point_at(float(ch), -10.0)
    else:
        lx, ly = sc.border.point_at(float(ch))
    return math.degrees(math.atan2(float(lx) - x, float(ly) - y)) % 360.0


def angle_off_deg(heading_deg: float, bearing_deg: float) -> float:
    """Absolute angle between a heading and a bearing, 0–180°."""
    return abs((bearing_deg - heading_deg + 180.0) % 360.0 - 180.0)


def view_wedge(sc: Scenario, sensor: Sensor, range_m: float | None = None) -> shapely.Geometry:
    """The sensor's field of view out to its longest range, as a polygon in the frame."""
    x, y = sc.position_xy(sensor.position)
    r = longest_range_m(sc, sensor) if range_m is None else range_m
    fov = sc.fov_deg(sensor) if sensor.model in sc.sensor_models else 360.0
    if r <= 0:
        return shapely.Point(x, y)
    if fov >= 360.0:
        return shapely.Point(x, y).buffer(r, quad_segs=32)
    n = max(8, int(fov / 3))
    ang = np.radians(np.linspace(sensor.heading_deg - fov / 2, sensor.heading_deg + fov / 2, n))
    ring = [(x, y), *zip(x + r * np.sin(ang), y + r * np.cos(ang), strict=True), (x, y)]
    return shapely.Polygon(ring)


def facing_note(sc: Scenario, sensor: Sensor) -> str | None:
    """Why a directional sensor misses the line, or None when it looks toward it."""
    fov = sc.fov_deg(sensor)
    if fov >= 360.0:
        return None
    bearing = bearing_to_line_deg(sc, sensor)
    off = angle_off_deg(sensor.heading_deg, bearing)
    if off <= fov / 2:
        return None
    given = "heading_deg" in sensor.model_fields_set
    faces = f"faces {sensor.heading_deg:.0f}°" + ("" if given else " (no heading_deg given)")
    away = "away from the line" if off > 90 else "past the line"
    return (
        f"its {fov:.0f}° camera {faces}, {away}: the line is at bearing {bearing:.0f}°, "
        f"{off:.0f}° off its axis"
    )


def sees_strip(sc: Scenario, sensor: Sensor) -> bool:
    """Whether the sensor's view wedge meets the analysed strip at all (terrain aside)."""
    return bool(view_wedge(sc, sensor).intersects(sc.strip_polygon()))


def _sensor_warnings(sc: Scenario) -> list[Finding]:
    out = []
    strip = sc.strip_polygon()
    for i, s in enumerate(sc.spec.sensors):
        if s.model not in sc.sensor_models:
            continue  # an error elsewhere
        fov = sc.fov_deg(s)
        bearing = bearing_to_line_deg(sc, s)
        if fov < NARROW_FOV_DEG and "heading_deg" not in s.model_fields_set:
            off = angle_off_deg(s.heading_deg, bearing)
            out.append(
                Finding(
                    f"sensors[{i}].heading_deg",
                    f"sensor {s.id!r} has a {fov:.0f}° field of view but no heading_deg, so it "
                    f"faces 0° (grid north); the line lies at bearing {bearing:.0f}° from it "
                    f"({off:.0f}° off its axis)",
                )
            )
        reach = longest_range_m(sc, s)
        if reach <= 0:
            out.append(
                Finding(f"sensors[{i}].model", f"sensor {s.id!r}: its model detects nothing")
            )
        elif not view_wedge(sc, s).intersects(strip):
            why = facing_note(sc, s)
            x, y = sc.position_xy(s.position)
            dist = strip.distance(shapely.Point(x, y))
            reason = why or (
                f"the strip is {dist / 1000:.1f} km away and its longest range is "
                f"{reach / 1000:.1f} km"
            )
            out.append(
                Finding(
                    f"sensors[{i}]",
                    f"sensor {s.id!r} sees none of the analysed strip: {reason}",
                )
            )
    return out


# --- units --------------------------------------------------------------------------------------


def _unit_warnings(sc: Scenario) -> list[Finding]:
    out = []
    alert = sc.spec.response.alert_handling.mean_s
    for i, u in enumerate(sc.spec.units):
        if not u.available:
            continue
        x, y = sc.position_xy(u.base)
        ch, _ = sc.locate(x, y)
        sector = sc.sector_at(float(ch) / 1000.0)
        if sector.response_goal_min is None:
            continue
        piece = substring(
            sc.border.line, sector.from_km * 1000.0, min(sector.to_km * 1000.0, sc.border.length_m)
        )
        dist = float(piece.distance(shapely.Point(x, y)))
        speeds = [v for v in (u.speeds.road_kmh, u.speeds.off_road_kmh, u.speeds.air_kmh) if v]
        fastest_s = dist / (max(speeds) / 3.6)
        best_min = (u.readiness.mean_s + alert + fastest_s) / 60.0
        if best_min > sector.response_goal_min:
            out.append(
                Finding(
                    f"units[{i}].base",
                    f"unit {u.id!r} cannot reach sector {sector.name!r}'s line within its "
                    f"{sector.response_goal_min:g}-min response goal: at best "
                    f"{best_min:.0f} min (alert handling {alert / 60:.0f}, readiness "
                    f"{u.readiness.mean_s / 60:.0f}, {dist / 1000:.1f} km at "
                    f"{max(speeds):g} km/h in a straight line)",
                )
            )
    return out


# --- barriers -----------------------------------------------------------------------------------


def _barrier_warnings(sc: Scenario) -> list[Finding]:
    out = []
    for i, b in enumerate(sc.spec.barriers):
        if b.status is BarrierStatus.UNDER_CONSTRUCTION and b.as_of is None:
            out.append(
                Finding(
                    f"barriers[{i}].as_of",
                    f"barrier {b.id!r} is under construction at {b.progress_pct:g} % with no "
                    "as_of date: the assessment counts that progress as standing today",
                )
            )
        if b.status is BarrierStatus.PLANNED and b.due is None:
            out.append(
                Finding(
                    f"barriers[{i}].due",
                    f"barrier {b.id!r} is planned with no due date: the assessment counts "
                    "none of it, and nothing says when it will stand",
                    Severity.NOTE,
                )
            )
    return out


def _located(sc: Scenario, found: list[Finding]) -> list[Finding]:
    """The findings with the scenario file's line of each field path, where there is a file."""
    if not sc.source:
        return found
    from limes.scenario.load import _path_tuple
    from limes.scenario.yaml_source import YamlSource

    try:
        src = YamlSource.from_path(Path(sc.source))
    except Exception:  # the file moved or is not YAML: the paths still say where
        return [Finding(f.path, f.reason, f.severity, None, sc.source) for f in found]

    def line(path: str) -> int | None:
        # A missing field (the warning is often that it is missing) is found at its parent.
        parts = _path_tuple(path)
        while parts:
            at = src.line_of(parts)
            if at is not None:
                return at
            parts = parts[:-1]
        return None

    return [Finding(f.path, f.reason, f.severity, line(f.path), sc.source) for f in found]

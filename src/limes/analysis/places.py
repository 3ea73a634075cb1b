"""Where a result is, in the words and grid a reader uses: place names and grid references.

A report that says "km 187–301" makes the reader find the km on a chart; one that says
"km 187–301, from 14 km NE of al-Hol to Hajin, 36.12 N 41.27 E, 37S DV 12 34" can be acted on.
The names come from the scenario itself (its `places` and the named features of its synthetic
terrain), never from outside, so a report on another border names that border's places.
Grid references are WGS84 lat/lon and MGRS (the `mgrs` package).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import mgrs as mgrs_lib
import numpy as np
import shapely

from limes.scenario.model import Scenario

# A place farther than this from what it names is no help to the reader.
NEAR_M = 40_000.0
# Within this the thing is "at" the place rather than "N of" it.
AT_M = 2_000.0
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
_MGRS = mgrs_lib.MGRS()


@dataclass(frozen=True)
class NamedPlace:
    """A named place or landform in the scenario frame (metres)."""

    name: str
    kind: str
    side: str
    x: float
    y: float


def compass(dx: float, dy: float) -> str:
    """The 8-point compass direction of a frame vector (y north)."""
    bearing = math.degrees(math.atan2(dx, dy)) % 360.0
    return _COMPASS[int((bearing + 22.5) // 45) % 8]


def mgrs_ref(lon: float, lat: float, digits: int = 5) -> str:
    """An MGRS reference with spaces: zone+band, square, easting, northing (1 m at 5 digits)."""
    raw = str(_MGRS.toMGRS(lat, lon, MGRSPrecision=digits))
    n = len(raw) - 2 * digits
    grid, sq, digits_part = raw[: n - 2], raw[n - 2 : n], raw[n:]
    return f"{grid} {sq} {digits_part[:digits]} {digits_part[digits:]}"


def latlon_ref(lon: float, lat: float) -> str:
    """Degrees to 4 decimals (about 10 m) with hemisphere letters, latitude first."""
    return f"{abs(lat):.4f} {'N' if lat >= 0 else 'S'} {abs(lon):.4f} {'E' if lon >= 0 else 'W'}"


def grid_ref(lon: float, lat: float) -> str:
    """Lat/lon and MGRS of one point, as the report prints it."""
    return f"{latlon_ref(lon, lat)} · {mgrs_ref(lon, lat)}"


class Gazetteer:
    """The scenario's named places, and phrases that say where a point or stretch is."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    @cached_property
    def places(self) -> list[NamedPlace]:
        """Towns, camps and crossings, then named landforms (their centre or nearest vertex)."""
        sc = self.scenario
        out = []
        for p in sc.spec.places:
            x, y = sc.frame.to_xy(p.lon, p.lat)
            out.append(NamedPlace(p.name, p.kind, p.side, float(x), float(y)))
        synth = sc.spec.terrain.synthetic
        for f in synth.features if synth is not None else []:
            if f.centre is not None:
                x, y = sc.frame.to_xy(*f.centre)
                out.append(NamedPlace(f.name, f.kind.value, "", float(x), float(y)))
            elif f.path is not None:
                xs, ys = sc.frame.to_xy(*np.asarray(f.path, dtype=float).T)
                # A long landform is named where it meets the line, else at its middle vertex.
                line = shapely.LineString(np.column_stack([xs, ys]))
                hit = line.intersection(sc.border.line)
                if not hit.is_empty:
                    pt = hit.representative_point()
                    out.append(NamedPlace(f.name, f.kind.value, "", pt.x, pt.y))
                else:
                    mid = len(xs) // 2
                    out.append(NamedPlace(f.name, f.kind.value, "", float(xs[mid]), float(ys[mid])))
        return out

    def nearest(self, x: float, y: float, within_m: float = NEAR_M) -> NamedPlace | None:
        """The nearest named place within `within_m`, or None."""
        best, best_d = None, within_m
        for p in self.places:
            d = math.hypot(p.x - x, p.y - y)
            if d <= best_d:
                best, best_d = p, d
        return best

    def describe(self, x: float, y: float, within_m: float = NEAR_M) -> str:
        """Say where a point is: "at Sinjar", "12 km NE of Sinjar", or "" if nothing is near."""
        p = self.nearest(x, y, within_m)
        if p is None:
            return ""
        d = math.hypot(x - p.x, y - p.y)
        if d <= AT_M:
            return f"at {p.name}"
        return f"{d / 1000:.0f} km {compass(x - p.x, y - p.y)} of {p.name}"

    def along(self, from_km: float, to_km: float) -> list[str]:
        """Named places beside a stretch of the line, in chainage order (at most four).

        A place counts when it lies within `NEAR_M` of the line and its foot point falls inside
        the stretch; when none does, the nearest place to the stretch's middle stands in.
        """
        sc = self.scenario
        if not self.places:
            return []
        xs = np.array([p.x for p in self.places])
        ys = np.array([p.y for p in self.places])
        ch, off = sc.locate(xs, ys)
        inside = (ch >= from_km * 1000.0) & (ch <= to_km * 1000.0) & (np.abs(off) <= NEAR_M)
        idx = np.flatnonzero(inside)
        if idx.size:
            order = idx[np.argsort(ch[idx])]
            if order.size > 4:  # the two ends and two between
                pick = np.unique(np.linspace(0, order.size - 1, 4).round().astype(int))
                order = order[pick]
            return [self.places[i].name for i in order]
        mx, my = sc.border.point_at(0.5 * (from_km + to_km) * 1000.0)
        near = self.describe(float(mx), float(my))
        return [near] if near else []

    def point_on_line(self, chainage_km: float) -> tuple[float, float]:
        """Lon/lat of a chainage on the line."""
        x, y = self.scenario.border.point_at(chainage_km * 1000.0)
        lon, lat = self.scenario.frame.to_lonlat(x, y)
        return float(lon), float(lat)

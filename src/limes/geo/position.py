"""How a position is written for people: MGRS, the grid reference patrols navigate by.

The map, the API and the radio speak of the same place three ways: lon/lat (WGS84 decimal
degrees, GeoJSON order in data), lat/lon in text, and MGRS at 1 m precision (e.g.
`37SFT9394664144`). The conversion is the `mgrs` package's (GeoTrans); the map computes the
same in the browser and its tests hold it to this one.
"""

from __future__ import annotations

from functools import lru_cache

import mgrs as _mgrs


@lru_cache(maxsize=1)
def _converter() -> _mgrs.MGRS:
    return _mgrs.MGRS()


def mgrs_of(lon: float, lat: float) -> str:
    """The MGRS reference (1 m precision) of a WGS84 position; "" outside MGRS' latitudes."""
    if not -80.0 <= lat < 84.0 or not -180.0 <= lon <= 180.0:
        return ""  # UPS (polar) areas are not a border of ours
    code: str = _converter().toMGRS(lat, lon, MGRSPrecision=5)
    return code

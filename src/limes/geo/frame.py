"""The scenario's local metric frame: every computation happens in one, storage stays in WGS84."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from limes.errors import GeoError

WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Frame:
    """A projected CRS in metres with transforms to and from lon/lat (GeoJSON axis order)."""

    crs: CRS
    _to_xy: Transformer = field(init=False, repr=False, compare=False)
    _to_lonlat: Transformer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_to_xy", Transformer.from_crs(WGS84, self.crs, always_xy=True))
        object.__setattr__(
            self, "_to_lonlat", Transformer.from_crs(self.crs, WGS84, always_xy=True)
        )

    @classmethod
    def transverse_mercator(cls, lon0: float, lat0: float) -> Frame:
        """A transverse Mercator centred on (lon0, lat0): scale error under 0.1 % within 300 km."""
        crs = CRS.from_proj4(
            f"+proj=tmerc +lat_0={lat0:.6f} +lon_0={lon0:.6f} +k=1 +x_0=0 +y_0=0 "
            "+ellps=WGS84 +units=m +no_defs"
        )
        return cls(crs)

    @classmethod
    def from_user_input(cls, value: Any) -> Frame:
        """A frame from anything pyproj understands (EPSG code, WKT, PROJ string).

        Raises `GeoError` for text pyproj does not understand or a CRS without metres.
        """
        try:
            crs = CRS.from_user_input(value)
        except CRSError as exc:
            raise GeoError(f"not a CRS pyproj understands ({exc})") from None
        if not crs.is_projected:
            raise GeoError(f"frame CRS {crs.name!r} is not projected (metres are needed)")
        return cls(crs)

    def to_xy(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Project lon/lat (degrees) to frame x/y (metres)."""
        x, y = self._to_xy.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def to_lonlat(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Unproject frame x/y (metres) to lon/lat (degrees)."""
        lon, lat = self._to_lonlat.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon, float), np.asarray(lat, float)

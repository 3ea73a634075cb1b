"""Dispatch advice in milliseconds: each ground unit's travel-time field, kept and reused.

`advise` (in `dispatch`) runs one search from the target over a raster spanning the target and
every unit, which over a 580 km border takes seconds per request. Here each ground unit has
its own field instead — the least travel time from where it stands to every cell around it,
with the predecessor of each cell for its route — built once and reused by every request until
the unit moves to another cell or the time window ends (`DispatchConfig.field_window_s`), so a
request is a lookup and a short route trace per unit. A unit that moved less than
`field_reuse_m` from where its field was built (a patrol driving back to base) is answered at
once from the kept field plus the straight leg back to its origin at its off-road pace (an
upper bound), while its new field is built in the background.

Two fields per unit: a *near* field at the advice's own cell size (`cell_m`) out to `near_km`,
where times and routes equal `advise`'s exactly (edges are symmetric, the cells are aligned on
the same multiples, the same pace raster), and a *far* field at `far_cell_m` out to
`max_ground_km` for targets beyond, coarser by design (a unit an hour away is ranked, not
timed to the second). A target on a cell the unit cannot enter (a road-only unit off the road)
is reached from the cheapest neighbouring cell, crossing that one cell at road speed, exactly
as `advise` lets it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limes.analysis.response import road_mask
from limes.analysis.shortest_path import SQRT2, half_steps, shortest_paths, trace
from limes.geo.grid import Grid
from limes.ops.dispatch import (
    Advice,
    DispatchConfig,
    Target,
    UnitSituation,
    air_advice,
    candidates,
    route_points,
)
from limes.scenario.model import Scenario
from limes.scenario.schema import Unit
from limes.sensing.movement import pace_s_per_m

_DR = (-1, 1, 0, 0, -1, -1, 1, 1)
_DC = (0, 0, -1, 1, -1, 1, -1, 1)


@dataclass(frozen=True)
class TravelField:
    """Least travel time (s) from one unit's cell to every cell of `grid`, with routes."""

    grid: Grid
    origin: tuple[float, float]  # the unit's frame position
    dist: NDArray[np.float64]
    pred: NDArray[np.int32]
    pace: NDArray[np.float32]  # s/m per cell (inf: the unit cannot enter)
    end_pace: float  # s/m when crossing an end cell it could not otherwise enter

    def cell(self, x: float, y: float) -> tuple[int, int] | None:
        r, c = self.grid.rowcol(x, y)
        row, col = math.floor(float(r)), math.floor(float(c))
        if 0 <= row < self.grid.height and 0 <= col < self.grid.width:
            return row, col
        return None

    def to(self, x: float, y: float) -> tuple[float, list[int]] | None:
        """(travel seconds, flat cells from the unit to the target's cell), or None."""
        rc = self.cell(x, y)
        if rc is None:
            return None
        r, c = rc
        w = self.grid.width
        if np.isfinite(self.pace[r, c]):
            t = float(self.dist[r, c])
            if not np.isfinite(t):
                return None
            return t, trace(self.pred, r * w + c)[::-1].tolist()
        # An end cell the unit cannot otherwise enter: from its best neighbour at end pace.
        best, via = math.inf, -1
        for k in range(8):
            rr, cc = r + _DR[k], c + _DC[k]
            if not (0 <= rr < self.grid.height and 0 <= cc < self.grid.width):
                continue
            step = self.grid.cell_m * (1.0 if k < 4 else SQRT2)
            t = float(self.dist[rr, cc]) + 0.5 * step * (float(self.pace[rr, cc]) + self.end_pace)
            if t < best:
                best, via = t, rr * w + cc
        if not np.isfinite(best):
            return None
        return best, [*trace(self.pred, via)[::-1].tolist(), r * w + c]


def build_field(
    scenario: Scenario, unit: Unit, x: float, y: float, radius_m: float, cell_m: float
) -> TravelField:
    """A unit's field over the square of `radius_m` around it, cells on multiples of `cell_m`."""
    x0, y0 = (
        math.floor((x - radius_m) / cell_m) * cell_m,
        math.floor((y - radius_m) / cell_m) * cell_m,
    )
    x1, y1 = (
        math.ceil((x + radius_m) / cell_m) * cell_m,
        math.ceil((y + radius_m) / cell_m) * cell_m,
    )
    grid = Grid.north_up(x0, y0, x1, y1, cell_m)
    roads = road_mask(scenario, grid)
    road_kmh, off_kmh = unit.speeds.road_kmh, unit.speeds.off_road_kmh
    # The same pace raster as `dispatch._by_ground` (and the analysis) builds for the unit.
    road_v = road_kmh if road_kmh is not None else off_kmh
    pace = np.where(roads, pace_s_per_m(road_v or 0.0), pace_s_per_m(off_kmh or 0.0))
    end_pace = float(pace_s_per_m(road_v or off_kmh or 0.0))
    r, c = grid.rowcol(x, y)
    start = (math.floor(float(r)), math.floor(float(c)))
    if not np.isfinite(pace[start]):
        pace[start] = end_pace
    ho, hd = half_steps(pace, grid.cell_m)
    seed = np.array([start[0] * grid.width + start[1]], dtype=np.int64)
    dist, pred = shortest_paths(ho, hd, seed)
    # Kept for many requests: predecessors and paces in 32 bits (times stay 64-bit).
    return TravelField(grid, (x, y), dist, pred.astype(np.int32), pace.astype(np.float32), end_pace)


class AdviceCache:
    """`advise` through kept travel-time fields (module docstring); thread-safe.

    `clock` gives seconds for the time windows (monotonic by default). `warm(situations)`
    builds the fields of every free ground unit now (call it in the background at start).
    `close()` stops the warming and joins the fields being rebuilt in the background: a thread
    still inside a compiled kernel when the interpreter exits can abort the process.
    """

    def __init__(
        self,
        scenario: Scenario,
        config: DispatchConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scenario = scenario
        self.config = config or DispatchConfig()
        self.clock = clock
        self._fields: dict[tuple[str, str], tuple[tuple[int, int, int], TravelField]] = {}
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Event] = {}
        self._rebuilding: set[threading.Thread] = set()
        self._closed = threading.Event()
        self.built = 0  # fields built so far (a hit costs none)

    def _key(self, x: float, y: float, cell_m: float) -> tuple[int, int, int]:
        window = int(self.clock() // self.config.field_window_s)
        return math.floor(x / cell_m), math.floor(y / cell_m), window

    def field(self, unit: Unit, x: float, y: float, kind: str) -> tuple[TravelField, float]:
        """The unit's near or far field, and the seconds to add for the leg from (x, y) to the
        field's origin (0 when it was built there): kept, reused nearby, else built now."""
        cell = self.config.cell_m if kind == "near" else self.config.far_cell_m
        stamp = self._key(x, y, cell)
        with self._lock:
            kept = self._fields.get((unit.id, kind))
        if kept is not None and kept[0] == stamp:
            return kept[1], 0.0
        if kept is not None:
            ox, oy = kept[1].origin
            leg = math.hypot(x - ox, y - oy)
            if leg <= self.config.field_reuse_m:
                self._rebuild_in_background(unit, x, y, kind)
                off = unit.speeds.off_road_kmh or unit.speeds.road_kmh or 0.0
                return kept[1], leg * float(pace_s_per_m(off))
        return self._build(unit, x, y, kind), 0.0

    def _rebuild_in_background(self, unit: Unit, x: float, y: float, kind: str) -> None:
        """Build the field at (x, y) for the next request (the kept one serves this one)."""

        def rebuild() -> None:
            try:
                self._build(unit, x, y, kind)
            finally:
                with self._lock:
                    self._rebuilding.discard(thread)

        thread = threading.Thread(target=rebuild, name="limes-travel-field", daemon=True)
        with self._lock:
            if self.closed:
                return
            self._rebuilding.add(thread)
        thread.start()

    @property
    def closed(self) -> bool:
        """Whether `close()` was called (a field build in progress still finishes)."""
        return self._closed.is_set()

    def close(self) -> None:
        """Stop `warm` after the field it is building; wait for the background rebuilds."""
        self._closed.set()
        with self._lock:
            pending = list(self._rebuilding)
        for thread in pending:
            thread.join()

    def _build(self, unit: Unit, x: float, y: float, kind: str) -> TravelField:
        cfg = self.config
        radius, cell = (
            (cfg.near_km * 1e3, cfg.cell_m)
            if kind == "near"
            else (cfg.max_ground_km * 1e3, cfg.far_cell_m)
        )
        key = (unit.id, kind)
        stamp = self._key(x, y, cell)
        while True:
            with self._lock:
                kept = self._fields.get(key)
                if kept is not None and kept[0] == stamp:
                    return kept[1]
                waiting = self._building.get(key)
                if waiting is None:
                    self._building[key] = threading.Event()
                    break
            waiting.wait()  # another request is building this field: use it
        try:
            built = build_field(self.scenario, unit, x, y, radius + cfg.margin_m, cell)
            with self._lock:
                self._fields[key] = (stamp, built)
                self.built += 1
            return built
        finally:
            with self._lock:
                self._building.pop(key).set()

    def warm(self, situations: Mapping[str, UnitSituation] | None = None) -> None:
        """Build every free ground unit's fields now (until `close()`)."""
        for unit, x, y in candidates(self.scenario, situations):
            if unit.speeds.air_kmh:
                continue
            for kind in ("near", "far"):
                if self.closed:
                    return
                self.field(unit, x, y, kind)

    def advise(
        self, target: Target, situations: Mapping[str, UnitSituation] | None = None
    ) -> list[Advice]:
        """The free units ranked by time to the target, as `dispatch.advise` ranks them."""
        cfg, sc = self.config, self.scenario
        out: list[Advice] = []
        for unit, x, y in candidates(sc, situations):
            if unit.speeds.air_kmh:
                out.append(air_advice(sc, target, unit, x, y))
                continue
            straight = math.hypot(x - target.x, y - target.y)
            if straight > cfg.max_ground_km * 1e3:
                continue
            kind = "near" if straight <= cfg.near_km * 1e3 else "far"
            f, leg_s = self.field(unit, x, y, kind)
            found = f.to(target.x, target.y)
            if found is None:
                continue
            travel, cells = found[0] + leg_s, found[1]
            pts = route_points(
                f.grid, np.asarray(cells, dtype=np.int64), (x, y), (target.x, target.y)
            )
            lon, lat = sc.frame.to_lonlat(pts[:, 0], pts[:, 1])
            length = float(np.hypot(*np.diff(pts, axis=0).T).sum())
            ready = unit.readiness.mean_s
            route = list(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist(), strict=True))
            out.append(
                Advice(
                    unit.id, unit.kind.value, "ground", ready, travel, ready + travel, length, route
                )
            )
        return sorted(out, key=lambda a: (a.total_s, a.unit_id))

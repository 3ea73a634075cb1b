"""What a scenario holds, in numbers: km per sector and command, barriers, closure, sensors, units.

Barrier kilometres are interval unions: two obstacles on the same kilometre (a trench with a
berm and wire beside it) count once per status, once per kind. A stretch's closure splits its
length by precedence: closed (a built obstacle), else under construction, else planned, else
open, so the four add up to the stretch's length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from limes.scenario.model import Scenario
from limes.scenario.schema import Barrier, BarrierStatus

Interval = tuple[float, float]


def union_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Merge chainage intervals into disjoint, sorted ones."""
    merged: list[list[float]] = []
    for lo, hi in sorted((min(a, b), max(a, b)) for a, b in intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def covered_km(intervals: Iterable[Interval], lo: float = 0.0, hi: float = float("inf")) -> float:
    """Length of the union of intervals within [lo, hi]."""
    total = 0.0
    for a, b in union_intervals(intervals):
        total += max(0.0, min(b, hi) - max(a, lo))
    return total


@dataclass(frozen=True)
class BarrierKm:
    """Kilometres of line with an obstacle, per status (each an interval union)."""

    built: float = 0.0
    under_construction: float = 0.0
    planned: float = 0.0


def barrier_km(barriers: Sequence[Barrier], lo: float, hi: float) -> BarrierKm:
    """Per-status union of barrier intervals within [lo, hi]."""

    def km(status: BarrierStatus) -> float:
        return covered_km(((b.from_km, b.to_km) for b in barriers if b.status is status), lo, hi)

    return BarrierKm(
        km(BarrierStatus.BUILT), km(BarrierStatus.UNDER_CONSTRUCTION), km(BarrierStatus.PLANNED)
    )


@dataclass(frozen=True)
class SectorSummary:
    """One sector: who holds it, who is opposite, what is built and watching there."""

    name: str
    command: str
    far_side: str
    channel: str
    from_km: float
    to_km: float
    barriers: BarrierKm
    barriers_by_kind: dict[str, BarrierKm]
    sensors_by_kind: dict[str, int]

    @property
    def length_km(self) -> float:
        return self.to_km - self.from_km


@dataclass(frozen=True)
class StretchSummary:
    """A named stretch and how much of it is closed; the four figures add up to its length."""

    name: str
    from_km: float
    to_km: float
    closed_km: float
    under_construction_km: float
    planned_km: float
    open_km: float
    note: str = ""

    @property
    def length_km(self) -> float:
        return self.to_km - self.from_km


@dataclass(frozen=True)
class ScenarioSummary:
    """The whole scenario in numbers, for `limes scenario show` and for reports."""

    name: str
    title: str
    length_km: float
    inside_name: str
    outside_name: str
    terrain: str
    sectors: list[SectorSummary]
    km_by_command: dict[str, float]
    barriers: BarrierKm
    barriers_by_kind: dict[str, BarrierKm]
    stretches: list[StretchSummary]
    sensors_by_kind: dict[str, int]
    units_by_kind: dict[str, int]
    roads: int
    places: int
    threats: int
    demonstration_note: str = ""

    def line(self) -> str:
        """The one-line summary `limes scenario validate` prints."""
        sensors = sum(self.sensors_by_kind.values())
        units = sum(self.units_by_kind.values())
        return (
            f"{self.name}: {self.length_km:.1f} km, {len(self.sectors)} sectors, "
            f"{self.barriers.built:.0f} km of built barrier, {sensors} sensors, {units} units"
        )


def summarize(sc: Scenario) -> ScenarioSummary:
    """The summary of a loaded scenario (no terrain is built)."""
    spec = sc.spec
    length = sc.length_km
    kinds = sorted({b.kind.value for b in spec.barriers})
    sensor_kind = [sc.model_of(s).kind.value for s in spec.sensors]
    sensor_sector = _sensor_sectors(sc)

    sectors = []
    for i, sec in enumerate(spec.sectors):
        lo, hi = sec.from_km, sec.to_km
        in_sector = Counter(k for k, j in zip(sensor_kind, sensor_sector, strict=True) if j == i)
        sectors.append(
            SectorSummary(
                name=sec.name,
                command=sec.command,
                far_side=sec.far_side,
                channel=sc.channel_of(sec),
                from_km=lo,
                to_km=hi,
                barriers=barrier_km(spec.barriers, lo, hi),
                barriers_by_kind={k: _kind_km(spec.barriers, k, lo, hi) for k in kinds},
                sensors_by_kind=dict(sorted(in_sector.items())),
            )
        )
    km_by_command: dict[str, float] = {}
    for sec in spec.sectors:
        km_by_command[sec.command] = km_by_command.get(sec.command, 0.0) + sec.to_km - sec.from_km

    return ScenarioSummary(
        name=spec.name,
        title=spec.title,
        length_km=length,
        inside_name=spec.border.inside_name,
        outside_name=spec.border.outside_name,
        terrain=_terrain_text(sc),
        sectors=sectors,
        km_by_command=km_by_command,
        barriers=barrier_km(spec.barriers, 0.0, length),
        barriers_by_kind={k: _kind_km(spec.barriers, k, 0.0, length) for k in kinds},
        stretches=[
            _stretch(spec.barriers, s.name, s.from_km, s.to_km, s.note) for s in spec.stretches
        ],
        sensors_by_kind=dict(sorted(Counter(sensor_kind).items())),
        units_by_kind=dict(sorted(Counter(u.kind.value for u in spec.units).items())),
        roads=len(spec.roads),
        places=len(spec.places),
        threats=len(spec.threats),
        demonstration_note=spec.demonstration_note.strip(),
    )


def _kind_km(barriers: Sequence[Barrier], kind: str, lo: float, hi: float) -> BarrierKm:
    return barrier_km([b for b in barriers if b.kind.value == kind], lo, hi)


def _stretch(
    barriers: Sequence[Barrier], name: str, lo: float, hi: float, note: str
) -> StretchSummary:
    def union(*statuses: BarrierStatus) -> float:
        return covered_km(((b.from_km, b.to_km) for b in barriers if b.status in statuses), lo, hi)

    built = union(BarrierStatus.BUILT)
    started = union(BarrierStatus.BUILT, BarrierStatus.UNDER_CONSTRUCTION)
    any_work = union(*BarrierStatus)
    return StretchSummary(
        name=name,
        from_km=lo,
        to_km=hi,
        closed_km=built,
        under_construction_km=started - built,
        planned_km=any_work - started,
        open_km=(hi - lo) - any_work,
        note=note.strip(),
    )


def _sensor_sectors(sc: Scenario) -> list[int]:
    """Index of the sector each sensor watches: the one holding its nearest point of the line."""
    if not sc.spec.sensors:
        return []
    xy = np.array([sc.position_xy(s.position) for s in sc.spec.sensors])
    chainage, _ = sc.locate(xy[:, 0], xy[:, 1])
    return [int(i) for i in sc.sector_index(chainage)]


def _terrain_text(sc: Scenario) -> str:
    t = sc.spec.terrain
    kind = f"DEM file {t.file}" if t.file is not None else "synthetic"
    return f"{kind} at {t.resolution_m:g} m"

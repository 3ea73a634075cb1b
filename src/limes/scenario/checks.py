"""Checks a scenario needs its geometry for: chainages, distances, references, coverage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import shapely

from limes.scenario.errors import Problem
from limes.scenario.model import Scenario
from limes.scenario.schema import Position
from limes.scenario.sharing import ALL_SECTORS
from limes.scenario.terrain import check_terrain_source

# Chainages may overshoot the measured length by this much: the length depends on the frame,
# and a user copies it from `limes scenario show` rounded to 0.1 km.
CHAINAGE_SLACK_KM = 0.1
# The sectors must reach the end of the line to within this.
SECTOR_END_SLACK_KM = 1.0


def check_scenario(sc: Scenario) -> list[Problem]:
    """Every geometric and referential problem of a scenario, in file order."""
    return [
        *_check_line(sc),
        *_check_unique(sc),
        *_check_sectors(sc),
        *_check_stretches(sc),
        *_check_barriers(sc),
        *_check_sensors(sc),
        *_check_units(sc),
        *check_terrain_source(sc),
        *_check_sharing(sc),
    ]


def _check_line(sc: Scenario) -> Iterator[Problem]:
    if not sc.border.is_simple():
        crossing = shapely.unary_union(sc.border.line)  # noding splits at self-crossings
        n = len(getattr(crossing, "geoms", [crossing]))
        yield Problem(
            "border.line", f"the border line crosses itself (it splits into {n} pieces when noded)"
        )


def _check_unique(sc: Scenario) -> Iterator[Problem]:
    spec = sc.spec
    groups: list[tuple[str, list[str]]] = [
        ("controllers", [c.name for c in spec.controllers]),
        ("sectors", [s.name for s in spec.sectors]),
        ("stretches", [s.name for s in spec.stretches]),
        ("barriers", [b.id for b in spec.barriers]),
        ("sensor_models", [m.name for m in spec.sensor_models]),
        ("sensors", [s.id for s in spec.sensors]),
        ("units", [u.id for u in spec.units]),
        ("threats", [t.name for t in spec.threats]),
    ]
    for where, names in groups:
        for name, count in Counter(names).items():
            if count > 1:
                i = names.index(name, names.index(name) + 1)
                yield Problem(f"{where}[{i}]", f"duplicate name {name!r} ({count} times)", name)


def _check_interval(sc: Scenario, path: str, from_km: float, to_km: float) -> Iterator[Problem]:
    limit = sc.length_km + CHAINAGE_SLACK_KM
    if to_km > limit:
        yield Problem(
            f"{path}.to_km",
            f"chainage beyond the border's length ({sc.length_km:.1f} km)",
            to_km,
        )
    if from_km > limit:
        yield Problem(
            f"{path}.from_km",
            f"chainage beyond the border's length ({sc.length_km:.1f} km)",
            from_km,
        )


def _check_sectors(sc: Scenario) -> Iterator[Problem]:
    sectors = sc.spec.sectors
    for i, s in enumerate(sectors):
        yield from _check_interval(sc, f"sectors[{i}]", s.from_km, s.to_km)
        if s.far_side not in sc.controllers:
            known = ", ".join(sorted(sc.controllers))
            yield Problem(
                f"sectors[{i}].far_side", f"unknown controller (known: {known})", s.far_side
            )
    order = sorted(range(len(sectors)), key=lambda i: sectors[i].from_km)
    if order != list(range(len(sectors))):
        yield Problem("sectors", "sectors must be listed in chainage order")
        return
    if sectors[0].from_km > 0:
        yield Problem(
            "sectors[0].from_km",
            "gap: the first sector must start at km 0",
            sectors[0].from_km,
        )
    for i in range(1, len(sectors)):
        prev, cur = sectors[i - 1], sectors[i]
        if cur.from_km < prev.to_km:
            yield Problem(
                f"sectors[{i}].from_km",
                f"overlaps sector {prev.name!r}, which ends at km {prev.to_km}",
                cur.from_km,
            )
        elif cur.from_km > prev.to_km:
            yield Problem(
                f"sectors[{i}].from_km",
                f"gap: km {prev.to_km}–{cur.from_km} after sector {prev.name!r} is held by no one",
                cur.from_km,
            )
    last = sectors[-1]
    if last.to_km < sc.length_km - SECTOR_END_SLACK_KM:
        yield Problem(
            f"sectors[{len(sectors) - 1}].to_km",
            f"gap: the sectors end before the border does ({sc.length_km:.1f} km)",
            last.to_km,
        )


def _check_stretches(sc: Scenario) -> Iterator[Problem]:
    for i, s in enumerate(sc.spec.stretches):
        yield from _check_interval(sc, f"stretches[{i}]", s.from_km, s.to_km)


def _check_barriers(sc: Scenario) -> Iterator[Problem]:
    for i, b in enumerate(sc.spec.barriers):
        yield from _check_interval(sc, f"barriers[{i}]", b.from_km, b.to_km)
        limit = sc.spec.strip.outside_m if b.offset_m < 0 else sc.spec.strip.inside_m
        if abs(b.offset_m) > limit:
            yield Problem(
                f"barriers[{i}].offset_m",
                f"barrier lies outside the analysed strip (±{limit:.0f} m on that side)",
                b.offset_m,
            )


def _check_position(sc: Scenario, path: str, pos: Position, max_m: float) -> Iterator[Problem]:
    if pos.chainage_km is not None and pos.chainage_km > sc.length_km + CHAINAGE_SLACK_KM:
        yield Problem(
            f"{path}.chainage_km",
            f"chainage beyond the border's length ({sc.length_km:.1f} km)",
            pos.chainage_km,
        )
        return
    x, y = sc.position_xy(pos)
    _, off = sc.locate(x, y)
    dist = float(np.abs(off))
    if dist > max_m:
        yield Problem(
            path,
            f"{dist / 1000:.1f} km from the border line; the limit is {max_m / 1000:.1f} km "
            "(strip.max_sensor_distance_m)",
            pos.model_dump(exclude_none=True),
        )


def _check_sensors(sc: Scenario) -> Iterator[Problem]:
    max_m = sc.spec.strip.max_sensor_distance_m
    for i, s in enumerate(sc.spec.sensors):
        if s.model not in sc.sensor_models:
            known = ", ".join(sorted(sc.sensor_models)) or "none defined"
            yield Problem(f"sensors[{i}].model", f"unknown sensor model (known: {known})", s.model)
        if s.owner_unit is not None and s.owner_unit not in sc.units:
            yield Problem(f"sensors[{i}].owner_unit", "unknown unit", s.owner_unit)
        yield from _check_position(sc, f"sensors[{i}].position", s.position, max_m)


def _check_units(sc: Scenario) -> Iterator[Problem]:
    # Units sit at barracks behind the line; allow twice the sensor limit before calling it wrong.
    max_m = 2 * sc.spec.strip.max_sensor_distance_m
    for i, u in enumerate(sc.spec.units):
        yield from _check_position(sc, f"units[{i}].base", u.base, max_m)


def _check_sharing(sc: Scenario) -> Iterator[Problem]:
    names = {s.name for s in sc.spec.sectors} | {ALL_SECTORS}
    for i, partner in enumerate(sc.spec.sharing.partners):
        for j, rule in enumerate(partner.rules):
            for k, sector in enumerate(rule.sectors):
                if sector not in names:
                    yield Problem(
                        f"sharing.partners.{i}.rules.{j}.sectors.{k}",
                        f"no sector of that name (sectors: {', '.join(sorted(names))})",
                        sector,
                    )

"""The served scenario: summary, map layers, sensors."""

from __future__ import annotations

from typing import Annotated

import shapely
from fastapi import APIRouter, Depends

from limes.api.auth import Permission, require
from limes.api.errors import responses
from limes.api.models import FeatureCollection, GeoFeature, ScenarioOut, SectorInfo, SensorOut
from limes.api.routes.common import scenario
from limes.scenario.export import scenario_features
from limes.scenario.model import Scenario
from limes.store.users import Principal

router = APIRouter(tags=["scenario"])
Reader = Annotated[Principal, Depends(require(Permission.READ))]
Loaded = Annotated[Scenario, Depends(scenario)]


def sector_infos(sc: Scenario) -> list[SectorInfo]:
    """The scenario's sectors with their resolved channel."""
    return [
        SectorInfo(
            name=s.name,
            command=s.command,
            far_side=s.far_side,
            channel=sc.channel_of(s),
            from_km=s.from_km,
            to_km=s.to_km,
        )
        for s in sc.spec.sectors
    ]


@router.get("/scenario", response_model=ScenarioOut, responses=responses(401, 403, 404))
def get_scenario(_: Reader, sc: Loaded) -> ScenarioOut:
    """The scenario in numbers, with its sectors."""
    spec = sc.spec
    return ScenarioOut(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        demonstration_note=spec.demonstration_note,
        length_km=sc.length_km,
        sectors=sector_infos(sc),
        sensors=len(spec.sensors),
        units=len(spec.units),
        barriers=len(spec.barriers),
    )


@router.get(
    "/scenario/layers", response_model=FeatureCollection, responses=responses(401, 403, 404)
)
def get_layers(_: Reader, sc: Loaded) -> FeatureCollection:
    """Every map layer of the scenario as one GeoJSON FeatureCollection (WGS84 lon/lat); each
    feature's `layer` property names its layer (border, sector, barrier, sensor, unit, ...)."""
    features = [
        GeoFeature(
            geometry=shapely.geometry.mapping(f.geometry),
            properties={"layer": f.layer, **f.properties},
        )
        for f in scenario_features(sc)
    ]
    return FeatureCollection(name=sc.name, features=features)


@router.get("/sensors", response_model=list[SensorOut], responses=responses(401, 403, 404))
def list_sensors(_: Reader, sc: Loaded) -> list[SensorOut]:
    """The scenario's sensors (a bounded list: no paging)."""
    out = []
    for s in sc.spec.sensors:
        lon, lat = sc.position_lonlat(s.position)
        out.append(
            SensorOut(
                id=s.id,
                model=s.model,
                kind=sc.model_of(s).kind.value,
                lon=lon,
                lat=lat,
                heading_deg=s.heading_deg,
                status=s.status.value,
                label=s.label,
            )
        )
    return out

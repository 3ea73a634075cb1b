"""The scenario file format: pydantic models, one per concept, units in every field name.

The YAML a user writes is validated against these models first (types, ranges, unknown fields);
checks that need geometry (chainage beyond the line, a sensor far from the border, sectors that
overlap) run afterwards in `scenario.checks`. Both report errors by field path.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from limes.scenario.sharing import Sharing

NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]


class Model(BaseModel):
    """Base for every scenario record: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


# --- vocabularies ---------------------------------------------------------------------------


class Side(StrEnum):
    """Which side of the line, walking it from its first vertex, is inside (ours)."""

    LEFT = "left"
    RIGHT = "right"


class Mode(StrEnum):
    """How an adversary moves."""

    FOOT = "foot"
    VEHICLE = "vehicle"


class TargetClassName(StrEnum):
    """Target classes a sensor's detection law is written for."""

    PERSON = "person"
    VEHICLE = "vehicle"


class Light(StrEnum):
    """Light condition: the detection laws differ by day and by night."""

    DAY = "day"
    NIGHT = "night"


class BarrierKind(StrEnum):
    TRENCH = "trench"
    BERM = "berm"
    FENCE = "fence"
    WALL = "wall"
    WIRE = "wire"
    DITCH = "ditch"


class BarrierStatus(StrEnum):
    BUILT = "built"
    UNDER_CONSTRUCTION = "under_construction"
    PLANNED = "planned"


class SensorKind(StrEnum):
    DAY_CAMERA = "day_camera"
    THERMAL_CAMERA = "thermal_camera"
    RADAR = "radar"
    AEROSTAT = "aerostat"
    OBSERVATION_POST = "observation_post"
    GROUND_SENSOR = "ground_sensor"


class UnitKind(StrEnum):
    PATROL = "patrol"
    QRF = "qrf"
    HELICOPTER = "helicopter"


class RoadKind(StrEnum):
    PAVED = "paved"
    TRACK = "track"
    PATROL_ROAD = "patrol_road"


class Knowledge(StrEnum):
    """How much the adversary knows of the defences when choosing where to cross."""

    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


class LightPreference(StrEnum):
    DAY = "day"
    NIGHT = "night"
    ANY = "any"


class Stance(StrEnum):
    """How the watch floor should regard a threat profile: refugees are not enemies."""

    HOSTILE = "hostile"
    SUSPECT = "suspect"
    HUMANITARIAN = "humanitarian"
    NUISANCE = "nuisance"


# --- shared records -------------------------------------------------------------------------


class Spread(Model):
    """A duration with its spread: mean and standard deviation in seconds."""

    mean_s: NonNeg
    sd_s: NonNeg = 0.0


class Position(Model):
    """A place given either as lon/lat (WGS84) or as chainage along the line and offset from it.

    Offset is signed metres, positive inside. Exactly one of the two forms must be given.
    """

    lon: Lon | None = None
    lat: Lat | None = None
    chainage_km: NonNeg | None = None
    offset_m: float | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        geo = self.lon is not None or self.lat is not None
        line = self.chainage_km is not None or self.offset_m is not None
        if geo and line:
            raise ValueError("give either lon/lat or chainage_km/offset_m, not both")
        if geo and (self.lon is None or self.lat is None):
            raise ValueError("lon and lat must both be given")
        if line and self.chainage_km is None:
            raise ValueError("chainage_km is required with offset_m")
        if not geo and not line:
            raise ValueError("a position needs lon/lat or chainage_km (+ offset_m)")
        return self


class Interval(Model):
    """A chainage interval along the line, in km from its first vertex."""

    from_km: NonNeg
    to_km: NonNeg

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.to_km <= self.from_km:
            raise ValueError(f"to_km ({self.to_km}) must be greater than from_km ({self.from_km})")
        return self


# --- the line, its strip and frame ----------------------------------------------------------


class Border(Model):
    """The border line and which side is ours."""

    name: str = "border"
    line: list[tuple[Lon, Lat]] | None = Field(default=None, description="lon/lat vertices")
    line_file: str | None = Field(default=None, description="GeoJSON with one LineString")
    inside: Side
    inside_name: str = "inside"
    outside_name: str = "outside"

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.line is None) == (self.line_file is None):
            raise ValueError("give exactly one of line (vertices) or line_file (GeoJSON)")
        if self.line is not None and len(self.line) < 2:
            raise ValueError("a border line needs at least two vertices")
        return self


class Strip(Model):
    """The band around the line that is analysed: from `outside_m` out to `inside_m` in (goal)."""

    outside_m: Positive = 5000.0
    inside_m: Positive = 5000.0
    max_sensor_distance_m: Positive = Field(
        default=40000.0, description="sensors farther than this from the line are an error"
    )
    lateral_m: NonNeg = Field(
        default=1000.0,
        description="how far along the line (m of chainage) a crossing of one km may stray "
        "beyond its ends in the assessment",
    )


class FrameSpec(Model):
    """The local metric frame: default a transverse Mercator centred on the line."""

    crs: str | None = None


# --- terrain --------------------------------------------------------------------------------


class FeatureKind(StrEnum):
    RIDGE = "ridge"
    HILL = "hill"
    VALLEY = "valley"
    WADI = "wadi"
    RIVER = "river"
    PLAIN = "plain"


class TerrainFeature(Model):
    """A named landform of a synthetic terrain.

    Ridges and hills raise the ground, valleys, wadis and rivers cut into it, plains flatten it.
    A linear feature follows `path` (lon/lat vertices); a round one sits at `centre`.
    """

    name: str
    kind: FeatureKind
    path: list[tuple[Lon, Lat]] | None = None
    centre: tuple[Lon, Lat] | None = None
    width_m: Positive
    height_m: float = Field(description="relief: positive up, the depth of a cut for valleys")

    @model_validator(mode="after")
    def _has_place(self) -> Self:
        if (self.path is None) == (self.centre is None):
            raise ValueError("give exactly one of path (linear feature) or centre (round feature)")
        if self.path is not None and len(self.path) < 2:
            raise ValueError("a path needs at least two vertices")
        return self


class SyntheticTerrain(Model):
    """A deterministic terrain for offline use: base plane, seeded roughness, named features."""

    seed: int = 0
    base_elevation_m: float = 200.0
    slope_m_per_km: tuple[float, float] = Field(
        default=(0.0, 0.0), description="regional tilt: metres per km toward +x and +y"
    )
    roughness_m: NonNeg = Field(
        default=10.0, description="amplitude of the coarsest octave of roughness, metres"
    )
    roughness_scale_m: Positive = Field(
        default=2000.0, description="cell size of the coarsest octave of roughness, metres"
    )
    octaves: Annotated[int, Field(ge=0, le=12)] = Field(
        default=4, description="octaves of roughness, each half the size and amplitude"
    )
    features: list[TerrainFeature] = Field(default_factory=list)


class Terrain(Model):
    """A DEM file (GeoTIFF, any CRS) or a synthetic terrain."""

    file: str | None = None
    synthetic: SyntheticTerrain | None = None
    resolution_m: Positive = Field(default=100.0, description="grid the terrain is built on")
    note: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.file is None) == (self.synthetic is None):
            raise ValueError("give exactly one of file (GeoTIFF DEM) or synthetic")
        return self


# --- who holds what -------------------------------------------------------------------------


class Controller(Model):
    """Who controls the far side of a stretch, and how to reach them."""

    name: str
    description: str = ""
    channel: str = Field(description="how the holding command reaches them")
    releasability: list[str] = Field(default_factory=list)


class Sector(Interval):
    """A chainage interval held by one command, facing one far-side controller."""

    name: str
    command: str
    force: str = ""
    far_side: str = Field(description="name of a controller")
    channel: str | None = Field(
        default=None, description="coordination channel; defaults to the controller's"
    )
    response_goal_min: Positive | None = Field(
        default=None,
        description="minutes from detection within which a unit should reach any point of "
        "the sector's line (a standard the command sets; `scenario validate` checks the units "
        "against it)",
    )


class Stretch(Interval):
    """A named chainage interval worth reporting on, e.g. a vulnerable section to be closed."""

    name: str
    note: str = ""


# --- barriers -------------------------------------------------------------------------------


class Barrier(Interval):
    """An obstacle along a chainage interval: trench, berm, fence, wall, wire, ditch."""

    id: str
    kind: BarrierKind
    offset_m: float = Field(default=0.0, description="signed metres from the line, + inside")
    status: BarrierStatus = BarrierStatus.BUILT
    progress_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    delay: dict[Mode, Spread] = Field(description="time to cross per adversary mode")
    blocks_vehicles: bool = False
    breach: Spread | None = Field(
        default=None, description="time for a vehicle party to breach it, if it blocks vehicles"
    )
    as_of: date | None = Field(
        default=None, description="the date its status (and progress) was last confirmed"
    )
    due: date | None = Field(
        default=None, description="when a planned or unfinished barrier is expected to stand"
    )
    note: str = ""

    @model_validator(mode="after")
    def _status(self) -> Self:
        if self.status is BarrierStatus.UNDER_CONSTRUCTION and self.progress_pct is None:
            raise ValueError("an under_construction barrier needs progress_pct")
        if self.status is not BarrierStatus.UNDER_CONSTRUCTION and self.progress_pct is not None:
            raise ValueError("progress_pct is only for under_construction barriers")
        if Mode.FOOT not in self.delay:
            raise ValueError("delay must give at least the foot crossing time")
        return self


# --- sensors --------------------------------------------------------------------------------


class DetectionLaw(Model):
    """How well a sensor detects one target class in one light.

    Hazard (detections per second of exposure) is `hazard_per_s` at the sensor and falls with
    range by `falloff` to zero at `range_m`; see `sensing.detection_law` for the exact form.
    """

    range_m: Positive
    hazard_per_s: NonNeg
    falloff: Literal["constant", "linear", "quadratic"] = "quadratic"
    false_alarm_per_h: NonNeg = 0.0
    position_sd_m: Positive = 25.0


class SensorModel(Model):
    """A reusable sensor type: its laws per target class and light, written once in the file."""

    name: str
    kind: SensorKind
    mast_height_m: NonNeg = 10.0
    fov_deg: Annotated[float, Field(gt=0, le=360)] = 360.0
    laws: dict[TargetClassName, dict[Light, DetectionLaw]]
    latency: Spread = Spread(mean_s=2.0, sd_s=1.0)
    report_interval_s: Positive = Field(
        default=5.0,
        description="one target is reported at most once per this interval (a ground "
        "sensor's re-arm, an operator's next report): the report rate of a target in view "
        "saturates at 1/interval however strong the detection",
    )


class Sensor(Model):
    """One sensor in the field: where it is, which way it looks, which model it is."""

    id: str
    model: str = Field(description="name of a sensor model")
    position: Position
    mast_height_m: NonNeg | None = Field(default=None, description="overrides the model's")
    heading_deg: Annotated[float, Field(ge=0, lt=360)] = 0.0
    fov_deg: Annotated[float, Field(gt=0, le=360)] | None = None
    owner_unit: str | None = None
    status: BarrierStatus = BarrierStatus.BUILT
    label: str = ""


# --- units and roads ------------------------------------------------------------------------


class Speeds(Model):
    """Travel speeds of a response unit, km/h (None where it cannot move that way)."""

    road_kmh: Positive | None = None
    off_road_kmh: Positive | None = None
    air_kmh: Positive | None = None

    @model_validator(mode="after")
    def _some(self) -> Self:
        if self.road_kmh is None and self.off_road_kmh is None and self.air_kmh is None:
            raise ValueError("a unit needs at least one speed")
        return self


class Unit(Model):
    """A response unit: patrol, quick-reaction force, helicopter."""

    id: str
    kind: UnitKind
    base: Position
    readiness: Spread
    speeds: Speeds
    available: bool = True
    strength: int = Field(default=8, ge=1)
    label: str = ""


class Road(Model):
    """A road or track units can drive fast on (and vehicles can use to cross)."""

    name: str
    kind: RoadKind = RoadKind.TRACK
    path: list[tuple[Lon, Lat]] = Field(min_length=2)


class Place(Model):
    """A named place for labels and the gazetteer."""

    name: str
    side: Literal["inside", "outside"]
    lon: Lon
    lat: Lat
    kind: str = "town"


# --- adversaries, response, rules -----------------------------------------------------------


class ThreatProfile(Model):
    """Who tries to cross and how: mode, speed, group size, light preference, knowledge."""

    name: str
    mode: Mode
    stance: Stance = Stance.HOSTILE
    speed_kmh: Positive
    group_size: tuple[int, int] = (1, 1)
    light_preference: LightPreference = LightPreference.ANY
    knowledge: Knowledge = Knowledge.NONE
    share: NonNeg = Field(default=1.0, description="relative frequency in exercises")

    @model_validator(mode="after")
    def _group(self) -> Self:
        lo, hi = self.group_size
        if lo < 1 or hi < lo:
            raise ValueError(f"group_size must be [min, max] with 1 ≤ min ≤ max, got {[lo, hi]}")
        return self


class Movement(Model):
    """How adversaries move over the ground, per mode."""

    foot_flat_kmh: Positive = Field(default=5.0, description="Tobler's peak scaled to this")
    vehicle_off_road_kmh: Positive = 30.0
    vehicle_road_kmh: Positive = 60.0
    vehicle_max_slope_deg: Positive = 20.0
    vehicle_speed_at_max_slope: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.5,
        description="fraction of the off-road speed a vehicle keeps at the maximum slope "
        "(slowing linearly from flat ground)",
    )


class Response(Model):
    """What happens between a detection and a unit moving."""

    alert_handling: Spread = Spread(mean_s=120.0, sd_s=60.0)
    target_heights_m: dict[TargetClassName, Positive] = Field(
        default_factory=lambda: {TargetClassName.PERSON: 1.7, TargetClassName.VEHICLE: 2.5}
    )
    refraction_k: Annotated[float, Field(ge=0, lt=1)] = 0.13


class Patrols(Model):
    """How patrols fare and when they go: the figures the patrol game (`analysis.patrols`)
    takes from the world. A day is split into `windows` equal time windows from
    `first_window_h`; a patrol is on one stretch for one window."""

    catch_p: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.6,
        description="chance that a patrol on a stretch in its time window catches a crossing "
        "there (the default is an invented figure: set the force's own)",
    )
    windows: Annotated[int, Field(ge=1, le=24)] = Field(
        default=2, description="time windows a day, of equal length, a patrol is scheduled in"
    )
    first_window_h: Annotated[float, Field(ge=0, lt=24)] = Field(
        default=18.0,
        description="local solar hour the first window starts (the default two windows are "
        "night 18–06 and day 06–18)",
    )

    def window_of(self, solar_hour: float) -> int:
        """The window (0-based) a local solar hour falls in."""
        span = 24.0 / self.windows
        return int(((solar_hour - self.first_window_h) % 24.0) // span) % self.windows


class Rules(Model):
    """Alert thresholds of the live pipeline."""

    crossing_imminent_min: Positive = 10.0
    approach_zone_m: Positive = 3000.0
    intrusion_depth_m: Positive = 5000.0
    loiter_s: Positive = 300.0
    loiter_radius_m: Positive = 150.0
    barrier_proximity_m: Positive = 200.0
    imminent_sigma: NonNeg = Field(
        default=2.0,
        description="crossing imminent only when the closing speed exceeds this many standard "
        "deviations of its estimate (a wandering track's course is not evidence)",
    )
    night_imminent_sigma: NonNeg | None = Field(
        default=None,
        description="the closing certainty (as imminent_sigma) the approach and crossing-"
        "imminent rules ask for at night, local solar time outside day_hours: a zone armed "
        "more tightly by night, where no one has a reason to walk at the line (none: "
        "imminent_sigma at all hours)",
    )
    day_hours: tuple[float, float] = Field(
        default=(6.0, 18.0), description="local solar hours [start, end) that count as day"
    )

    @field_validator("day_hours")
    @classmethod
    def _day_within_a_day(cls, hours: tuple[float, float]) -> tuple[float, float]:
        start, end = hours
        if not 0.0 <= start < end <= 24.0:
            raise ValueError(
                f"day_hours must be [start, end) with 0 <= start < end <= 24, got {list(hours)}"
            )
        return hours

    imminent_max_animal_p: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.5, description="no crossing-imminent alert on a track this likely an animal"
    )
    group_radius_m: NonNeg = Field(
        default=1500.0,
        description="alerts this close (and within group_window_s) share an incident",
    )
    group_window_s: NonNeg = Field(
        default=1800.0, description="how long an incident takes alerts of other tracks near it"
    )
    credible_report_odds: Positive = Field(
        default=4.0,
        description="a track not yet confirmed raises an intrusion alert at once when its odds "
        "of being real reach this: one report declaring confidence c gives c / (1 − c), so 4 "
        "is one report at 0.8 (intrusion only: inside the line, where no one should be)",
    )
    handover_m: NonNeg = Field(
        default=1000.0,
        description="hand-off band between sectors tracked in separate worker processes (m of "
        "chainage): a detection this close to a neighbouring sector is tracked there too, so "
        "the track is confirmed before the target crosses; wider than the distance a target "
        "covers while its track is confirmed",
    )


# --- the whole ------------------------------------------------------------------------------


class ScenarioSpec(Model):
    """A whole scenario file, validated field by field."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    description: str = ""
    demonstration_note: str = Field(
        default="", description="says which positions are invented for demonstration"
    )
    border: Border
    strip: Strip = Strip()
    frame: FrameSpec = FrameSpec()
    terrain: Terrain
    controllers: list[Controller] = Field(min_length=1)
    sectors: list[Sector] = Field(min_length=1)
    stretches: list[Stretch] = Field(default_factory=list)
    barriers: list[Barrier] = Field(default_factory=list)
    sensor_models: list[SensorModel] = Field(default_factory=list)
    sensors: list[Sensor] = Field(default_factory=list)
    units: list[Unit] = Field(default_factory=list)
    roads: list[Road] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)
    threats: list[ThreatProfile] = Field(default_factory=list)
    movement: Movement = Movement()
    response: Response = Response()
    patrols: Patrols = Field(
        default_factory=Patrols, description="how patrols fare and when they go (patrol game)"
    )
    rules: Rules = Rules()
    sharing: Sharing = Field(
        default_factory=Sharing, description="partners and what each may receive"
    )

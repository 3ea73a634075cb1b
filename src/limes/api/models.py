"""The API's request and response bodies (pydantic); every route answers one of these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from limes.geo.position import mgrs_of
from limes.ops.alert import Rule, Severity
from limes.ops.incidents import (
    ImpactLevel,
    IncidentAction,
    IncidentState,
    Outcome,
    allowed_actions,
    allowed_outcomes,
)
from limes.store.units import UnitStatus
from limes.store.users import NAME_PATTERN, Role

T = TypeVar("T")


class Out(BaseModel):
    """Base of response bodies: built from store rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """Base of request bodies: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class Positioned(Out):
    """A body with a WGS84 position, also given as MGRS (what a patrol is sent to)."""

    lon: float
    lat: float

    @computed_field(description="MGRS grid reference of lon/lat, 1 m precision")  # type: ignore[prop-decorator]
    @property
    def mgrs(self) -> str:
        return mgrs_of(self.lon, self.lat)


class Page(Out, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` for the next (None: no more)."""

    items: list[T]
    next_cursor: str | None


class Health(Out):
    status: Literal["ok"] = "ok"


class Ready(Out):
    ready: bool
    database: bool
    schema_current: bool
    scenario: str | None
    reason: str | None = None  # why not ready, in words (e.g. the store is failing)


# --- scenario -------------------------------------------------------------------------------


class SectorInfo(Out):
    name: str
    command: str
    far_side: str
    channel: str
    from_km: float
    to_km: float


class ScenarioOut(Out):
    name: str
    title: str
    description: str
    demonstration_note: str
    length_km: float
    sectors: list[SectorInfo]
    sensors: int
    units: int
    barriers: int


class GeoFeature(Out):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: dict[str, Any]


class FeatureCollection(Out):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    name: str
    features: list[GeoFeature]


class SensorOut(Out):
    id: str
    model: str
    kind: str
    lon: float
    lat: float
    heading_deg: float
    status: str
    label: str


# --- units ----------------------------------------------------------------------------------


class UnitOut(Out):
    id: str
    kind: str
    label: str
    base_lon: float
    base_lat: float
    available: bool
    status: UnitStatus | None = Field(description="last reported status (None: no report yet)")
    lon: float | None
    lat: float | None
    reported: datetime | None
    incident_id: int | None = Field(description="the incident it is dispatched to, if any")


class UnitReportIn(In):
    status: UnitStatus
    time: datetime | None = Field(None, description="when observed (default: now); with zone")
    # Strict: a number, never `true` or `"41.0"` (a unit's position is not guessed).
    lon: float | None = Field(None, ge=-180, le=180, strict=True, allow_inf_nan=False)
    lat: float | None = Field(None, ge=-90, le=90, strict=True, allow_inf_nan=False)


# --- tracks, alerts -------------------------------------------------------------------------


class TrackOut(Positioned):
    track_id: str
    time: datetime
    x: float
    y: float
    vx: float
    vy: float
    covariance: list[float]
    target_class: str
    class_probabilities: dict[str, float]
    group_size: int | None
    status: str
    hits: int
    misses: int
    sensors: list[str]


class TrackPointOut(Out):
    id: int
    time: datetime
    lon: float
    lat: float
    x: float
    y: float
    vx: float
    vy: float
    position_sd_m: float
    target_class: str
    group_size: int | None
    status: str


class AlertOut(Positioned):
    id: int
    alert_id: str
    rule: Rule
    track_id: str
    time: datetime
    target_class: str
    group_size: int | None
    chainage_km: float
    offset_m: float
    sector: str
    command: str
    far_side: str
    channel: str
    severity: Severity
    eta_s: float | None
    p_interruption: float | None
    barrier_id: str | None
    detail: str
    incident_id: int | None


# --- incidents ------------------------------------------------------------------------------


class IncidentOut(Positioned):
    id: int
    track_id: str
    sector: str
    state: IncidentState
    outcome: Outcome | None
    severity: Severity
    opened: datetime
    updated: datetime
    resolved: datetime | None
    unit_id: str | None
    alert_count: int
    chainage_km: float | None = Field(None, description="of its latest alert")
    rule: Rule | None = Field(None, description="of its latest alert")
    target_class: str | None = Field(None, description="of its latest alert")
    group_size: int | None = Field(None, description="of its latest alert")

    @computed_field(description="what may be done now (the server's transition table)")  # type: ignore[prop-decorator]
    @property
    def actions(self) -> list[IncidentAction]:
        return allowed_actions(self.state)

    @computed_field(description="outcomes a resolve accepts now; none is assumed")  # type: ignore[prop-decorator]
    @property
    def outcomes(self) -> list[Outcome]:
        return allowed_outcomes(self.state)


class IncidentEventOut(Out):
    id: int
    time: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str
    data: dict[str, Any]


class DispatchOut(Out):
    id: int
    unit_id: str
    ordered: datetime
    ordered_by: str
    ended: datetime | None
    end_reason: str | None


class IncidentDetail(IncidentOut):
    events: list[IncidentEventOut]
    alerts: list[AlertOut]
    dispatches: list[DispatchOut]


class TransitionIn(In):
    action: IncidentAction
    unit_id: str | None = Field(None, max_length=64, description="for assign: the unit sent")
    outcome: Outcome | None = Field(None, description="for resolve: how it ended")
    note: str = Field("", max_length=4000)


class NoteIn(In):
    note: str = Field(min_length=1, max_length=4000)


IncidentRef = Annotated[int, Field(ge=1, le=2**62)]


class AcknowledgeIn(In):
    ids: list[IncidentRef] = Field(
        min_length=1, max_length=500, description="incidents to acknowledge"
    )
    note: str = Field("", max_length=4000)


class AcknowledgeOut(Out):
    acknowledged: list[int]
    refused: dict[int, str] = Field(description="incident id -> why it was not acknowledged")


class MergeIn(In):
    ids: list[IncidentRef] = Field(
        min_length=1, max_length=500, description="open incidents folded into this one"
    )
    note: str = Field("", max_length=4000)


class WorkflowStateOut(Out):
    actions: dict[IncidentAction, IncidentState] = Field(description="action -> next state")
    outcomes: list[Outcome] = Field(description="outcomes a resolve accepts from this state")


class SectorOut(Out):
    name: str
    command: str | None
    level: ImpactLevel = Field(description="effective: the commander's level, raised by incidents")
    set_level: ImpactLevel = Field(description="the level a commander set")
    set_by: str | None
    set_at: datetime | None
    note: str
    open_incidents: int


class ImpactIn(In):
    level: ImpactLevel
    note: str = Field("", max_length=4000)


# --- dead letters, changes, audit -----------------------------------------------------------


class DeadLetterOut(Out):
    id: int
    reason: str
    detail: str
    source: str
    received: datetime
    item: int | None
    sensor_id: str | None
    payload_text: str = Field(description="the payload as UTF-8 (undecodable bytes replaced)")
    payload_size: int


class ChangeOut(Out):
    id: int
    time: datetime
    kind: str
    payload: dict[str, Any]


class ChangesOut(Out):
    changes: list[ChangeOut]
    cursor: int = Field(description="pass as cursor next time")
    oldest: int = Field(description="oldest change id still kept")
    reset: bool = Field(
        description="true when changes after the given cursor were already deleted: reload"
    )


class AuditOut(Out):
    id: int
    time: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


# --- users ----------------------------------------------------------------------------------


class UserIn(In):
    name: str = Field(pattern=NAME_PATTERN.pattern)
    role: Role
    speaks_for: list[str] = Field(
        default_factory=list, max_length=1000, description="sensor role: sensor/unit ids"
    )


class TokenOut(Out):
    id: int
    created: datetime
    revoked: datetime | None


class UserOut(Out):
    id: int
    name: str
    role: Role
    speaks_for: list[str]
    created: datetime
    tokens: list[TokenOut]


class IssuedToken(Out):
    user: str
    token_id: int
    token: str = Field(description="the secret: shown once, never stored")


class IngestErrorOut(Out):
    item: int | None
    reason: str
    detail: str


class IngestResultOut(Out):
    accepted: int
    duplicates: int
    rejected: int
    errors: list[IngestErrorOut]

"""The database schema: one table per stored concept (SQLAlchemy 2 declarative models).

Positions are stored as WGS84 lon/lat columns on every dialect; where PostgreSQL has PostGIS,
the migration adds a generated `geom` point column beside them (see `migrations`). Times are
UTC, timezone-aware on the way in and out whatever the dialect stores.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import BYTEA, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Integer on SQLite makes the column an alias of ROWID (auto-increment); BIGINT on PostgreSQL.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")
Blob = LargeBinary().with_variant(BYTEA(), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every dialect (SQLite keeps no zone; we put UTC back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every limes table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: Json,
        list[Any]: Json,
    }


class DetectionRow(Base):
    """One accepted detection (append-only; a redelivered (sensor_id, seq) is stored once)."""

    __tablename__ = "detections"
    __table_args__ = (
        UniqueConstraint("sensor_id", "seq"),
        Index(None, "time"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sensor_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    time: Mapped[datetime]
    received: Mapped[datetime | None]
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    var_xx: Mapped[float] = mapped_column(Float)
    var_xy: Mapped[float] = mapped_column(Float)
    var_yy: Mapped[float] = mapped_column(Float)
    target_class: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    group_size: Mapped[int | None] = mapped_column(Integer)
    late: Mapped[bool] = mapped_column(Boolean)


class DeadLetterRow(Base):
    """One rejected report or message, kept with its bytes so nothing sent is lost."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index(None, "received"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    received: Mapped[datetime]
    payload: Mapped[bytes] = mapped_column(Blob)
    item: Mapped[int | None] = mapped_column(Integer)
    sensor_id: Mapped[str | None] = mapped_column(String(64))


class TrackRow(Base):
    """The current state of one track (upserted; an older state never overwrites a newer)."""

    __tablename__ = "tracks"
    __table_args__ = (Index(None, "status"),)

    track_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    time: Mapped[datetime]
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    vx: Mapped[float] = mapped_column(Float)
    vy: Mapped[float] = mapped_column(Float)
    covariance: Mapped[list[Any]]
    target_class: Mapped[str] = mapped_column(String(16))
    class_probabilities: Mapped[dict[str, Any]]
    group_size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    hits: Mapped[int] = mapped_column(Integer)
    misses: Mapped[int] = mapped_column(Integer)
    sensors: Mapped[list[Any]]


class TrackHistoryRow(Base):
    """One past state of a track (append-only; one row per track and time)."""

    __tablename__ = "track_history"
    __table_args__ = (UniqueConstraint("track_id", "time"), Index(None, "time"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    track_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime]
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    vx: Mapped[float] = mapped_column(Float)
    vy: Mapped[float] = mapped_column(Float)
    position_sd_m: Mapped[float] = mapped_column(Float)
    target_class: Mapped[str] = mapped_column(String(16))
    group_size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))


class IncidentRow(Base):
    """The human workflow around the alerts of one track: state, outcome, who holds it."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index(None, "sector", "state"),
        # At most one open incident per track: later alerts on the track join it.
        Index(
            "uq_incidents_open_track",
            "track_id",
            unique=True,
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    track_id: Mapped[str] = mapped_column(String(64))
    sector: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    opened: Mapped[datetime]
    updated: Mapped[datetime]
    resolved: Mapped[datetime | None]
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    unit_id: Mapped[str | None] = mapped_column(String(64))
    alert_count: Mapped[int] = mapped_column(Integer)


class AlertRow(Base):
    """One alert, stored once by its deterministic id, linked to the incident it opened/joined."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "sector", "time"), Index(None, "track_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(128), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    track_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime]
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    target_class: Mapped[str] = mapped_column(String(16))
    group_size: Mapped[int | None] = mapped_column(Integer)
    chainage_km: Mapped[float] = mapped_column(Float)
    offset_m: Mapped[float] = mapped_column(Float)
    sector: Mapped[str] = mapped_column(String(100))
    command: Mapped[str] = mapped_column(String(200))
    far_side: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    eta_s: Mapped[float | None] = mapped_column(Float)
    p_interruption: Mapped[float | None] = mapped_column(Float)
    barrier_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))


class IncidentEventRow(Base):
    """One thing that happened to an incident: opened, alert joined, transition, note."""

    __tablename__ = "incident_events"
    __table_args__ = (Index(None, "incident_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]


class SectorRow(Base):
    """A sector's EUROSUR impact level: the commander's floor and the effective level."""

    __tablename__ = "sectors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    set_level: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    set_by: Mapped[str | None] = mapped_column(String(64))
    set_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text)
    updated: Mapped[datetime]


class UnitRow(Base):
    """A response unit's latest reported status and position."""

    __tablename__ = "units"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    time: Mapped[datetime]
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    reported_by: Mapped[str] = mapped_column(String(64))


class UnitReportRow(Base):
    """Every status/position report of a unit (append-only)."""

    __tablename__ = "unit_reports"
    __table_args__ = (Index(None, "unit_id", "time"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    reported_by: Mapped[str] = mapped_column(String(64))


class DispatchRow(Base):
    """A unit sent to an incident, from the assignment until the incident is resolved."""

    __tablename__ = "dispatches"
    __table_args__ = (Index(None, "incident_id"), Index(None, "unit_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    ordered: Mapped[datetime]
    ordered_by: Mapped[str] = mapped_column(String(64))
    ended: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))


class UserRow(Base):
    """A person or a sensor that may call the API, with its role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    speaks_for: Mapped[list[Any]]
    created: Mapped[datetime]


class TokenRow(Base):
    """An API token: only the SHA-256 of the secret is kept, so a leaked table grants nothing."""

    __tablename__ = "tokens"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime]
    revoked: Mapped[datetime | None]


class AuditRow(Base):
    """One change a person made: who, when, what, and the record before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(Json)
    after: Mapped[dict[str, Any] | None] = mapped_column(Json)


class ChangeRow(Base):
    """The change log behind the live stream: a monotonic id, a kind and the new record."""

    __tablename__ = "changes"
    # SQLite would otherwise reuse ids once retention empties the table, and a client's old
    # cursor would then skip the new changes; AUTOINCREMENT never hands an id out twice.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    time: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]


class IntelReportRow(Base):
    """One intelligence report, its current version (the record as filed, JSON)."""

    __tablename__ = "intel_reports"
    __table_args__ = (Index(None, "sector", "time"), Index(None, "status"))

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    time: Mapped[datetime]
    reported: Mapped[datetime]
    updated: Mapped[datetime]
    sector: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    originator: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]]


class IntelClaimRow(Base):
    """What corroboration needs of a filed draft, so a later batch is weighed against it.

    The claim's key (event type, main place, event dates, the stretch and length of a
    border-state claim) and its document's outlet and word shingles (republication is
    near-duplicate text, so the shingles are kept, not the text).
    """

    __tablename__ = "intel_claims"
    __table_args__ = (Index(None, "event_type"),)

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(64))
    key: Mapped[dict[str, Any]] = mapped_column(Json)
    contradicted: Mapped[bool] = mapped_column(Boolean)
    shingles: Mapped[list[int]] = mapped_column(Json)
    filed: Mapped[datetime]


class SharedObjectRow(Base):
    """One version of one object that may be released (the feed every channel reads).

    `seq` orders the feed and never repeats (AUTOINCREMENT on SQLite, as for `changes`);
    `change_id` is the change it came from (unique: feeding twice stores once).
    """

    __tablename__ = "shared_objects"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        Index(None, "stored"),
        Index(None, "uid"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160))
    uid: Mapped[str] = mapped_column(String(36))  # the UUID part of its STIX ids
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    stored: Mapped[datetime]
    time: Mapped[datetime]
    sector: Mapped[str | None] = mapped_column(String(100))
    originator: Mapped[str] = mapped_column(String(64))
    change_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    record: Mapped[dict[str, Any]]


class ReleaseRow(Base):
    """One release to a partner: which object and version, by which rule, when, on which channel."""

    __tablename__ = "share_releases"
    __table_args__ = (Index(None, "partner", "time"), Index(None, "key"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    time: Mapped[datetime]
    partner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(160))
    version: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))


class InboxStatusRow(Base):
    """The outcome of one bundle a partner posted to the TAXII inbox (the TAXII status)."""

    __tablename__ = "share_inbox_status"
    __table_args__ = (Index(None, "partner"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer)
    successes: Mapped[list[Any]]
    failures: Mapped[list[Any]]


class FederatedObjectRow(Base):
    """The newest version of one object another site released to this one.

    Keyed by (origin site, kind, object id); `version` is the origin's change id for that state,
    so a late, older copy never replaces a newer one and a repeated copy changes nothing.
    """

    __tablename__ = "federated_objects"
    __table_args__ = (Index(None, "origin", "kind"),)

    origin: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]]
    received: Mapped[datetime]


class FederationCursorRow(Base):
    """How far this site's shared-object feed has been forwarded to one destination site.

    The position is the feed's own cursor for the destination's partner: the moment the last
    forwarded version became available to it, and that version's feed sequence number.
    """

    __tablename__ = "federation_cursors"

    destination: Mapped[str] = mapped_column(String(64), primary_key=True)
    available: Mapped[datetime]
    seq: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[datetime]


class SnapshotRow(Base):
    """The live pipeline's state (tracker, rules, deduplicator), saved now and then so a restart
    replays only the detections stored after it (`limes.service.snapshot`). One row: the newest.
    """

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    taken: Mapped[datetime] = mapped_column(UtcDateTime)
    detection_id: Mapped[int] = mapped_column(BigInteger)  # every stored row up to it is in
    scenario: Mapped[str] = mapped_column(String(200))
    state: Mapped[bytes] = mapped_column(Blob)

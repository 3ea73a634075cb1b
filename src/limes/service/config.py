"""The configuration of `limes serve`: one object, every option documented with its default."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from limes.clock import ClockError, ExerciseClock
from limes.errors import ServiceError
from limes.store.location import DATABASE_URL_ENV, DEFAULT_DATABASE_URL

#: Environment variables for the broker login (kept out of command lines and process lists).
MQTT_USERNAME_ENV = "LIMES_MQTT_USERNAME"
MQTT_PASSWORD_ENV = "LIMES_MQTT_PASSWORD"


def parse_address(text: str, what: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """ "HOST:PORT" or "PORT" as (host, port); a clear `ServiceError` naming `what` otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    host = host.strip("[]") or default_host
    try:
        number = int(port)
    except ValueError:
        raise ServiceError(f"{what}: {text!r} is not HOST:PORT") from None
    if not 0 <= number <= 65535:
        raise ServiceError(f"{what}: port {number} is outside 0..65535")
    return host, number


def _off(value: object) -> object:
    """'off' (any case) or an empty text turns an address off."""
    if isinstance(value, str) and value.strip().lower() in ("off", "none", ""):
        return None
    return value


class ServiceConfig(BaseModel):
    """What `serve(config)` runs: every field is one `limes serve` option (docs/serve.md).

    Each field's description, default and checks are the only documentation of the setting:
    the command line (`limes serve`, `python -m limes.service`) and docs/serve.md are generated
    from them. Adding a field adds the option.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- inputs and outputs -------------------------------------------------------------------
    scenario: str | Path = Field(
        "iraq-syria", description="Built-in scenario name or scenario file.",
        json_schema_extra={"metavar": "NAME|FILE"},
    )  # fmt: skip
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="The store: sqlite:///FILE (embedded) or postgresql://… for a deployment.",
        json_schema_extra={"option": "--database", "env": DATABASE_URL_ENV, "metavar": "URL"},
    )
    mqtt: str | None = Field(
        "127.0.0.1:1883", description="MQTT broker HOST:PORT, or 'off' for no MQTT input.",
        json_schema_extra={"metavar": "HOST:PORT|off"},
    )  # fmt: skip
    mqtt_client_id: str = Field(
        "limes-serve",
        description="MQTT client id, fixed so the broker keeps the session (and the messages not "
        "yet acknowledged) across restarts; two services on one broker need two ids.",
    )
    mqtt_topic_prefix: str = Field(
        "limes/v1/sensors", description="Detections arrive on PREFIX/<sensor>/detections."
    )
    mqtt_username: str | None = Field(
        None, description="MQTT user name (off: anonymous).",
        json_schema_extra={"env": MQTT_USERNAME_ENV},
    )  # fmt: skip
    mqtt_password: str | None = Field(
        None, description="MQTT password (give it in the environment, not on a command line).",
        json_schema_extra={"env": MQTT_PASSWORD_ENV, "secret": True},
    )  # fmt: skip
    mqtt_tls_ca: str | None = Field(
        None, description="A CA file: TLS to the broker, verified against it (off: plain TCP).",
        json_schema_extra={"metavar": "FILE"},
    )  # fmt: skip
    mqtt_tls_cert: str | None = Field(
        None, description="A client certificate for brokers that require one (with its key).",
        json_schema_extra={"metavar": "FILE"},
    )  # fmt: skip
    mqtt_tls_key: str | None = Field(
        None, description="The client certificate's private key.",
        json_schema_extra={"metavar": "FILE"},
    )  # fmt: skip
    cot_port: int | None = Field(
        None, ge=0, le=65535,
        description="Cursor-on-Target over TCP and UDP on this port (0: any free port; off: none).",
    )  # fmt: skip
    cot_host: str = Field("127.0.0.1", description="The Cursor-on-Target listening address.")
    cot_max_connections: int = Field(
        1024, ge=1, description="Open Cursor-on-Target TCP connections, in all."
    )
    cot_max_per_peer: int = Field(
        32, ge=1, description="Open Cursor-on-Target TCP connections from one address."
    )
    cot_idle_timeout_s: float | None = Field(
        300.0, gt=0, description="Seconds after which a silent CoT connection is closed (off: "
        "never).",
    )  # fmt: skip
    cot_event_deadline_s: float | None = Field(
        10.0, gt=0, description="Seconds within which a CoT event begun must end (slow senders "
        "are cut off; off: no deadline).",
    )  # fmt: skip
    cot_tls_port: int | None = Field(
        None, ge=0, le=65535, description="Cursor-on-Target over TLS on this port (0: any free "
        "port; off: none); needs the three files below.",
    )  # fmt: skip
    cot_tls_cert: str | None = Field(
        None, description="The CoT TLS server's certificate.", json_schema_extra={"metavar": "FILE"}
    )
    cot_tls_key: str | None = Field(
        None, description="The CoT TLS server's private key.", json_schema_extra={"metavar": "FILE"}
    )
    cot_tls_client_ca: str | None = Field(
        None, description="The CA that signs sensors' client certificates (each naming its "
        "sensor in its common name).", json_schema_extra={"metavar": "FILE"},
    )  # fmt: skip
    share_cot_port: int | None = Field(
        None, ge=0, le=65535, description="The partners' Cursor-on-Target out streams over TLS "
        "on this port (0: any free port; off: none), on the CoT TLS certificate, key and CA; a "
        "client certificate's common name is the partner id (docs/sharing.md).",
    )  # fmt: skip
    http: str | None = Field(
        "127.0.0.1:8080", description="API and map HOST:PORT, or 'off' for no HTTP server.",
        json_schema_extra={"metavar": "HOST:PORT|off"},
    )  # fmt: skip
    plan: Path | None = Field(
        None, description="An assessment's summary.json (or its folder): alert severity by km "
        "from P(interruption).",
    )  # fmt: skip
    assessments: tuple[Path, ...] = Field(
        (), description="A folder written by `limes assess`, shown in the map's planner view "
        "(the plan's own folder is shown too).",
        json_schema_extra={"option": "--assessment", "metavar": "DIR"},
    )  # fmt: skip

    # -- processing ---------------------------------------------------------------------------
    batch_messages: int = Field(
        1000, ge=1, description="Most MQTT messages tracked per round of the committer (the "
        "broker's in-flight window usually caps it lower: Mosquitto's default is 20).",
    )  # fmt: skip
    batch_wait_s: float = Field(
        0.005, ge=0, description="Seconds a round waits for more messages before it hands what "
        "they produced to the store writer (rounds that wait during a commit share the next "
        "transaction, so a busy floor gets larger transactions and a quiet one low latency).",
    )  # fmt: skip
    queue_messages: int = Field(
        10_000, ge=1, description="Messages read but not yet handled; when full the MQTT thread "
        "waits and the broker holds the rest.",
    )  # fmt: skip
    tick_s: float | None = Field(
        1.0, gt=0, description="Seconds between coasting and deleting quiet tracks (0 or off: "
        "only on detections).",
    )  # fmt: skip
    tick_lag_s: float = Field(
        10.0, ge=0, description="Wall seconds the tracker clock runs behind the present, so "
        "reports still in transit (or redelivered after a short restart) are not late.",
    )  # fmt: skip
    reorder_window_s: float = Field(
        1.0, ge=0, description="The tracker's late-data window in seconds: a floor under "
        "detection-to-alert latency.",
    )  # fmt: skip
    scan_window_s: float = Field(0.5, ge=0, description="The tracker's scan bins in seconds.")
    track_store_s: float = Field(
        1.0, ge=0, description="A track's state is stored at most this often, in seconds "
        "(every change of status, and its state when it alerts, always); 0 stores every update.",
    )  # fmt: skip
    recover_s: float = Field(
        3600.0, ge=0, description="On start, detections stored this many seconds back from the "
        "newest are replayed through the tracker and rules to rebuild their state.",
    )  # fmt: skip
    snapshot_s: float | None = Field(
        60.0, gt=0, description="Seconds between snapshots of the tracker's and rules' state in "
        "the store, so a start replays only the detections stored since the last one (off: "
        "replay the whole --recover window).",
    )  # fmt: skip
    snapshot_detections: int | None = Field(
        20_000, gt=0, description="A snapshot is also taken once this many detections have been "
        "tracked since the last one, so that a restart's replay stays bounded however heavy the "
        "traffic (off: by --snapshot seconds only).",
    )  # fmt: skip
    retry_s: float = Field(
        1.0, ge=0, description="Seconds to wait before retrying a store transaction that failed "
        "for a transient reason (connection lost, database restarting); doubles on each failure.",
    )  # fmt: skip
    retry_max_s: float = Field(
        5.0, ge=0, description="The cap on the retry wait in seconds: it bounds how long after a "
        "fault ends storing resumes.",
    )  # fmt: skip
    quarantine_file: str | None = Field(
        "limes-quarantine.jsonl", description="Where an item the database refuses is kept when "
        "even its quarantine dead letter cannot be stored (append-only JSON lines; off: not kept).",
        json_schema_extra={"metavar": "FILE|off"},
    )  # fmt: skip
    store_wait_s: float = Field(
        10.0, ge=0, description="Seconds HTTP ingest waits for its detections to be stored before "
        "it answers 503 with Retry-After (the sender retries; a repeat is not tracked twice).",
    )  # fmt: skip
    alert_warmup_s: float = Field(
        5.0, ge=0, description="The alert-latency figures are also given without the alerts "
        "committed this many seconds after the first (the start-up burst).",
    )  # fmt: skip
    tune_gc: bool = Field(
        True, description="Once `serve()` runs the service in its own process, freeze what "
        "start-up built out of the garbage collector's reach and collect the young generation "
        "less often: fewer, shorter pauses on a busy floor. A `Service` started in another "
        "program leaves its collector alone.",
    )  # fmt: skip

    # -- logs ---------------------------------------------------------------------------------
    log_json: bool = Field(False, description="Logs as JSON lines.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe log level written: DEBUG, INFO, WARNING or ERROR."
    )

    # -- exercise clock -----------------------------------------------------------------------
    clock_start: AwareDatetime | None = Field(
        None, description="Run every clock of the service (ingest checks, the tracker's tick, "
        "change times) on an exercise clock from this instant (ISO 8601 with a zone, or 'now'), "
        "shared with `limes simulate --start` (docs/exercise.md); off: the wall clock.",
        json_schema_extra={"option": "--exercise-start", "metavar": "ISO|now"},
    )  # fmt: skip
    clock_speed: float = Field(
        1.0, description="The exercise clock's speed, 1 … 600 (with --exercise-start).",
        json_schema_extra={"option": "--exercise-speed"},
    )  # fmt: skip

    # -- federation ---------------------------------------------------------------------------
    federation: Path | None = Field(
        None, description="A deployment file (docs/federation.md): run this service as one site "
        "of a federation over NATS JetStream, forwarding what the release guard gives each "
        "linked site and applying what they release to it.",
        json_schema_extra={"metavar": "FILE"},
    )  # fmt: skip
    site: str | None = Field(
        None, description="This service's site in the --federation deployment (and the site "
        "whose partitions --partitions publishes to).",
        json_schema_extra={"metavar": "NAME"},
    )  # fmt: skip
    partitions: str | None = Field(
        None, description="A NATS server with JetStream (nats://HOST:PORT): tracker workers "
        "(`limes federation worker`) track this site's detections. The service stores what its "
        "doors accept and publishes it by sector onto the site's partition subjects "
        "(docs/federation.md, \"Scale-out inside a site\"); it tracks nothing itself. Needs "
        "--site. Off: this process tracks (the embedded default).",
        json_schema_extra={"metavar": "URL|off"},
    )  # fmt: skip
    workers: int = Field(
        0, ge=0, le=64, description="With --partitions: start this many tracker worker processes "
        "(`limes federation worker`, each owning its share of the sectors), start again one "
        "that exits, and stop them at the end. 0: the workers are run separately.",
    )  # fmt: skip

    @field_validator(
        "mqtt", "http", "cot_port", "cot_tls_port", "cot_idle_timeout_s", "cot_event_deadline_s",
        "share_cot_port", "tick_s", "plan", "clock_start", "quarantine_file", "mqtt_username",
        "mqtt_tls_ca", "snapshot_s", "snapshot_detections", "partitions",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _turned_off(cls, value: object) -> object:
        return _off(value)

    @field_validator("tick_s", mode="before")
    @classmethod
    def _no_tick(cls, value: object) -> object:
        return None if value in (0, "0") else value

    @field_validator("mqtt")
    @classmethod
    def _broker_address(cls, value: str | None) -> str | None:
        if value is not None:
            parse_address(value, "--mqtt")
        return value

    @field_validator("http")
    @classmethod
    def _http_address(cls, value: str | None) -> str | None:
        if value is not None:
            parse_address(value, "--http")
        return value

    @field_validator("clock_start", mode="before")
    @classmethod
    def _now(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "now":
            return datetime.now(UTC).replace(microsecond=0)
        return value

    @model_validator(mode="after")
    def _tls(self) -> ServiceConfig:
        if self.cot_tls_port is not None:
            missing = [n for n in ("cot_tls_cert", "cot_tls_key", "cot_tls_client_ca")
                       if not getattr(self, n)]  # fmt: skip
            if missing:
                raise ServiceError(f"--cot-tls-port needs {', '.join(missing)}")
        if self.share_cot_port is not None:
            missing = [n for n in ("cot_tls_cert", "cot_tls_key", "cot_tls_client_ca")
                       if not getattr(self, n)]  # fmt: skip
            if missing:
                raise ServiceError(f"--share-cot-port needs {', '.join(missing)}")
        if (self.mqtt_tls_cert is None) != (self.mqtt_tls_key is None):
            raise ServiceError("an MQTT client certificate needs both --mqtt-tls-cert and -key")
        return self

    @model_validator(mode="after")
    def _federation(self) -> ServiceConfig:
        if self.federation is not None and self.site is None:
            raise ServiceError("--federation needs --site")
        if self.partitions is not None and self.site is None:
            raise ServiceError("--partitions needs --site (the site whose partitions it feeds)")
        if self.workers and self.partitions is None:
            raise ServiceError("--workers needs --partitions (the NATS server they track from)")
        if self.site is not None and self.federation is None and self.partitions is None:
            raise ServiceError("--site goes with --federation or --partitions")
        return self

    @model_validator(mode="after")
    def _clock(self) -> ServiceConfig:
        if "clock_speed" in self.model_fields_set and self.clock_start is None:
            raise ServiceError("--exercise-speed needs --exercise-start")
        if self.clock_start is not None:
            self.exercise_clock()  # checks the speed
        return self

    def exercise_clock(self) -> ExerciseClock | None:
        """The exercise clock this configuration asks for, or None for the wall clock."""
        if self.clock_start is None:
            return None
        try:
            return ExerciseClock(self.clock_start, self.clock_speed)
        except ClockError as error:
            raise ServiceError(f"exercise clock: {error}") from None


def main() -> None:
    """Print the options table of docs/serve.md (`python -m limes.service.config`)."""
    from limes.model_options import markdown_table

    print(markdown_table(ServiceConfig), end="")


if __name__ == "__main__":
    main()

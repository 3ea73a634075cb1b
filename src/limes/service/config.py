"""The configuration of `limes serve`: one object, every option documented with its default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from limes.clock import ClockError, ExerciseClock
from limes.errors import ServiceError
from limes.store.database import DEFAULT_DATABASE_URL

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


@dataclass(frozen=True)
class ServiceConfig:
    """What `serve(config)` runs.

    Inputs and outputs:
    - `database_url` (SQLite file `limes.db`): the store; `postgresql://...` for a deployment.
    - `mqtt` ("127.0.0.1:1883"): the broker, or None for no MQTT input.
    - `mqtt_client_id` ("limes-serve"): fixed, so the broker keeps the session (and the messages
      not yet acknowledged) across restarts; two services on one broker need two ids.
    - `mqtt_topic_prefix` ("limes/v1/sensors"): detections arrive on `<prefix>/<sensor>/detections`.
    - `cot_port` (None): CoT over TCP and UDP on this port (0: any free port); None: off.
    - `cot_host` ("127.0.0.1"): the CoT listening address.
    - `cot_max_connections` (1024) / `cot_max_per_peer` (32): open CoT TCP connections in all
      and from one address; `cot_idle_timeout_s` (300): a silent connection is closed;
      `cot_event_deadline_s` (10): an event begun must end within it (slow senders).
    - `cot_tls_port` (None): CoT over TLS on this port (0: any free port), with
      `cot_tls_cert` / `cot_tls_key` (the server's) and `cot_tls_client_ca` (the CA that signs
      sensors' client certificates, each naming its sensor in its common name).
    - `share_cot_port` (None): the partners' Cursor-on-Target out streams over TLS on this
      port (0: any free port), with the same server certificate and CA; a client certificate's
      common name is the partner id (see docs/sharing.md).
    - `mqtt_username` / `mqtt_password` (None; environment `LIMES_MQTT_USERNAME`,
      `LIMES_MQTT_PASSWORD`): the broker login. `mqtt_tls_ca` (None: plain TCP) turns TLS on,
      verifying the broker against that CA; `mqtt_tls_cert` / `mqtt_tls_key`: a client
      certificate, for brokers that require one.
    - `http` ("127.0.0.1:8080"): the API and map; None for no HTTP server.
    - `scenario` (required): built-in name or scenario file.
    - `plan` (None): an assessment's summary.json, for alert severity from P(interruption).
    - `assessments` (()): folders written by `limes assess`, shown in the map's planner view
      (the plan's own folder is shown too).

    Processing:
    - `batch_messages` (1000): most MQTT messages tracked per round of the committer (the
      broker's in-flight window usually caps it lower: Mosquitto's default is 20).
    - `batch_wait_s` (0.005): how long a round waits for more messages before it hands what
      they produced to the store writer. Transactions need no timer: whatever rounds wait
      while one commits go into the next transaction together (`limes.service.committer`),
      so a busy floor gets larger transactions and a quiet one low latency.
    - `queue_messages` (10000): messages read but not yet handled; when full the MQTT thread
      waits, and the broker holds the rest.
    - `tick_s` (1.0): how often quiet tracks are coasted and deleted (None: only on detections).
    - `tick_lag_s` (10.0): the tracker clock runs this far behind the wall clock, so reports
      still in transit (or redelivered after a restart shorter than this) are not late.
    - `reorder_window_s` (1.0) / `scan_window_s` (0.5): the tracker's late-data window and
      scan bins (`TrackerConfig`); the reorder window is a floor under detection-to-alert
      latency, so a floor that must alert faster lowers both.
    - `track_store_s` (1.0): a track's state is stored at most this often (every change of
      status, and its state when it fires an alert, always); 0 stores every update.
    - `recover_s` (3600.0): on start, detections stored this far back from the newest are
      replayed through the tracker and rules to rebuild their state (see docs/operations.md).
    - `retry_s` (1.0) / `retry_max_s` (5.0): wait before retrying a store transaction that
      failed for a transient reason (connection lost, database restarting), doubling on each
      failure up to the cap; the cap bounds how long after a fault ends storing resumes.
    - `quarantine_file` ("limes-quarantine.jsonl"): where an item the database refuses is kept
      when even its quarantine dead letter cannot be stored (append-only JSON lines).
    - `store_wait_s` (10.0): how long HTTP ingest waits for its detections to be stored before
      it answers 503 with Retry-After (the sender retries; a repeat is not tracked twice).
    - `alert_warmup_s` (5.0): the alert-latency figures are also given without the alerts
      committed this long after the first one (the start-up burst when a floor is switched on
      with its targets already in view).
    - `tune_gc` (True): once `serve()` has started the service in its own process, freeze the
      objects start-up built out of the garbage collector's reach and collect the young
      generation less often (see `limes.service.gc_pauses`): fewer, shorter pauses on a busy
      floor. A `Service` started in another program (tests, notebooks) leaves its collector
      alone.

    Logs: `log_json` (False) writes one JSON object per line; `log_level` ("INFO").

    Exercise clock: `clock_start` (None: the wall clock) and `clock_speed` (1.0) make every
    clock of the service (ingest checks, the tracker's tick, change times) read the
    `ExerciseClock` of that start and speed, so an accelerated exercise's reports are not from
    the future. `tick_lag_s` stays wall seconds (it covers transit): × speed in simulated time.
    """

    scenario: str | Path
    database_url: str = DEFAULT_DATABASE_URL
    mqtt: str | None = "127.0.0.1:1883"
    mqtt_client_id: str = "limes-serve"
    mqtt_topic_prefix: str = "limes/v1/sensors"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    cot_port: int | None = None
    cot_host: str = "127.0.0.1"
    cot_max_connections: int = 1024
    cot_max_per_peer: int = 32
    cot_idle_timeout_s: float | None = 300.0
    cot_event_deadline_s: float | None = 10.0
    cot_tls_port: int | None = None
    cot_tls_cert: str | None = None
    cot_tls_key: str | None = None
    cot_tls_client_ca: str | None = None
    share_cot_port: int | None = None
    mqtt_tls_ca: str | None = None
    mqtt_tls_cert: str | None = None
    mqtt_tls_key: str | None = None
    http: str | None = "127.0.0.1:8080"
    plan: str | Path | None = None
    assessments: tuple[str | Path, ...] = ()
    batch_messages: int = 1000
    batch_wait_s: float = 0.005
    queue_messages: int = 10_000
    tick_s: float | None = 1.0
    tick_lag_s: float = 10.0
    reorder_window_s: float = 1.0
    scan_window_s: float = 0.5
    track_store_s: float = 1.0
    recover_s: float = 3600.0
    retry_s: float = 1.0
    retry_max_s: float = 5.0
    quarantine_file: str | None = "limes-quarantine.jsonl"
    store_wait_s: float = 10.0
    alert_warmup_s: float = 5.0
    tune_gc: bool = True
    log_json: bool = False
    log_level: str = "INFO"
    clock_start: datetime | None = None
    clock_speed: float = 1.0

    def __post_init__(self) -> None:
        if self.mqtt is not None:
            parse_address(self.mqtt, "--mqtt")
        if self.http is not None:
            parse_address(self.http, "--http")
        if self.cot_port is not None and not 0 <= self.cot_port <= 65535:
            raise ServiceError(f"--cot-port: {self.cot_port} is outside 0..65535")
        if self.cot_tls_port is not None:
            if not 0 <= self.cot_tls_port <= 65535:
                raise ServiceError(f"--cot-tls-port: {self.cot_tls_port} is outside 0..65535")
            missing = [n for n in ("cot_tls_cert", "cot_tls_key", "cot_tls_client_ca")
                       if not getattr(self, n)]  # fmt: skip
            if missing:
                raise ServiceError(f"--cot-tls-port needs {', '.join(missing)}")
        if self.share_cot_port is not None:
            if not 0 <= self.share_cot_port <= 65535:
                raise ServiceError(f"--share-cot-port: {self.share_cot_port} is outside 0..65535")
            missing = [n for n in ("cot_tls_cert", "cot_tls_key", "cot_tls_client_ca")
                       if not getattr(self, n)]  # fmt: skip
            if missing:
                raise ServiceError(f"--share-cot-port needs {', '.join(missing)}")
        if (self.mqtt_tls_cert is None) != (self.mqtt_tls_key is None):
            raise ServiceError("an MQTT client certificate needs both mqtt_tls_cert and _key")
        for name in ("batch_messages", "queue_messages"):
            if getattr(self, name) < 1:
                raise ServiceError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("batch_wait_s", "tick_lag_s", "recover_s", "retry_s", "reorder_window_s",
                     "scan_window_s", "track_store_s", "retry_max_s", "store_wait_s"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ServiceError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.tick_s is not None and self.tick_s <= 0:
            raise ServiceError(f"tick_s must be positive, got {self.tick_s}")
        if self.clock_start is not None:
            self.exercise_clock()  # checks the start's zone and the speed

    def exercise_clock(self) -> ExerciseClock | None:
        """The exercise clock this configuration asks for, or None for the wall clock."""
        if self.clock_start is None:
            return None
        try:
            return ExerciseClock(self.clock_start, self.clock_speed)
        except ClockError as error:
            raise ServiceError(f"exercise clock: {error}") from None

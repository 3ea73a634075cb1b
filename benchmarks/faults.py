"""Faults the live service meets, measured: what was sent, acknowledged, stored, and how long the
store took to come back.

Each case runs `limes serve` in a child process (its own database, its own MQTT broker, HTTP and
CoT on free ports) with three senders streaming at once: MQTT at QoS 1 (acknowledged = the
broker's PUBACK), HTTP (acknowledged = a 200 answer; a sender retries on anything else) and
CoT over TCP (no acknowledgement in the protocol: counted as sent only). Mid-stream the fault is
made for real, held for the outage, and ended:

- `postgres_stopped`: a private PostgreSQL instance (initdb in a temporary folder, its own port;
  never the shared server) is stopped for the outage and started again;
- `sqlite_read_only`: the SQLite file and its log are made read-only (immutable for root);
- `mosquitto_restarted`: a private Mosquitto (persistence on) is stopped and started again;
- `sigkill`: the service is killed with SIGKILL mid-burst and started again at once;
- `restart_loaded`: the store is first filled with `--load-rows` detections spread over the last
  hour (walkers reporting about once a second: up to 2,000 of them, i.e. 2,000 detections/s,
  written in bulk straight into the database: the traffic is synthesised, not sent through the
  doors). The service is started (`without_snapshot_s`: start to ready, the whole hour replayed;
  above 500,000 rows only its last two minutes are, `first_start_replayed_s`) and stopped
  cleanly, which saves a snapshot. Then what a running service can store between two of its
  snapshots is stored (a minute at the hour's rate, or 20,000 detections, whichever is less:
  `--snapshot-detections`), and `recovery_s` is start to ready with the snapshot (only that
  replayed). The goal is < 10 s after an hour of 2,000 detections/s (`--load-rows 7200000`);
  `stored_rows` says at what scale it was run.

Figures per case: sent, acknowledged, stored (distinct keys among those sent), duplicates (rows
beyond the distinct keys), lost_acknowledged (acknowledged but never stored: the goal is 0) and
recovery_s (from the fault's end to the first detection stored after it; for a SIGKILL this is
restart to storing). The last line is one JSON object `{"cases": [...]}`.

    .venv/bin/python benchmarks/faults.py [--quick] [--outage-s 30] [--cases a,b]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import yaml
from sqlalchemy import create_engine, func, select

from limes.service.config import ServiceConfig
from limes.store.database import connect
from limes.store.tables import DetectionRow
from limes.store.users import Role, create_user

SENSOR = "tower-w"
SENSOR_EAST = "tower-e"  # sees the stored hour's walkers east of km 9
LON, LAT = 41.04, 34.01
LAW = {"range_m": 8000, "hazard_per_s": 0.5, "position_sd_m": 10}
SCENARIO: dict[str, Any] = {
    "name": "faults",
    "title": "Straight test border (invented positions)",
    "border": {"line": [[41.0, 34.0], [41.2, 34.0]], "inside": "right"},
    "terrain": {"synthetic": {}},
    "controllers": [{"name": "far", "channel": "net 1"}],
    "sectors": [{"name": "west", "command": "A", "far_side": "far", "from_km": 0, "to_km": 18.5}],
    "sensor_models": [{"name": "tower", "kind": "thermal_camera",
                       "laws": {"person": {"day": LAW, "night": LAW}}}],
    "sensors": [{"id": SENSOR, "model": "tower", "position": {"chainage_km": 4, "offset_m": 800}},
                {"id": SENSOR_EAST, "model": "tower",
                 "position": {"chainage_km": 14, "offset_m": 800}}],
}  # fmt: skip
#: Each door's sequence numbers start here, so stored keys tell the doors apart.
DOOR_BASE = {"mqtt": 0, "http": 10_000_000, "cot": 20_000_000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- private servers ---------------------------------------------------------------------------


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of our own (the shared server is never touched)."""

    def __init__(self, folder: Path) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            raise RuntimeError("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
        self.bin = bins[-1]
        self.data = folder / "pgdata"
        self.port = free_port()
        self.root = os.geteuid() == 0
        self.data.mkdir(parents=True)
        if self.root:
            shutil.chown(folder, "postgres")
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -h 127.0.0.1 -F"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-w", "-l",
                  str(self.data / "log"), "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


class PrivateMosquitto:
    """A Mosquitto of our own, persistence on (a restart keeps sessions and queued messages)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\nmax_queued_messages 100000\n",
            encoding="utf-8",
        )
        if os.geteuid() == 0:
            shutil.chown(folder, "mosquitto") if _user_exists("mosquitto") else None
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL, stderr=(self.folder / "log").open("ab"),
        )  # fmt: skip
        wait_for(self._listening, 10, "mosquitto")

    def _listening(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
            return True
        return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # a clean stop writes the persistence file
            self.proc.wait(20)
            self.proc = None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# --- the service ---------------------------------------------------------------------------------

_RUN = (
    "import json, sys; from limes.service import ServiceConfig, serve; "
    "serve(ServiceConfig(**json.loads(sys.argv[1])))"
)


class ServiceProcess:
    """`limes serve` in a child process with a fixed configuration (restartable)."""

    def __init__(self, folder: Path, database_url: str, broker_port: int) -> None:
        scenario = folder / "faults.yaml"
        scenario.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
        self.http_port = free_port()
        self.cot_port = free_port()
        self.config = {
            "scenario": str(scenario), "database_url": database_url,
            "mqtt": f"127.0.0.1:{broker_port}", "mqtt_client_id": f"faults-{uuid.uuid4().hex[:6]}",
            "mqtt_topic_prefix": "limes/v1/sensors", "http": f"127.0.0.1:{self.http_port}",
            "cot_port": self.cot_port, "tick_s": 0.5, "retry_s": 0.25, "retry_max_s": 2.0,
            "quarantine_file": str(folder / "quarantine.jsonl"), "store_wait_s": 5.0,
            "tune_gc": False,
        }  # fmt: skip
        self.log = folder / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _RUN, json.dumps(self.config)],
            stdout=subprocess.DEVNULL, stderr=self.log.open("ab"),
        )  # fmt: skip
        wait_for(self._answers, 120, "the service's HTTP port")

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the service exited; see {self.log}")
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"http://127.0.0.1:{self.http_port}/api/health", timeout=1).is_success
        return False

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# --- senders -------------------------------------------------------------------------------------


def report(seq: int) -> dict[str, Any]:
    t = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    return {"sensor_id": SENSOR, "seq": seq, "time": t, "lon": LON, "lat": LAT, "class": "person"}


def cot_event(seq: int) -> bytes:
    now = datetime.now(UTC)
    t = (now - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f'<event version="2.0" uid="{SENSOR}.c{seq}" type="a-h-G-U-C" how="m-r" time="{t}" '
        f'start="{t}" stale="{stale}"><point lat="{LAT}" lon="{LON}" hae="300" ce="30" '
        f'le="9999999.0"/><detail><limes sensor="{SENSOR}" seq="{seq}" class="person"/>'
        f"</detail></event>"
    ).encode()


@dataclass
class Sender:
    """One door's stream: what it sent and what was acknowledged (sequence numbers)."""

    door: str
    rate: float
    sent: set[int] = field(default_factory=set)
    acked: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def next_seqs(self) -> Iterator[int]:
        seq = DOOR_BASE[self.door]
        while not self.stop.is_set():
            seq += 1
            yield seq
            time.sleep(1 / self.rate)


class MqttSender(Sender):
    def run(self, port: int) -> None:
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"faults-pub-{uuid.uuid4().hex[:6]}", clean_session=False,
        )  # fmt: skip
        pending: dict[int, int] = {}

        def on_publish(_c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
            with self.lock:
                seq = pending.pop(mid, None)
                if seq is not None:
                    self.acked.add(seq)

        client.on_publish = on_publish
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(1, 2)
        client.connect_async("127.0.0.1", port)
        client.loop_start()
        for seq in self.next_seqs():
            with self.lock:
                info = client.publish(f"limes/v1/sensors/{SENSOR}/detections",
                                      json.dumps(report(seq)), qos=1)  # fmt: skip
                pending[info.mid] = seq
                self.sent.add(seq)
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            time.sleep(0.1)
        client.loop_stop()
        client.disconnect()


class HttpSender(Sender):
    def run(self, url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=15) as http:
            for seq in self.next_seqs():
                with self.lock:
                    self.sent.add(seq)
                while not self.stop.is_set():  # retry until acknowledged
                    with contextlib.suppress(httpx.HTTPError):
                        answer = http.post(url, json=report(seq), headers=headers)
                        if answer.status_code == 200:
                            with self.lock:
                                self.acked.add(seq)
                            break
                    time.sleep(0.2)


class CotSender(Sender):
    def run(self, port: int) -> None:
        conn: socket.socket | None = None
        for seq in self.next_seqs():
            with self.lock:
                self.sent.add(seq)
            try:
                if conn is None:
                    conn = socket.create_connection(("127.0.0.1", port), timeout=2)
                conn.sendall(cot_event(seq))
            except OSError:
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


# --- one case ------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    database: str
    fault: Callable[[], None]
    clear: Callable[[], None]


def stored_keys(engine: Any) -> tuple[set[int], int]:
    with engine.connect() as c:
        rows = [r[0] for r in c.execute(select(DetectionRow.seq))]
    return set(rows), len(rows)


def first_stored_after(engine: Any, when: datetime) -> datetime | None:
    with engine.connect() as c:
        got = c.execute(select(func.min(DetectionRow.received)).where(DetectionRow.received > when))
        value = got.scalar()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def private_servers(
    database: str, folder: Path
) -> tuple[PrivateMosquitto, PrivatePostgres | None, str]:
    """A broker and a database of the case's own, started: (broker, PostgreSQL or None, URL)."""
    folder.mkdir(parents=True)
    broker = PrivateMosquitto(folder / "mosquitto")
    broker.start()
    if database != "postgresql":
        return broker, None, f"sqlite:///{folder / 'limes.db'}"
    pg = PrivatePostgres(folder / "pg")
    pg.start()
    return broker, pg, pg.url


#: The stored hour's walkers: about one report a second each, so 2,000 of them make the goal's
#: 2,000 detections/s; in lanes 100 m apart across the line, 150 m apart along it.
WALKERS_MAX = 2000
LANES = 20
#: A running service snapshots every 60 s or every this many tracked detections, whichever comes
#: first (`limes serve --snapshot-detections`, its default): what a restart can find stored
#: after its snapshot.
SNAPSHOT_DETECTIONS: int = ServiceConfig.model_fields["snapshot_detections"].default
#: Above this many stored rows the first start (no snapshot yet) replays only its last two
#: minutes: replaying 7.2 million detections once would take most of an hour here.
FULL_REPLAY_ROWS = 500_000
_COLUMNS = ("sensor_id", "seq", "time", "received", "lon", "lat", "x", "y", "var_xx", "var_xy",
            "var_yy", "target_class", "confidence", "group_size", "late")  # fmt: skip


def synthesise(
    url: str, walkers: int, times: list[datetime], origin: datetime, first_step: int = 0
) -> int:
    """Store the reports of `walkers` walkers at each of `times` (one message a time: all share
    its `received`), as the doors would have stored them, in bulk (SQLite `executemany`,
    PostgreSQL `COPY`). Each walks 0.3 m/s toward the line from its lane since `origin`; the
    walkers west of km 9 are seen by one tower, the rest by the other. Sequence numbers continue
    from `first_step` (a later call continues the same walks). Returns the rows stored."""
    import numpy as np

    from limes.scenario.load import scenario_from_data

    sc = scenario_from_data(SCENARIO)
    w = np.arange(walkers)
    chainage = 2000.0 + 150.0 * (w // LANES)
    offset0 = -2300.0 + 100.0 * (w % LANES)
    sensors = [SENSOR if c < 9000.0 else SENSOR_EAST for c in chainage.tolist()]
    sqlite = url.startswith("sqlite")
    engine = connect(url).engine
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if sqlite:  # a bulk load of a scratch database: no waiting on the disk
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-262144")
        pending: list[tuple[Any, ...]] = []

        def flush() -> None:
            if not pending:
                return
            if sqlite:
                marks = ", ".join("?" * len(_COLUMNS))
                cur.executemany(f"INSERT INTO detections ({', '.join(_COLUMNS)}) VALUES ({marks})",
                                pending)  # fmt: skip
            else:
                with cur.copy(f"COPY detections ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                    for row in pending:
                        copy.write_row(row)
            raw.commit()
            pending.clear()

        for k, t in enumerate(times, start=first_step):
            x, y = sc.border.point_at(chainage, offset0 + 0.3 * (t - origin).total_seconds())
            lon, lat = sc.frame.to_lonlat(x, y)
            when: Any = t.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else t
            seq0 = 30_000_000 + k * walkers
            for i, (sensor, a, b, c, d) in enumerate(
                zip(sensors, lon.tolist(), lat.tolist(), x.tolist(), y.tolist(), strict=True)
            ):
                pending.append((sensor, seq0 + i, when, when, a, b, c, d, 100.0, 0.0, 100.0,
                                "person", 0.9, 1, False))  # fmt: skip
            if len(pending) >= 100_000:
                flush()
        flush()
    finally:
        raw.close()
        engine.dispose()
    return walkers * len(times)


def evenly(start: datetime, end: datetime, n: int) -> list[datetime]:
    """`n` times from `start` to `end` (both included when n > 1)."""
    step = (end - start) / max(n - 1, 1)
    return [start + i * step for i in range(n)]


def run_restart_loaded(database: str, folder: Path, rows: int) -> dict[str, Any]:
    """Start to ready over a store holding `rows` detections of the last hour: first without a
    snapshot (the whole hour replayed; above `FULL_REPLAY_ROWS` only its last two minutes),
    then, after a clean stop saved one and the traffic a running service can store between two
    snapshots was stored (a minute, or `SNAPSHOT_DETECTIONS`, whichever is less), with it."""
    broker, pg, url = private_servers(database, folder)
    db = connect(url)
    from limes.store.migrate import migrate

    migrate(db)
    with db.session() as s:
        _, token = create_user(s, "ops", Role.ADMIN, actor="faults", now=datetime.now(UTC))
    db.dispose()
    walkers = int(min(WALKERS_MAX, max(100, round(rows / 3600.0))))
    rate = walkers * (rows // walkers) / 3600.0  # detections a second over the hour
    tail_rows = min(rows // 60, SNAPSHOT_DETECTIONS)
    tail_steps = max(1, tail_rows // walkers)
    tail_s = tail_steps * walkers / rate
    # The hour ends a little before the tail's time so the tail continues it.
    end = datetime.now(UTC) - timedelta(seconds=tail_s + 30.0)
    origin = end - timedelta(seconds=3600.0)
    hour_steps = max(1, rows // walkers - tail_steps)
    began = time.monotonic()
    stored = synthesise(url, walkers, evenly(origin, end, hour_steps), origin)
    synth_s = time.monotonic() - began
    service = ServiceProcess(folder, url, broker.port)
    headers = {"Authorization": f"Bearer {token}"}
    ready = f"http://127.0.0.1:{service.http_port}/api/ready"

    def start_to_ready() -> float:
        began = time.monotonic()
        service.start()
        wait_for(lambda: httpx.get(ready, headers=headers, timeout=5).status_code == 200, 3600,
                 "ready")  # fmt: skip
        return time.monotonic() - began

    full = stored <= FULL_REPLAY_ROWS
    if not full:
        service.config["recover_s"] = 120.0
    first = start_to_ready()
    service.stop()  # a clean stop saves a snapshot
    service.config.pop("recover_s", None)
    step = (end - origin) / max(hour_steps - 1, 1)
    tail = [end + (i + 1) * step for i in range(tail_steps)]
    stored += synthesise(url, walkers, tail, origin, first_step=hour_steps)
    second = start_to_ready()
    service.stop()
    broker.stop()
    if pg is not None:
        pg.stop()
    return {"name": "restart_loaded", "database": database, "sent": 0, "acknowledged": 0,
            "stored": stored, "duplicates": 0, "lost_acknowledged": 0,
            "recovery_s": round(second, 2), "without_snapshot_s": round(first, 2) if full else None,
            "first_start_replayed_s": 3600.0 if full else 120.0,
            "first_start_s": round(first, 2), "stored_rows": stored, "walkers": walkers,
            "rate_per_s": round(rate), "replayed_after_snapshot": tail_steps * walkers,
            "synthesis_s": round(synth_s, 1)}  # fmt: skip


def run_case(
    name: str, database: str, folder: Path, outage_s: float, rate: float, lead_s: float
) -> dict[str, Any]:
    broker, pg, url = private_servers(database, folder)
    service = ServiceProcess(folder, url, broker.port)
    service.start()
    db = connect(url)
    with db.session() as s:
        _, token = create_user(s, "sender", Role.SENSOR, speaks_for=[SENSOR], actor="faults",
                               now=datetime.now(UTC))  # fmt: skip
    db.dispose()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    by_mqtt, by_http, by_cot = (
        MqttSender("mqtt", rate),
        HttpSender("http", rate),
        CotSender("cot", rate),
    )
    senders: list[Sender] = [by_mqtt, by_http, by_cot]
    targets: list[tuple[Any, tuple[Any, ...]]] = [
        (by_mqtt.run, (broker.port,)),
        (by_http.run, (f"http://127.0.0.1:{service.http_port}/api/ingest/detections", token)),
        (by_cot.run, (service.cot_port,)),
    ]
    for sender, (fn, args) in zip(senders, targets, strict=True):
        sender.thread = threading.Thread(target=fn, args=args, daemon=True)
        sender.thread.start()
    sqlite_file = folder / "limes.db"
    try:
        time.sleep(lead_s)
        if name == "postgres_stopped":
            assert pg is not None
            pg.stop()
            time.sleep(outage_s)
            pg.start()
        elif name == "sqlite_read_only":
            _read_only(sqlite_file, True)
            time.sleep(outage_s)
            _read_only(sqlite_file, False)
        elif name == "mosquitto_restarted":
            broker.stop()
            time.sleep(outage_s)
            broker.start()
        elif name == "sigkill":
            service.kill()
            ended = datetime.now(UTC)  # restart at once: recovery is restart to storing
            service.start()
        if name != "sigkill":
            ended = datetime.now(UTC)
        back = None
        deadline = time.monotonic() + 120
        while back is None and time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                back = first_stored_after(engine, ended)
            time.sleep(0.05)
        time.sleep(lead_s)
    finally:
        for sender in senders:
            sender.stop.set()
        for sender in senders:
            assert sender.thread is not None
            sender.thread.join(60)
    acked = set().union(*(s.acked for s in senders))
    sent = set().union(*(s.sent for s in senders))
    # Drain: what is acknowledged must become stored; wait for it (or give up after 60 s).
    deadline = time.monotonic() + 60
    keys, rows = stored_keys(engine)
    while not acked <= keys and time.monotonic() < deadline:
        time.sleep(0.25)
        keys, rows = stored_keys(engine)
    service.stop()
    broker.stop()
    engine.dispose()
    if pg is not None:
        pg.stop()
    return {
        "name": name,
        "database": database,
        "sent": len(sent),
        "acknowledged": len(acked),
        "stored": len(keys & sent),
        "duplicates": rows - len(keys),
        "lost_acknowledged": len(acked - keys),
        "recovery_s": None if back is None else round((back - ended).total_seconds(), 2),
        "by_door": {
            s.door: {
                "sent": len(s.sent),
                "acknowledged": len(s.acked),
                "stored": len(keys & s.sent),
            }
            for s in senders
        },
        "outage_s": 0.0 if name == "sigkill" else outage_s,
    }


def _read_only(file: Path, on: bool) -> None:
    for f in (file, file.with_name(file.name + "-wal")):  # never -shm: mapped (SIGBUS)
        if not f.exists():
            continue
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i" if on else "-i", str(f)], check=True)
        else:
            f.chmod(0o444 if on else 0o644)


#: The short run CI makes: one case per kind of fault.
QUICK_CASES = [
    ("postgres_stopped", "postgresql"),
    ("sqlite_read_only", "sqlite"),
    ("sigkill", "sqlite"),
]
CASES = [
    ("postgres_stopped", "postgresql"),
    ("sqlite_read_only", "sqlite"),
    ("mosquitto_restarted", "sqlite"),
    ("mosquitto_restarted", "postgresql"),
    ("sigkill", "sqlite"),
    ("sigkill", "postgresql"),
    ("restart_loaded", "sqlite"),
    ("restart_loaded", "postgresql"),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one case per kind of fault, 5 s outages, lower rates")  # fmt: skip
    parser.add_argument("--outage-s", type=float, default=None, help="fault length (30; quick 5)")
    parser.add_argument("--rate", type=float, default=None, help="reports/s per door (50; 20)")
    parser.add_argument("--cases", default="",
                        help="comma-separated names, or name@database (default all)")  # fmt: skip
    parser.add_argument(
        "--load-rows",
        type=int,
        default=None,
        help="stored detections for restart_loaded (200000; quick 20000)",
    )
    parser.add_argument("--keep", default=None, help="keep each case's folder (logs) here")
    args = parser.parse_args(argv)
    outage = args.outage_s if args.outage_s is not None else (5.0 if args.quick else 30.0)
    rate = args.rate if args.rate is not None else (20.0 if args.quick else 50.0)
    lead = 2.0 if args.quick else 5.0
    load_rows = args.load_rows or (20_000 if args.quick else 200_000)
    wanted = set(filter(None, args.cases.split(",")))
    results = []
    with tempfile.TemporaryDirectory(prefix="limes-faults-") as scratch:
        tmp = args.keep or scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o755)
        for name, database in QUICK_CASES if args.quick and not wanted else CASES:
            if wanted and name not in wanted and f"{name}@{database}" not in wanted:
                continue
            where = Path(tmp) / f"{name}-{database}"
            try:
                if name == "restart_loaded":
                    r = run_restart_loaded(database, where, load_rows)
                else:
                    r = run_case(name, database, where, outage, rate, lead)
            except Exception as error:  # one case failing to run is reported, not fatal
                r = {"name": name, "database": database, "error": str(error)}
            results.append(r)
            print(json.dumps(r), file=sys.stderr)
    print(json.dumps({"cases": results}))


if __name__ == "__main__":
    main()

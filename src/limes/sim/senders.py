"""Where simulated reports go: the live system's real doors, or a callable in this process.

- `MqttSender`: paho-mqtt, QoS 1, one message per report on
  `limes/v1/sensors/<sensor_id>/detections`, the JSON detection format (docs/protocols.md).
- `CotSender`: Cursor-on-Target events over TCP (a stream) or UDP (one event per datagram),
  with `<detail><limes sensor seq class confidence group/></detail>`.
- `HttpSender`: `{"detections": [...]}` batches POSTed to `/api/ingest/detections` with a sensor
  token (`Authorization: Bearer …`).
- `InProcessSender`: hands each batch of emissions to a callable; what it returns (alerts) is
  collected for the scorecard (`limes.exercise.in_process.json_door` makes one that feeds the
  live system's own JSON reader).
- `MemorySender`: keeps every batch (tests, dry runs).

A sender's `send` may return alerts (`scorecard.AlertLike`: time, lon, lat); the run collects
them.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol
from xml.sax.saxutils import quoteattr

from limes.errors import SimError
from limes.sim.emission import Emission, iso_ms

if TYPE_CHECKING:
    from limes.sim.scorecard import AlertLike

TOPIC_PREFIX = "limes/v1/sensors"


class SendError(SimError):
    """A door that could not be reached or refused what was sent; the message says which."""


class Sender(Protocol):
    """Takes batches of emissions, in sending order."""

    def open(self) -> None: ...
    def send(self, batch: Sequence[Emission]) -> Sequence[AlertLike] | None: ...
    def close(self) -> None: ...


class MemorySender:
    """Keeps what it is sent."""

    def __init__(self) -> None:
        self.batches: list[list[Emission]] = []

    def open(self) -> None:
        return None

    def send(self, batch: Sequence[Emission]) -> None:
        self.batches.append(list(batch))

    def close(self) -> None:
        return None

    @property
    def emissions(self) -> list[Emission]:
        return [e for b in self.batches for e in b]


class InProcessSender:
    """Hands each batch to a callable; returns what it returns (alerts, or None)."""

    def __init__(self, handler: Callable[[Sequence[Emission]], Sequence[AlertLike] | None]) -> None:
        self.handler = handler

    def open(self) -> None:
        return None

    def send(self, batch: Sequence[Emission]) -> Sequence[AlertLike] | None:
        return self.handler(batch)

    def close(self) -> None:
        return None


class MqttSender:
    """Publishes each report at QoS 1 on its sensor's topic; `close` waits for the acks."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        client_id: str | None = None,
        topic_prefix: str = TOPIC_PREFIX,
        qos: int = 1,
        username: str | None = None,
        password: str | None = None,
        connect_timeout_s: float = 10.0,
        max_inflight: int = 1000,
        max_pending: int = 10_000,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.host, self.port, self.qos = host, port, qos
        self.topic_prefix = topic_prefix
        self.connect_timeout_s = connect_timeout_s
        self.sent = 0
        self._connected = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or "",
            protocol=mqtt.MQTTv311,
        )
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(0)
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = lambda c, u, f, reason, p: (
            None if reason.is_failure else self._connected.set()
        )
        # Messages handed to paho and not yet acknowledged, oldest first. Kept well below
        # MQTT's 65535 packet ids: paho refuses a publish whose id is still pending.
        self.max_pending = max_pending
        self._pending: deque[Any] = deque()

    def open(self) -> None:
        try:
            self._client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise SendError(
                f"cannot reach the MQTT broker at {self.host}:{self.port}: {exc}"
            ) from None
        self._client.loop_start()
        if not self._connected.wait(self.connect_timeout_s):
            self._client.loop_stop()
            raise SendError(f"the MQTT broker at {self.host}:{self.port} did not accept us")

    def topic(self, sensor_id: str) -> str:
        return f"{self.topic_prefix}/{sensor_id}/detections"

    def send(self, batch: Sequence[Emission]) -> None:
        import paho.mqtt.client as mqtt

        for e in batch:
            info = self._client.publish(self.topic(e.sensor_id), e.payload, qos=self.qos)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise SendError(f"MQTT publish of {e.sensor_id} #{e.seq} refused: {info.rc}")
            self._pending.append(info)
            self.sent += 1
            while len(self._pending) > self.max_pending:
                self._settle(self._pending.popleft())

    def _settle(self, info: Any) -> None:
        try:
            info.wait_for_publish(timeout=30.0)
        except (ValueError, RuntimeError) as exc:
            raise SendError(f"MQTT publish not delivered: {exc}") from None
        if not info.is_published():
            raise SendError("the MQTT broker did not acknowledge a report within 30 s")

    def close(self) -> None:
        try:
            while self._pending:
                self._settle(self._pending.popleft())
        finally:
            self._client.disconnect()
            self._client.loop_stop()


# --- Cursor-on-Target ---------------------------------------------------------------------------

#: Our report classes as CoT types: unknown affiliation, ground; the limes class attribute
#: carries the class exactly (docs/protocols.md, type mapping).
COT_TYPES = {
    "person": "a-u-G-U-C",
    "vehicle": "a-u-G-E-V",
    "animal": "a-u-G",
    "unknown": "a-u-G",
}


def cot_event(e: Emission, stale_s: float = 300.0) -> bytes:
    """One emission as a CoT `<event>` (UTF-8), in the format the CoT door reads."""
    time = iso_ms(e.time)
    stale = iso_ms(e.time + timedelta(seconds=stale_s))
    group = f" group={quoteattr(str(e.group_size))}" if e.group_size else ""
    xml = (
        f'<event version="2.0" uid={quoteattr(f"{e.sensor_id}.t{e.seq}")} '
        f'type="{COT_TYPES.get(e.target_class, "a-u-G")}" how="m-r" '
        f'time="{time}" start="{time}" stale="{stale}">'
        f'<point lat="{e.lat!r}" lon="{e.lon!r}" hae="0" ce="{e.position_sd_m!r}" le="9999999.0"/>'
        f'<detail><limes sensor={quoteattr(e.sensor_id)} seq="{e.seq}" '
        f'class="{e.target_class}" confidence="{e.confidence!r}"{group}/></detail>'
        "</event>"
    )
    return xml.encode()


class CotSender:
    """Sends CoT events over TCP (one stream) or UDP (a datagram each)."""

    def __init__(self, host: str, port: int, *, udp: bool = False, timeout_s: float = 10.0):
        self.host, self.port, self.udp, self.timeout_s = host, port, udp, timeout_s
        self._sock: socket.socket | None = None
        self.sent = 0

    def open(self) -> None:
        kind = socket.SOCK_DGRAM if self.udp else socket.SOCK_STREAM
        sock = socket.socket(socket.AF_INET, kind)
        sock.settimeout(self.timeout_s)
        try:
            sock.connect((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise SendError(
                f"cannot reach the CoT door at {self.host}:{self.port}: {exc}"
            ) from None
        self._sock = sock

    def send(self, batch: Sequence[Emission]) -> None:
        if self._sock is None:
            raise SendError("CotSender.send before open()")
        if self.udp:
            for e in batch:
                self._sock.send(cot_event(e))
        else:
            self._sock.sendall(b"".join(cot_event(e) for e in batch))
        self.sent += len(batch)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


# --- HTTP ------------------------------------------------------------------------------------

INGEST_PATH = "/api/ingest/detections"


def batch_body(batch: Iterable[Emission]) -> bytes:
    """A `{"detections": [...]}` body of already serialised messages (no re-encoding)."""
    return b'{"detections":[' + b",".join(e.payload for e in batch) + b"]}"


class HttpSender:
    """POSTs batches (at most `max_batch`) to the API's ingest route with a sensor token."""

    def __init__(
        self, base_url: str, token: str, *, max_batch: int = 1000, timeout_s: float = 10.0
    ) -> None:
        import httpx

        self.url = base_url.rstrip("/") + INGEST_PATH
        self.max_batch = max_batch
        self._client = httpx.Client(
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        self.results: list[dict[str, Any]] = []

    def open(self) -> None:
        return None

    def send(self, batch: Sequence[Emission]) -> None:
        import httpx

        for i in range(0, len(batch), self.max_batch):
            body = batch_body(batch[i : i + self.max_batch])
            try:
                resp = self._client.post(self.url, content=body)
            except httpx.HTTPError as exc:
                raise SendError(f"POST {self.url} failed: {exc}") from None
            if resp.status_code >= 400:
                raise SendError(f"POST {self.url}: {resp.status_code} {resp.text[:300]}")
            self.results.append(json.loads(resp.content))

    def close(self) -> None:
        self._client.close()

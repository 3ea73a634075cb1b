"""The service's MQTT door: QoS 1 on a persistent session, acknowledged only after the commit.

The one MQTT door limes has. It only reads: paho's thread parses each message and queues it
with its message id; the committer tracks a batch of queued messages, stores everything they
produced in one transaction, and then calls `ack` for each. A message read but not acknowledged when
the process dies is redelivered by the broker when the same client id connects again
(`clean_session=False`), which is what makes a hard kill lose nothing.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.json_format import parse_json_message
from limes.ops.ingest.mqtt import topic_sensor
from limes.ops.ingest.mqtt_session import MqttSubscriber
from limes.ops.ingest.outcome import IngestOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message, parsed, waiting to be handled and then acknowledged."""

    outcome: IngestOutcome
    mid: int
    qos: int
    read: float = 0.0  # wall clock (s) when the door read it: where alert latency starts


class MqttDoor(MqttSubscriber):
    """Subscribes to `<prefix>/+/detections` at QoS 1 and queues each message parsed."""

    def __init__(
        self,
        ctx: IngestContext,
        inbox: queue.Queue[Message],
        *,
        host: str,
        port: int,
        client_id: str,
        topic_prefix: str,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
        keepalive_s: int = 30,
    ) -> None:
        self.ctx = ctx
        self.inbox = inbox
        self.messages = 0
        self._closing = threading.Event()
        super().__init__(
            host=host,
            port=port,
            client_id=client_id,
            topic_prefix=topic_prefix,
            logger=log,
            clean_session=False,
            manual_ack=True,
            keepalive_s=keepalive_s,
            username=username,
            password=password,
            tls=tls,
        )

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def close_intake(self) -> None:
        """Stop queueing: messages read from now on are left unacknowledged for the next run."""
        self._closing.set()

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a message whose outputs are committed (thread-safe in paho)."""
        if qos > 0:
            self._client.ack(mid, qos)

    def stop(self) -> None:
        """Disconnect (acknowledgements already queued go out first) and stop the thread."""
        self._closing.set()
        super().stop()

    def _subscribed(self) -> None:
        log.info("MQTT subscribed to %s on %s:%s", self.subscription, self.host, self.port)

    def _disconnect_expected(self) -> bool:
        return self._closing.is_set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # Nothing may escape: an exception would end paho's network thread.
        if self._closing.is_set():
            return  # not acknowledged: the broker keeps it for the next run
        self.messages += 1
        read = time.time()
        try:
            outcome = parse_json_message(
                bytes(message.payload),
                self.ctx,
                source=f"mqtt:{message.topic}",
                expected_sensor=topic_sensor(message.topic, self.topic_prefix),
            )
        except Exception:
            log.exception("MQTT message on %s could not be read; left unacknowledged",
                          message.topic)  # fmt: skip
            return
        # A full inbox blocks this thread, so paho stops reading and the broker holds the rest.
        self.inbox.put(Message(outcome, message.mid, message.qos, read))

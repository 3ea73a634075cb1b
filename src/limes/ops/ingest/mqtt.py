"""The MQTT door: JSON detections on `limes/v1/sensors/<sensor_id>/detections` at QoS 1.

Stands on `limes.ops.ingest.mqtt_session.MqttSubscriber`: a paho-mqtt 2 client (callback API
version 2) with a persistent session (`clean_session=False` and a fixed client id), so QoS 1
messages published while limes is away are delivered when it comes back; paho reconnects by
itself (back-off between `reconnect_min_s` and `reconnect_max_s`) and the subscription is
renewed on every connect.

Acknowledgement: by default paho acknowledges a message when the callback returns. With
`manual_ack=True` limes acknowledges it only after `on_detections` (say, a store writing the
detections) and `on_rejection` have returned; if `on_detections` raises, the message is not
acknowledged, the broker keeps it and sends it again when the session reconnects
(`stop()` then `start()`, or any network drop), and the deduplicator forgets it so that
redelivery is taken as new. Detections are never acknowledged before they are handed over.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Collection
from typing import Any

import paho.mqtt.client as mqtt

from limes.ops.ingest.context import IngestContext
from limes.ops.ingest.dedup import Deduplicator
from limes.ops.ingest.delivery import Delivery, OnDetections, OnRejection
from limes.ops.ingest.json_format import parse_json_message
from limes.ops.ingest.mqtt_session import MqttSubscriber

log = logging.getLogger(__name__)

TOPIC_PREFIX = "limes/v1/sensors"


def detections_topic(sensor_id: str, prefix: str = TOPIC_PREFIX) -> str:
    """The topic a sensor publishes its detections on."""
    return f"{prefix}/{sensor_id}/detections"


def topic_sensor(topic: str, prefix: str = TOPIC_PREFIX) -> str | None:
    """The sensor id a detections topic names, or None when the topic is not one."""
    head = prefix + "/"
    if not topic.startswith(head) or not topic.endswith("/detections"):
        return None
    middle = topic[len(head) : -len("/detections")]
    return middle if middle and "/" not in middle else None


class MqttIngest(MqttSubscriber):
    """Subscribes to every sensor's detections topic and feeds the pipeline.

    Call `start()` once (connects in the background; `wait_ready()` blocks until subscribed)
    and `stop()` at shutdown. Handlers run on paho's network thread, one message at a time.
    """

    def __init__(
        self,
        ctx: IngestContext,
        on_detections: OnDetections,
        on_rejection: OnRejection,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "limes-ingest",
        clean_session: bool = False,
        topic_prefix: str = TOPIC_PREFIX,
        dedup: Deduplicator | None = None,
        manual_ack: bool = False,
        keepalive_s: int = 30,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 30,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
        allowed_sensors: Collection[str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.manual_ack = manual_ack
        self.allowed_sensors = allowed_sensors
        self.delivery = Delivery(on_detections, on_rejection, dedup)
        self.messages = 0
        self.unacked = 0  # messages left unacknowledged because on_detections failed
        super().__init__(
            host=host,
            port=port,
            client_id=client_id,
            topic_prefix=topic_prefix,
            logger=log,
            clean_session=clean_session,
            manual_ack=manual_ack,
            keepalive_s=keepalive_s,
            reconnect_min_s=reconnect_min_s,
            reconnect_max_s=reconnect_max_s,
            username=username,
            password=password,
            tls=tls,
        )

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # Nothing may escape: an exception would end paho's network thread.
        self.messages += 1
        try:
            sensor = topic_sensor(message.topic, self.topic_prefix)
            outcome = parse_json_message(
                bytes(message.payload),
                self.ctx,
                source=f"mqtt:{message.topic}",
                expected_sensor=sensor,
                allowed_sensors=self.allowed_sensors,
            )
            self.delivery(outcome)
        except Exception:
            self.unacked += 1 if self.manual_ack else 0
            log.exception("MQTT message on %s not handed over", message.topic)
            return
        if self.manual_ack:
            client.ack(message.mid, message.qos)

"""The MQTT session both of limes' MQTT doors stand on: connect, subscribe at QoS 1, reconnect.

A paho-mqtt 2 client (callback API version 2, MQTT 3.1.1) with a fixed client id; with
`clean_session=False` the broker keeps the session, so QoS 1 messages published while limes is
away are delivered when it comes back. paho reconnects by itself (back-off between
`reconnect_min_s` and `reconnect_max_s`) and the subscription is renewed on every connect.
What is done with a message is the subclass's `_on_message`.
"""

from __future__ import annotations

import logging
import ssl
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class MqttSubscriber:
    """`<topic_prefix>/+/detections` at QoS 1, kept across reconnects; subclasses read messages.

    Call `start()` once (connects in the background; `wait_ready()` blocks until subscribed)
    and `stop()` at shutdown. Callbacks run on paho's network thread. Log lines go to the
    subclass's own logger, so they name the door they come from.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        topic_prefix: str,
        logger: logging.Logger,
        clean_session: bool = False,
        manual_ack: bool = False,
        keepalive_s: int = 30,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 30,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.client_id = client_id
        self.host, self.port, self.keepalive_s = host, port, keepalive_s
        self.topic_prefix = topic_prefix
        self.subscription = f"{topic_prefix}/+/detections"
        self.connects = 0
        self._log = logger
        self._ready = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
            manual_ack=manual_ack,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        if tls is not None:
            self._client.tls_set_context(tls)
        self._client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def start(self) -> None:
        """Connect in the background and keep reconnecting until `stop()`."""
        self._ready.clear()
        self._client.connect_async(self.host, self.port, self.keepalive_s)
        self._client.loop_start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until connected and subscribed; False on timeout."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Disconnect cleanly and stop the network thread (the broker keeps the session)."""
        self._client.disconnect()
        self._client.loop_stop()
        self._ready.clear()

    def _subscribed(self) -> None:
        """A hook on paho's thread each time the subscription is granted (before ready)."""

    def _disconnect_expected(self) -> bool:
        """Whether a failed disconnect is part of shutting down (then it is not a warning)."""
        return False

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        raise NotImplementedError

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self._log.warning("MQTT connect to %s:%s refused: %s", self.host, self.port, reason)
            return
        self.connects += 1
        client.subscribe(self.subscription, qos=1)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        if any(r.is_failure for r in reasons):
            self._log.error("MQTT subscription to %s refused: %s", self.subscription, reasons)
            return
        self._subscribed()
        self._ready.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._ready.clear()
        if reason.is_failure and not self._disconnect_expected():
            self._log.warning("MQTT connection lost (%s); reconnecting", reason)

"""MQTT topics of the detection door: JSON detections on `limes/v1/sensors/<sensor_id>/detections`.

The door itself is the service's (`limes.service.door.MqttDoor`, on
`limes.ops.ingest.mqtt_session.MqttSubscriber`): QoS 1 on a persistent session, each message
acknowledged only once what it produced is stored.
"""

from __future__ import annotations

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

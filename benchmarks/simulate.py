"""How fast the simulator makes reports, and how fast it sends them into the real Mosquitto.

Two figures on the built-in Iraq–Syria scenario (24 h, 5000 groups a day so that the sending figure
rests on tens of thousands of reports; `--quick`: 3 h):

- making: reports drawn per second of wall time by `simulate` (groups, line of sight, sensor
  draws, dispatch, messages), with the stages' seconds;
- sending: reports per second that `send_emissions` with `MqttSender` (paho, QoS 1, one
  message per report, waiting for every broker acknowledgement) sustains into Mosquitto on
  127.0.0.1:1883, unpaced; the anchor is raw paho publishing the same pre-serialised payloads
  on the same topics at QoS 1 in a bare loop, with the same in-flight window and the same
  wait for the acknowledgements. Ratio = ours / anchor (1.0: the simulator costs nothing on
  top of the client library).

The last line is one JSON object. Without a broker the sending figures are null.

    python benchmarks/simulate.py [--quick] [--seed N] [--host H] [--port P]
"""

from __future__ import annotations

import argparse
import json
import socket
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import replace

import paho.mqtt.client as mqtt

from limes.clock import SimClock
from limes.scenario.load import load_scenario
from limes.sim.config import SimConfig
from limes.sim.emission import Emission
from limes.sim.run import send_emissions, simulate
from limes.sim.senders import MqttSender

INFLIGHT = 1000
PENDING = 10_000
GROUPS_PER_DAY = 5000.0  # a busy border: enough reports for a steady sending figure


def broker_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def ours(emitted: Sequence[Emission], host: str, port: int, prefix: str) -> float:
    sender = MqttSender(host, port, topic_prefix=prefix, max_inflight=INFLIGHT, max_pending=PENDING)
    t0 = time.perf_counter()
    send_emissions(emitted, sender, SimClock(SimConfig().start))
    return time.perf_counter() - t0


def anchor(emitted: Sequence[Emission], host: str, port: int, prefix: str) -> float:
    topics = [f"{prefix}/{e.sensor_id}/detections" for e in emitted]
    payloads = [e.payload for e in emitted]
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         protocol=mqtt.MQTTv311)  # fmt: skip
    client.max_inflight_messages_set(INFLIGHT)
    client.max_queued_messages_set(0)
    t0 = time.perf_counter()
    client.connect(host, port, keepalive=30)
    client.loop_start()
    pending: deque[mqtt.MQTTMessageInfo] = deque()
    for topic, payload in zip(topics, payloads, strict=True):
        pending.append(client.publish(topic, payload, qos=1))
        # The same window as MqttSender: packet ids must not wrap round while pending.
        while len(pending) > PENDING:
            pending.popleft().wait_for_publish(timeout=60.0)
    while pending:
        pending.popleft().wait_for_publish(timeout=60.0)
    client.disconnect()
    client.loop_stop()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 simulated hours instead of 24")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1883)
    args = ap.parse_args()
    hours = 3.0 if args.quick else 24.0
    sc = load_scenario("iraq-syria")
    sc.terrain()  # built once, not part of either figure
    cfg = replace(SimConfig(), actors_per_day=GROUPS_PER_DAY)
    simulate(sc, 1.0, seed=args.seed, config=cfg)  # warm-up: compiled kernels, travel fields

    t0 = time.perf_counter()
    res = simulate(sc, hours, seed=args.seed, config=cfg)
    make_s = time.perf_counter() - t0
    n = len(res.emissions)
    stages = {k: round(v, 3) for k, v in res.timings_s.items()}
    print(f"making: {n} reports of {len(res.actors)} groups over {hours:g} h in {make_s:.2f} s "
          f"({n / make_s:,.0f} reports/s); stages {stages}")  # fmt: skip

    figures: dict[str, object] = {
        "benchmark": "simulate",
        "hours": hours,
        "reports": n,
        "groups": len(res.actors),
        "make_s": round(make_s, 3),
        "make_per_s": round(n / make_s, 1),
        "stages_s": stages,
    }
    if broker_up(args.host, args.port):
        prefix = f"limes-bench-{uuid.uuid4().hex[:8]}/v1/sensors"
        # Alternate, twice each, so neither side gets the warmer broker.
        o = [ours(res.emissions, args.host, args.port, prefix) for _ in range(2)]
        a = [anchor(res.emissions, args.host, args.port, prefix) for _ in range(2)]
        o_s, a_s = min(o), min(a)
        print(f"sending (ours, MqttSender via send_emissions): {n / o_s:,.0f} reports/s")
        print(f"sending (anchor, raw paho QoS 1 loop):         {n / a_s:,.0f} reports/s")
        print(f"ratio ours/anchor: {a_s / o_s:.2f}")
        figures.update(send_per_s=round(n / o_s, 1), anchor_per_s=round(n / a_s, 1),
                       ratio=round(a_s / o_s, 3))  # fmt: skip
    else:
        print(f"no MQTT broker at {args.host}:{args.port}: sending not measured")
        figures.update(send_per_s=None, anchor_per_s=None, ratio=None)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

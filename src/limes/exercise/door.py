"""Where an exercise's reports go, and the live system's API its alerts are read back from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from limes.exercise.in_process import PipelineSender
from limes.exercise.paced_poster import PacedPoster
from limes.ops.plan_lookup import PlanLookup
from limes.scenario.model import Scenario
from limes.service.config import parse_address
from limes.sim.run import SimulationError
from limes.sim.senders import TOPIC_PREFIX, CotSender, HttpSender, MqttSender, Sender

DOOR_KINDS = ("none", "in-process", "http", "mqtt", "cot", "cot-udp")


@dataclass(frozen=True)
class Door:
    """Where an exercise's reports go, and the live system's API its alerts are read from.

    `kind`: `none` (kept and written only), `in-process` (a pipeline of its own, here),
    `http` (`address` is the API's base URL, `token` a sensor token for every sensor of the
    scenario), `mqtt` / `cot` / `cot-udp` (`address` HOST:PORT). `api` and `token`: read the
    live system's alerts back after the run (a token of a viewer or above).
    """

    kind: str = "none"
    address: str | None = None
    api: str | None = None
    token: str | None = None
    topic_prefix: str = TOPIC_PREFIX
    client_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DOOR_KINDS:
            raise SimulationError(f"door must be one of {', '.join(DOOR_KINDS)}, not {self.kind!r}")
        if self.remote and not self.address:
            raise SimulationError(f"a {self.kind} door needs an address")
        if (self.kind == "http" or self.api) and not self.token:
            raise SimulationError("the live system's API needs a token (--token)")

    @property
    def remote(self) -> bool:
        """Reports leave this process for a live system with a clock of its own."""
        return self.kind not in ("none", "in-process")

    def sender(
        self, scenario: Scenario, start: datetime, plan: PlanLookup | None = None
    ) -> Sender | None:
        """The sender for this door (None for `none`)."""

        if self.kind == "none":
            return None
        if self.kind == "in-process":
            return PipelineSender.standalone(scenario, start, plan)
        assert self.address is not None
        if self.kind == "http":
            assert self.token is not None
            return PacedPoster(HttpSender(self.address, self.token))
        host, port = parse_address(self.address, f"--{self.kind.removesuffix('-udp')}")
        if self.kind == "mqtt":
            return MqttSender(host, port, client_id=self.client_id, topic_prefix=self.topic_prefix)
        return CotSender(host, port, udp=self.kind == "cot-udp")

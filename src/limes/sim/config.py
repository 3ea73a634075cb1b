"""Knobs of an exercise that are not facts about the border: traffic, steps, sensor reporting.

Everything that models the border itself (sensor laws, speeds, barrier delays, unit readiness)
comes from the scenario through `limes.sensing`; what is here says how an exercise is staged
and how simulated sensors phrase their reports. Every default is documented in
docs/exercise.md and can be changed per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from limes.errors import SimError
from limes.scenario.schema import Knowledge


@dataclass(frozen=True)
class Outage:
    """A sensor out of action from `start_s` to `end_s` (seconds into the run).

    `kind="down"`: the sensor sees nothing. `kind="link"`: it sees, but its reports are held
    and sent when the link returns (they arrive late, with their original times).
    """

    sensor_id: str
    start_s: float
    end_s: float
    kind: str = "down"

    def __post_init__(self) -> None:
        if self.kind not in ("down", "link"):
            raise SimError(f"outage kind must be 'down' or 'link', not {self.kind!r}")
        if not self.end_s > self.start_s:
            raise SimError(f"outage of {self.sensor_id}: end_s must be after start_s")


@dataclass(frozen=True)
class SimConfig:
    """How an exercise is staged; see docs/exercise.md for the meaning of each default.

    Traffic: `actors_per_day` groups arrive (profile drawn by the scenario's `share`).
    Knowledge: a partial/full adversary picks a km with weight (1 − P)^k, k from
    `knowledge_sharpness`. Time: adversaries move in steps of `step_s`; truth is written every
    `truth_step_s`; day is local solar time in [`day_start_h`, `day_end_h`).
    """

    start: datetime = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
    actors_per_day: float = 24.0
    step_s: float = 5.0
    truth_step_s: float = 30.0
    day_start_h: float = 6.0
    day_end_h: float = 18.0
    # --- routes ---------------------------------------------------------------------------
    route_step_m: float = 25.0
    wander_sd_m: float = 300.0
    wander_scale_m: float = 1000.0
    knowledge_sharpness: dict[Knowledge, float] = field(
        default_factory=lambda: {Knowledge.NONE: 0.0, Knowledge.PARTIAL: 2.0, Knowledge.FULL: 8.0}
    )
    vehicle_road_share: float = 0.5
    vehicle_barrier_weight: float = 0.1
    refugee_spread_km: float = 10.0
    nuisance_hours: tuple[float, float] = (1.0, 4.0)
    nuisance_band_m: tuple[float, float] = (300.0, 3000.0)
    light_tries: int = 50
    # --- sensor reports -------------------------------------------------------------------
    class_accuracy: float = 0.8
    nuisance_as_animal: float = 0.4
    confidence_hit: tuple[float, float] = (0.6, 0.95)
    confidence_false: tuple[float, float] = (0.2, 0.6)
    group_size_error: float = 0.3
    outages: tuple[Outage, ...] = ()
    outages_per_sensor_day: float = 0.0
    outage_mean_s: float = 1800.0
    seq_start: int = 1
    # --- response -------------------------------------------------------------------------
    dispatch: bool = True
    units_exclusive: bool = True
    on_scene_s: float = 1800.0
    unit_reach_km: float = 80.0
    response_cell_m: float = 200.0
    # --- scoring --------------------------------------------------------------------------
    alert_match_m: float = 2000.0
    alert_match_s: float = 1800.0

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise SimError("SimConfig.start must be timezone-aware (UTC)")
        positive = ("step_s", "truth_step_s", "route_step_m", "wander_scale_m", "response_cell_m")
        for name in positive:
            if not getattr(self, name) > 0:
                raise SimError(f"SimConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.actors_per_day < 0:
            raise SimError("SimConfig.actors_per_day must be >= 0")
        for name in ("class_accuracy", "nuisance_as_animal", "vehicle_road_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SimError(f"SimConfig.{name} must be within [0, 1]")

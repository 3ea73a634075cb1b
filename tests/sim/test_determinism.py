"""The same seed sends the same bytes; another seed sends others; pacing changes nothing."""

from __future__ import annotations

from pathlib import Path

from limes.clock import SimClock
from limes.scenario.model import Scenario
from limes.sim.config import SimConfig
from limes.sim.run import simulate
from limes.sim.senders import MemorySender

BUSY = SimConfig(actors_per_day=60.0)


def test_same_seed_same_bytes_in_every_file(small: Scenario, tmp_path: Path) -> None:
    a = simulate(small, 12, seed=7, out_dir=tmp_path / "a", config=BUSY)
    b = simulate(small, 12, seed=7, out_dir=tmp_path / "b", config=BUSY)
    assert len(a.emissions) > 50  # enough reports for the comparison to mean something
    assert a.detections_bytes() == b.detections_bytes()
    for name in ("detections.jsonl", "truth.jsonl", "scorecard.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_another_seed_sends_other_bytes(small: Scenario) -> None:
    a = simulate(small, 12, seed=7, config=BUSY)
    b = simulate(small, 12, seed=8, config=BUSY)
    assert a.detections_bytes() != b.detections_bytes()


def test_pacing_and_sender_do_not_change_what_is_sent(small: Scenario) -> None:
    unpaced = simulate(small, 6, seed=3, config=BUSY)
    slept: list[float] = []
    wall = [0.0]

    def sleep(s: float) -> None:
        slept.append(s)
        wall[0] += s

    clock = SimClock(BUSY.start, 600.0, sleep=sleep, monotonic=lambda: wall[0])
    sender = MemorySender()
    paced = simulate(small, 6, seed=3, config=BUSY, sender=sender, clock=clock)
    assert paced.detections_bytes() == unpaced.detections_bytes()
    assert [e.payload for e in sender.emissions] == [e.payload for e in unpaced.emissions]
    # ×600: the last report leaves when its simulated second comes, a six-hundredth as late.
    assert slept
    assert abs(wall[0] - paced.emissions[-1].send_s / 600.0) < 1.0 / 600.0 + 1e-9

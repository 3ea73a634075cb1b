"""The application layer: the simulator composed with a live system.

`limes.sim` makes an exercise (adversaries, sensors, units, scorecard) and knows the live
system only by its inputs and its API, as a real sensor or user would. This package wires the
two together the way an operator would:

- `run.simulate`: `limes simulate` — an exercise sent through a door, its scorecard counting
  the live system's alerts (read back, or from a pipeline in this process).
- `door.Door`: where an exercise's reports go and where its alerts are read back from.
- `in_process.PipelineSender`: a live pipeline in this process, fed through the JSON reader.
- `paced_poster.PacedPoster`: a sender that keeps an accelerated run within a request rate.
- `read_back.read_alerts`: the live system's alerts, from its API.
- `plan_file.plan_from_summary`: the plan an exercise reads from `limes assess`'s files.

`limes demo` (the service with an exercise in it) is `limes.demo`.
"""

from limes.exercise.run import simulate

__all__ = ["simulate"]

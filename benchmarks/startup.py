"""Start-up of the `limes` command: how long a verb takes before it does anything useful.

Measures, each as a fresh process, wall time and CPU time (user + system of the child):
- `limes --help`, `limes scenario list`, `limes track` on a one-line detections file;
- the anchors, in the same run: `python -c pass` (the interpreter alone) and
  `python -m json.tool` on a tiny file (a small standard-library command).

CPU time is the figure to compare on a shared machine (wall time there mostly measures the
queue for a core); both are printed, with the ratio of each verb to `python -m json.tool`.

    .venv/bin/python benchmarks/startup.py [--quick] [--repeats N]

The last line is one JSON object with the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_LINE = {
    "sensor_id": "tw-1",
    "time": "2025-03-01T18:00:00Z",
    "lon": 41.0,
    "lat": 35.0,
    "sd_m": 20.0,
}


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 repeats instead of 10")
    p.add_argument("--repeats", type=int, default=None)
    a = p.parse_args()
    repeats = a.repeats or (3 if a.quick else 10)

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tiny = folder / "tiny.json"
        tiny.write_text('{"a": [1, 2, 3]}')
        one = folder / "one.jsonl"
        one.write_text(json.dumps(ONE_LINE) + "\n")
        commands = {
            "python -c pass": [py, "-c", "pass"],
            "python -m json.tool": [py, "-m", "json.tool", str(tiny)],
            "limes --help": [py, "-m", "limes.cli", "--help"],
            "limes scenario list": [py, "-m", "limes.cli", "scenario", "list"],
            "limes track (one line)": [
                py,
                "-m",
                "limes.cli",
                "track",
                str(one),
                "--out",
                str(folder / "states.jsonl"),
            ],
        }
        # One run each first: fills the numba cache and the file system cache alike.
        for argv in commands.values():
            _run(argv, env)
        walls: dict[str, list[float]] = {k: [] for k in commands}
        cpus: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(repeats):
            for name, argv in commands.items():
                wall, cpu = _run(argv, env)
                walls[name].append(wall)
                cpus[name].append(cpu)

    wall_med = {k: statistics.median(v) for k, v in walls.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpus.items()}
    anchor = "python -m json.tool"
    print(f"{'command':<26}{'wall s':>9}{'CPU s':>9}{'× anchor (CPU)':>16}")
    for name in commands:
        ratio = cpu_med[name] / cpu_med[anchor] if cpu_med[anchor] > 0 else float("nan")
        print(f"{name:<26}{wall_med[name]:>9.3f}{cpu_med[name]:>9.3f}{ratio:>16.1f}")
    load = os.getloadavg()[0]
    print(f"median of {repeats} runs each; load average {load:.1f} on {os.cpu_count()} cores")
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "repeats": repeats,
                "load_average": round(load, 2),
                "wall_s": {k: round(v, 4) for k, v in wall_med.items()},
                "cpu_s": {k: round(v, 4) for k, v in cpu_med.items()},
                "cpu_ratio_to_json_tool": {
                    k: round(cpu_med[k] / cpu_med[anchor], 2) if cpu_med[anchor] > 0 else None
                    for k in commands
                },
            }
        )
    )


if __name__ == "__main__":
    main()

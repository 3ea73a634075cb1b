"""The map's settings: one object, with documented defaults (display choices, not world numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from limes.web.hillshade import HillshadeStyle


@dataclass(frozen=True)
class WebConfig:
    """What `mount_web` serves and how the map draws.

    - `hillshade_min_zoom` / `hillshade_max_zoom`: the Web Mercator zooms of the relief tiles;
      beyond the maximum the map enlarges the last tiles (the terrain has no finer detail).
    - `hillshade`: light and tint of the relief.
    - `coverage_cell_m`: cell size of the coverage outlines (None: the terrain's, at least 100 m).
    - `trail_points` / `trail_s`: a live track's trail keeps this many states, none older.
    - `heading_s`: a track's heading stick reaches where it will be in this many seconds.
    - `alert_flash_s`: how long a new alert flashes on the map.
    - `alert_marker_s`: how long an alert's marker stays on the map (on the system's clock);
      the alert stays in the log and its incident in the queue.
    - `alarm_period_s`: the alarm calls this often while a HIGH/CRITICAL incident waits.
    - `sensor_window_s` / `sensor_late_factor`: the health panel judges each sensor on its
      reports of this window; late when quiet for this many times its usual interval.
    - `replay_max_points`: the most track states one replay request returns.
    """

    hillshade_min_zoom: int = 5
    hillshade_max_zoom: int = 12
    hillshade: HillshadeStyle = field(default_factory=HillshadeStyle)
    coverage_cell_m: float | None = None
    trail_points: int = 20
    trail_s: float = 600.0
    heading_s: float = 120.0
    alert_flash_s: float = 30.0
    alert_marker_s: float = 1800.0
    alarm_period_s: float = 4.0
    sensor_window_s: float = 3600.0
    sensor_late_factor: float = 5.0
    replay_max_points: int = 200_000

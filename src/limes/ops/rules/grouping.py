"""One incident per crossing group: alerts close in place and time share an incident key.

A group crossing the line is often seen as several tracks: one track broken by a long
silence, two sensors' tracks not fused, a group that splits. Each track's alerts would open an
incident of its own, and the duty officer would work one crossing several times. Alerts are
therefore keyed by group: a track's first alert joins the most recent group whose last alert
lies within `radius_m` and `window_s` of it (the scenario's `rules.group_radius_m` and
`rules.group_window_s`), else it starts a group named by its own track id. Every later alert of
that track keeps the key, and the group's anchor follows its latest alert.
"""

from __future__ import annotations

import math


class IncidentGroups:
    """Incident keys for alerts, by track, place (scenario frame, m) and time (POSIX s)."""

    def __init__(self, radius_m: float, window_s: float) -> None:
        self.radius_m = radius_m
        self.window_s = window_s
        self._key_of_track: dict[str, str] = {}
        self._anchors: dict[str, tuple[float, float, float]] = {}  # key -> x, y, t

    def key(self, track_id: str, x: float, y: float, t: float) -> str:
        """The incident key of an alert of `track_id` at (x, y) and time t."""
        key = self._key_of_track.get(track_id)
        if key is None:
            key = self._nearest(x, y, t) or track_id
            self._key_of_track[track_id] = key
        ax = self._anchors.get(key)
        if ax is None or t >= ax[2]:
            self._anchors[key] = (x, y, t)
        return key

    def forget(self, track_id: str) -> None:
        """The track is gone; its group stays open to others until its window passes."""
        self._key_of_track.pop(track_id, None)

    def __len__(self) -> int:
        return len(self._anchors)

    def _nearest(self, x: float, y: float, t: float) -> str | None:
        best: tuple[float, str] | None = None
        stale = []
        for key, (ax, ay, at) in self._anchors.items():
            if t - at > self.window_s:
                stale.append(key)
                continue
            if abs(t - at) > self.window_s:
                continue
            d = math.hypot(x - ax, y - ay)
            if d <= self.radius_m and (best is None or d < best[0]):
                best = (d, key)
        for key in stale:
            del self._anchors[key]
        return best[1] if best is not None else None

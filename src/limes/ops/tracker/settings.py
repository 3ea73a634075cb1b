"""The tracker's settings file: `TrackerConfig` fields in YAML or JSON, checked with their place.

    # tracker.yaml: every key optional; defaults in `TrackerConfig`
    existence: score                 # or m_of_n
    false_track_probability: 1.0e-3
    missed_track_probability: 0.1
    delete_drop: 6.0
    process_noise: {person: 0.1, vehicle: 1.0, animal: 0.3}
    default_sensor: {p_detect: 0.9, clutter_per_m2: 1.0e-6}
    sensors:
      radar-1: {p_detect: 0.9, clutter_per_m2: 1.25e-6}
      camera-3: {hazard_per_s: 0.01, clutter_per_m2: 1.0e-11, p_detect: 0.5}

Sensor laws of a deployment come from its scenario (`limes.ops.sensor_laws`); the file is
for tracking a file whose sensors the scenario does not describe, and for the thresholds.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import yaml

from limes.errors import OpsError
from limes.ops.detection import TargetClass
from limes.ops.tracker.config import SensorLaw, TrackerConfig


class SettingsError(OpsError, ValueError):
    """A settings file that cannot be used, naming the file and the key at fault."""


_CLASS_KEYS = ("process_noise", "initial_speed_sd")
_FIELDS = {f.name for f in dataclasses.fields(TrackerConfig)}


def _law(where: str, raw: Any) -> SensorLaw:
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}: expected a mapping, got {raw!r}")
    known = {f.name for f in dataclasses.fields(SensorLaw)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(f"{where}: unknown keys {unknown} (known: {sorted(known)})")
    values: dict[str, Any] = {k: _number(f"{where}.{k}", v) for k, v in raw.items()}
    try:
        return SensorLaw(**values)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{where}: {exc}") from None


def _number(where: str, value: Any) -> float | None:
    """A law's number as written: YAML reads `1e-5` (no dot) as text, so text that is a number
    is taken as one; anything else is an error naming the key."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise SettingsError(f"{where}: expected a number, got {value!r}")


def tracker_config(raw: dict[str, Any], where: str = "settings", **overrides: Any) -> TrackerConfig:
    """A `TrackerConfig` from a parsed settings mapping (keys as the dataclass fields)."""
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise SettingsError(f"{where}: unknown keys {unknown}")
    values = dict(raw)
    if "sensors" in values:
        sensors = values["sensors"]
        if not isinstance(sensors, dict):
            raise SettingsError(f"{where}: sensors: expected a mapping of sensor id to law")
        values["sensors"] = {str(k): _law(f"{where}: sensors.{k}", v) for k, v in sensors.items()}
    if "default_sensor" in values:
        values["default_sensor"] = _law(f"{where}: default_sensor", values["default_sensor"])
    for key in _CLASS_KEYS:
        if key in values:
            per = values[key]
            if not isinstance(per, dict):
                raise SettingsError(f"{where}: {key}: expected a mapping of class to number")
            try:
                values[key] = {TargetClass(k): float(v) for k, v in per.items()}
            except ValueError as exc:
                raise SettingsError(f"{where}: {key}: {exc}") from None
    if "confusion" in values:
        raise SettingsError(f"{where}: confusion is not read from settings files")
    values.update(overrides)
    try:
        return TrackerConfig(**values)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{where}: {exc}") from None


def load_settings(path: str | Path, **overrides: Any) -> TrackerConfig:
    """Read a JSON or YAML settings file into a `TrackerConfig`."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{source}: cannot read: {exc.strerror or exc}") from None
    try:
        # JSON by its own parser: YAML 1.1 reads JSON's `1e-05` as text, not a number.
        raw = json.loads(text)
    except json.JSONDecodeError:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SettingsError(f"{source}: not YAML or JSON: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{source}: expected a mapping of settings")
    return tracker_config(raw, str(source), **overrides)

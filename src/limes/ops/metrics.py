"""Counters, gauges and histograms of the live pipeline, rendered in Prometheus text format.

A deliberately small, thread-safe registry (the doors count from their own threads) that
writes the Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` lines, then one
sample per line, `name{label="value",…} value`, label values escaped (backslash, double quote,
newline), histograms as cumulative `_bucket{le="…"}` series ending at `+Inf` plus `_sum` and
`_count`. `PipelineMetrics` names the series the pipeline keeps (see docs/pipeline.md).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

#: Detection-to-alert latency buckets (s): 1 ms to 10 s.
LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


def format_value(value: float) -> str:
    """A sample value as the format writes it (integers without a decimal point)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def escape_label(value: str) -> str:
    """A label value escaped for the text format."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """A HELP text escaped for the text format."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{escape_label(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        if not METRIC_NAME.match(name):
            raise ValueError(f"invalid metric name {name!r}")
        for label in labelnames:
            if not LABEL_NAME.match(label) or label.startswith("__") or label == "le":
                raise ValueError(f"invalid label name {label!r} on {name}")
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple(str(labels[n]) for n in self.labelnames)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {escape_help(self.help)}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A value that only goes up (name it `…_total`)."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labelnames)
        self._values: dict[tuple[str, ...], float] = {} if labelnames else {(): 0.0}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add `amount` (≥ 0) to the series of these labels."""
        if amount < 0:
            raise ValueError(f"{self.name}: a counter cannot go down ({amount})")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """The current value of one series (0 if never incremented)."""
        key = self._key(labels)
        with self._lock:
            return self._values.get(key, 0.0)

    def values(self) -> dict[tuple[str, ...], float]:
        """Every series, by label values."""
        with self._lock:
            return dict(self._values)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.labelnames, k)} {format_value(v)}" for k, v in items]


class Gauge(_Metric):
    """A value that goes up and down."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._value = 0.0

    def set(self, value: float) -> None:
        """Set the gauge."""
        with self._lock:
            self._value = float(value)

    @property
    def value(self) -> float:
        with self._lock:
            return self._value

    def samples(self) -> list[str]:
        return [f"{self.name} {format_value(self.value)}"]


class Histogram(_Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Iterable[float]) -> None:
        super().__init__(name, help_text)
        bounds = sorted(float(b) for b in buckets if math.isfinite(b))
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError(f"{name}: buckets must be distinct finite numbers")
        self.bounds = np.array(bounds)
        self._counts = np.zeros(len(bounds) + 1, dtype=np.int64)  # last: above every bound
        self._sum = 0.0

    def observe(self, value: float) -> None:
        """Count one observation."""
        self.observe_many([value])

    def observe_many(self, values: ArrayLike) -> None:
        """Count many observations at once (NaN ignored)."""
        v = np.asarray(values, dtype=float).ravel()
        v = v[~np.isnan(v)]
        if v.size == 0:
            return
        # `le` buckets: a value equal to a bound belongs to it.
        idx = np.searchsorted(self.bounds, v, side="left")
        add = np.bincount(idx, minlength=self._counts.size)
        with self._lock:
            self._counts += add
            self._sum += float(v.sum())

    @property
    def count(self) -> int:
        with self._lock:
            return int(self._counts.sum())

    @property
    def sum(self) -> float:
        with self._lock:
            return self._sum

    def quantile(self, q: float) -> float:
        """An upper bound of the q-quantile: the smallest bucket bound holding it (inf above)."""
        with self._lock:
            cum = np.cumsum(self._counts)
        if cum[-1] == 0:
            return math.nan
        i = int(np.searchsorted(cum, q * cum[-1], side="left"))
        return float(self.bounds[i]) if i < self.bounds.size else math.inf

    def samples(self) -> list[str]:
        with self._lock:
            cum = np.cumsum(self._counts)
            total = self._sum
        out = [
            f'{self.name}_bucket{{le="{format_value(b)}"}} {int(c)}'
            for b, c in zip(self.bounds.tolist(), cum[:-1].tolist(), strict=True)
        ]
        out.append(f'{self.name}_bucket{{le="+Inf"}} {int(cum[-1])}')
        out.append(f"{self.name}_sum {format_value(total)}")
        out.append(f"{self.name}_count {int(cum[-1])}")
        return out


class Registry:
    """The metrics of one process, rendered together."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} registered twice")
        self._metrics[metric.name] = metric

    def counter(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Counter:
        metric = Counter(name, help_text, labelnames)
        self._add(metric)
        return metric

    def gauge(self, name: str, help_text: str) -> Gauge:
        metric = Gauge(name, help_text)
        self._add(metric)
        return metric

    def histogram(self, name: str, help_text: str, buckets: Iterable[float]) -> Histogram:
        metric = Histogram(name, help_text, buckets)
        self._add(metric)
        return metric

    def render(self) -> str:
        """All metrics in the Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        for metric in self._metrics.values():
            lines += metric.header()
            lines += metric.samples()
        return "\n".join(lines) + "\n"


#: The content type a scrape endpoint answers with.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class PipelineMetrics:
    """The pipeline's series (names in docs/pipeline.md), in their own registry."""

    def __init__(self, registry: Registry | None = None) -> None:
        r = self.registry = registry or Registry()
        self.detections_in = r.counter(
            "limes_detections_in_total", "Detections handed to the pipeline by any door."
        )
        self.rejected = r.counter(
            "limes_detections_rejected_total",
            "Reports rejected by a door, by reason (kept as dead letters).",
            ["reason"],
        )
        self.duplicates = r.counter(
            "limes_detections_duplicate_total", "Detections dropped as repeats of (sensor, seq)."
        )
        self.untracked = r.counter(
            "limes_detections_untracked_total",
            "Accepted detections the tracker could not use, by reason (e.g. too late).",
            ["reason"],
        )
        self.tracking_failures = r.counter(
            "limes_tracking_failures_total",
            "Batches of accepted detections the tracker or the rules failed on (logged; stored "
            "detections are tracked again by the recovery of the next start).",
        )
        self.tracks_alive = r.gauge("limes_tracks_alive", "Tracks alive (not deleted).")
        self.alerts = r.counter("limes_alerts_total", "Alerts fired, by rule.", ["rule"])
        self.latency = r.histogram(
            "limes_detection_to_alert_seconds",
            "From the pipeline taking the detection that fired an alert to the alert's emission.",
            LATENCY_BUCKETS_S,
        )

    def render(self) -> str:
        """The Prometheus text of every series."""
        return self.registry.render()

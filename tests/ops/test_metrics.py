"""Metrics render as valid Prometheus text, checked line by line by a strict parser."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from limes.ops.metrics import PipelineMetrics, Registry, format_value

# The text exposition format 0.0.4, line by line.
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_VALUE = r"(?:[+-]?Inf|NaN|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
SAMPLE = re.compile(rf"^({_NAME})(?:\{{((?:{_LABEL})(?:,{_LABEL})*)?\}})? ({_VALUE})(?: -?\d+)?$")
HELP = re.compile(rf"^# HELP ({_NAME}) ((?:[^\\\n]|\\[\\n])*)$")
TYPE = re.compile(rf"^# TYPE ({_NAME}) (counter|gauge|histogram|summary|untyped)$")
ONE_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


@dataclass
class Family:
    name: str
    kind: str = "untyped"
    help: str = ""
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_exposition(text: str) -> dict[str, Family]:
    """Parse Prometheus text strictly; raise AssertionError on anything out of format."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families: dict[str, Family] = {}
    current: Family | None = None
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for n, line in enumerate(text[:-1].split("\n"), 1):
        if m := HELP.match(line):
            assert m.group(1) not in families, f"line {n}: second HELP for {m.group(1)}"
            current = families[m.group(1)] = Family(m.group(1), help=_unescape(m.group(2)))
            continue
        if m := TYPE.match(line):
            name = m.group(1)
            family = families.setdefault(name, Family(name))
            assert not family.samples, f"line {n}: TYPE after samples of {name}"
            family.kind = m.group(2)
            current = family
            continue
        m = SAMPLE.match(line)
        assert m, f"line {n} is not a valid sample: {line!r}"
        name, labels_text, value = m.group(1), m.group(2) or "", m.group(3)
        labels = {k: _unescape(v) for k, v in ONE_LABEL.findall(labels_text)}
        assert current is not None, f"line {n}: sample before any HELP/TYPE"
        allowed = {current.name}
        if current.kind == "histogram":
            allowed = {current.name + s for s in ("_bucket", "_sum", "_count")}
        assert name in allowed, f"line {n}: {name} inside family {current.name}"
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, f"line {n}: duplicate series {key}"
        seen.add(key)
        current.samples.append((name, labels, float(value.replace("Inf", "inf"))))
    for family in families.values():
        if family.kind == "histogram":
            check_histogram(family)
    return families


def check_histogram(family: Family) -> None:
    buckets = [(s[1]["le"], s[2]) for s in family.samples if s[0].endswith("_bucket")]
    assert buckets and buckets[-1][0] == "+Inf", f"{family.name}: no +Inf bucket last"
    bounds = [float(le.replace("Inf", "inf")) for le, _ in buckets]
    counts = [c for _, c in buckets]
    assert bounds == sorted(bounds), f"{family.name}: buckets out of order"
    assert counts == sorted(counts), f"{family.name}: buckets not cumulative"
    count = [s[2] for s in family.samples if s[0].endswith("_count")]
    assert count == [counts[-1]], f"{family.name}: _count differs from the +Inf bucket"
    assert len([s for s in family.samples if s[0].endswith("_sum")]) == 1


def value_of(families: dict[str, Family], name: str, **labels: str) -> float:
    for family in families.values():
        for sample_name, sample_labels, value in family.samples:
            if sample_name == name and sample_labels == labels:
                return value
    raise KeyError((name, labels))


# --- tests ---------------------------------------------------------------------------------


def test_pipeline_metrics_render_and_parse() -> None:
    m = PipelineMetrics()
    m.detections_in.inc(1200)
    m.rejected.inc(reason="malformed")
    m.rejected.inc(3, reason="schema")
    m.duplicates.inc(7)
    m.untracked.inc(2, reason="too late: older than the last processed scan")
    m.tracks_alive.set(42)
    m.alerts.inc(rule="crossed")
    m.latency.observe_many([0.002, 0.02, 0.3, 20.0])
    fam = parse_exposition(m.render())
    assert fam["limes_detections_in_total"].kind == "counter"
    assert value_of(fam, "limes_detections_in_total") == 1200
    assert value_of(fam, "limes_detections_rejected_total", reason="schema") == 3
    assert value_of(fam, "limes_detections_rejected_total", reason="malformed") == 1
    assert value_of(fam, "limes_detections_duplicate_total") == 7
    assert value_of(fam, "limes_tracks_alive") == 42
    assert value_of(fam, "limes_alerts_total", rule="crossed") == 1
    h = "limes_detection_to_alert_seconds"
    assert fam[h].kind == "histogram"
    assert value_of(fam, h + "_bucket", le="0.0025") == 1
    assert value_of(fam, h + "_bucket", le="0.025") == 2
    assert value_of(fam, h + "_bucket", le="0.5") == 3
    assert value_of(fam, h + "_bucket", le="10") == 3
    assert value_of(fam, h + "_bucket", le="+Inf") == 4
    assert value_of(fam, h + "_sum") == pytest.approx(20.322)


def test_histogram_counts_match_numpy() -> None:
    values = np.random.default_rng(3).exponential(0.1, 5000)
    r = Registry()
    h = r.histogram("x_seconds", "test", [0.01, 0.05, 0.1, 0.5, 1.0])
    h.observe_many(values[:2500])
    for v in values[2500:2510]:
        h.observe(float(v))
    h.observe_many(values[2510:])
    fam = parse_exposition(r.render())
    for le in (0.01, 0.05, 0.1, 0.5, 1.0):
        assert value_of(fam, "x_seconds_bucket", le=format_value(le)) == np.sum(values <= le)
    assert value_of(fam, "x_seconds_sum") == pytest.approx(values.sum())
    assert h.quantile(0.5) == 0.1  # the median of Exp(0.1) is 0.069: in the (0.05, 0.1] bucket


def test_a_value_on_a_bound_counts_in_that_bucket() -> None:
    r = Registry()
    h = r.histogram("b", "bounds", [1.0, 2.0])
    h.observe_many([1.0, 2.0, 2.0000001])
    fam = parse_exposition(r.render())
    assert [s[2] for s in fam["b"].samples if s[0] == "b_bucket"] == [1, 2, 3]


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_label_value_and_help_round_trip(label: str, help_text: str) -> None:
    r = Registry()
    c = r.counter("x_total", help_text, ["what"])
    c.inc(what=label)
    fam = parse_exposition(r.render())
    (sample,) = fam["x_total"].samples
    assert sample[1] == {"what": label} and fam["x_total"].help == help_text


@pytest.mark.parametrize(
    ("value", "text"),
    [(3.0, "3"), (0.25, "0.25"), (math.inf, "+Inf"), (-math.inf, "-Inf"), (math.nan, "NaN")],
)
def test_values_are_written_as_the_format_says(value: float, text: str) -> None:
    assert format_value(value) == text


def test_misuse_is_refused() -> None:
    r = Registry()
    c = r.counter("ok_total", "fine", ["reason"])
    with pytest.raises(ValueError, match="cannot go down"):
        c.inc(-1, reason="x")
    with pytest.raises(ValueError, match="takes labels"):
        c.inc(colour="red")
    with pytest.raises(ValueError, match="invalid metric name"):
        r.counter("1bad", "no")
    with pytest.raises(ValueError, match="invalid label name"):
        r.counter("good_total", "no", ["le"])
    with pytest.raises(ValueError, match="twice"):
        r.counter("ok_total", "again")


def test_the_parser_rejects_broken_text() -> None:
    with pytest.raises(AssertionError):
        parse_exposition('# TYPE a counter\na{x="unterminated} 1\n')
    with pytest.raises(AssertionError):
        parse_exposition("# TYPE a counter\na 1")  # no final newline
    with pytest.raises(AssertionError):
        parse_exposition(
            '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n'
        )

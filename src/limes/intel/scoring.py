"""Scoring the reader against a labelled corpus: precision, recall and F1 per kind of fact.

A corpus is a folder of articles, each with a JSON label file beside it (same stem). Matching
rules: a place is found when a predicted place lies within 10 km of a labelled one (each
label matched once); actors and event types by canonical id; an event date when both ends
of the interval are within a day; a quantity when the unit is the same and the value (and
range end) within 1 %. Cleaning is scored by the labelled noise lines still in the body
(boilerplate removed) and the article's own sentences missing from it (sentences lost).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from limes.intel.document import BYLINE, Document, document_paths, read_document
from limes.intel.errors import IntelError
from limes.intel.extraction import Extraction
from limes.intel.gazetteer import distance_km
from limes.intel.ingest import Reader
from limes.intel.text import normalise_space, sentences


@dataclass
class Counts:
    """True positives, false positives and false negatives of one kind of fact."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, tp: int, predicted: int, labelled: int) -> None:
        self.tp += tp
        self.fp += predicted - tp
        self.fn += labelled - tp

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_json(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


KINDS = ("places", "actors", "event_dates", "quantities", "event_types")


@dataclass
class CorpusScore:
    """The scores of one corpus, and the misses for a reader to look at."""

    articles: int = 0
    counts: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    noise_lines: int = 0
    noise_kept: int = 0
    article_sentences: int = 0
    sentences_lost: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def boilerplate_removed(self) -> float:
        return 1.0 - self.noise_kept / self.noise_lines if self.noise_lines else 1.0

    @property
    def sentences_lost_share(self) -> float:
        return self.sentences_lost / self.article_sentences if self.article_sentences else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "articles": self.articles,
            **{k: c.to_json() for k, c in self.counts.items()},
            "boilerplate_removed": round(self.boilerplate_removed, 4),
            "sentences_lost": round(self.sentences_lost_share, 4),
        }


def _match(
    predicted: list[Any], labelled: list[Any], same: Callable[[Any, Any], bool]
) -> tuple[int, list[Any], list[Any]]:
    """Greedy one-to-one matching; the matched count and what stayed unmatched on each side."""
    free = list(labelled)
    extra = []
    for p in predicted:
        hit = next((lab for lab in free if same(p, lab)), None)
        if hit is None:
            extra.append(p)
        else:
            free.remove(hit)
    return len(predicted) - len(extra), extra, free


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 0.01 * max(abs(a), abs(b), 1e-9)


def score_extraction(ex: Extraction, label: dict[str, Any], score: CorpusScore) -> None:
    """Add one article's matches to the corpus score."""
    name = ex.document.id
    places = {p.entry.name: (p.entry.lon, p.entry.lat) for p in ex.places}
    want_places = [(p["name"], (p["lon"], p["lat"])) for p in label.get("places", [])]
    tp, extra, free = _match(
        list(places.items()), want_places, lambda p, lab: distance_km(p[1], lab[1]) <= 10.0
    )
    score.counts["places"].add(tp, len(places), len(want_places))
    score.misses += [f"{name}: place {p[0]} not labelled" for p in extra]
    score.misses += [f"{name}: place {lab[0]} missed" for lab in free]

    actors = {a.actor for a in ex.actors}
    want_actors = set(label.get("actors", []))
    score.counts["actors"].add(len(actors & want_actors), len(actors), len(want_actors))
    score.misses += [f"{name}: actor {a} not labelled" for a in actors - want_actors]
    score.misses += [f"{name}: actor {a} missed" for a in want_actors - actors]

    dates = sorted({(d.start, d.end) for d in ex.dates})
    want_dates = [
        (date.fromisoformat(a), date.fromisoformat(b)) for a, b in label.get("event_dates", [])
    ]
    tp, extra, free = _match(
        dates,
        want_dates,
        lambda p, lab: abs((p[0] - lab[0]).days) <= 1 and abs((p[1] - lab[1]).days) <= 1,
    )
    score.counts["event_dates"].add(tp, len(dates), len(want_dates))
    score.misses += [f"{name}: date {p[0]}/{p[1]} not labelled" for p in extra]
    score.misses += [f"{name}: date {lab[0]}/{lab[1]} missed" for lab in free]

    quantities = sorted({(q.value, q.max, q.unit) for q in ex.quantities}, key=str)
    want_q = [tuple(q) for q in label.get("quantities", [])]
    tp, extra, free = _match(
        quantities,
        want_q,
        lambda p, lab: p[2] == lab[2] and _close(p[0], lab[0]) and _close(p[1], lab[1]),
    )
    score.counts["quantities"].add(tp, len(quantities), len(want_q))
    score.misses += [f"{name}: quantity {p} not labelled" for p in extra]
    score.misses += [f"{name}: quantity {lab} missed" for lab in free]

    types = ex.event_types
    want_types = set(label.get("event_types", []))
    score.counts["event_types"].add(len(types & want_types), len(types), len(want_types))
    score.misses += [f"{name}: event {t} not labelled" for t in types - want_types]
    score.misses += [f"{name}: event {t} missed" for t in want_types - types]


def article_sentences(path: Path, noise: Iterable[str], title: str = "") -> list[str]:
    """The article's own sentences as written, for the sentences-lost measure.

    Plain text and e-mail: every line after the header block (up to the first blank line)
    that is not labelled noise, nor the headline. HTML (and HTML e-mail): the paragraphs
    inside <article> (or the whole body) that are not noise.
    """
    import lxml.html

    skip = {normalise_space(n) for n in noise}
    if title and title[-1:] not in ".!?":
        skip.add(normalise_space(title))
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix == ".eml":
        text = text.split("\n\n", 1)[1]
    if suffix in (".html", ".htm") or text.lstrip().startswith("<"):
        root = lxml.html.fromstring(text.encode())
        paras = root.xpath("//article//p") or root.xpath("//p")
        lines = [normalise_space(p.text_content()) for p in paras]
    else:
        if suffix != ".eml" and "\n\n" in text:
            text = text.split("\n\n", 1)[1]
        lines = [normalise_space(x) for x in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line and line not in skip and not BYLINE.match(line):
            out += [s.text(line) for s in sentences(line)]
    return out


def score_cleaning(doc: Document, path: Path, label: dict[str, Any], score: CorpusScore) -> None:
    """Count labelled noise still in the body, and article sentences missing from it."""
    body_lines = {normalise_space(x) for x in doc.body.split("\n")}
    flat = normalise_space(doc.body)
    for n in label.get("noise", []):
        line = normalise_space(n)
        score.noise_lines += 1
        kept = line in body_lines or (len(line.split()) > 3 and line in flat)
        if kept:
            score.noise_kept += 1
            score.misses.append(f"{doc.id}: noise kept: {line}")
    for s in article_sentences(path, label.get("noise", []), doc.title):
        score.article_sentences += 1
        if normalise_space(s) not in flat:
            score.sentences_lost += 1
            score.misses.append(f"{doc.id}: sentence lost: {s}")


def load_label(path: Path) -> dict[str, Any]:
    """The label file beside an article."""
    lab = path.with_suffix(".json")
    if not lab.exists():
        raise IntelError(f"{path}: no label file {lab.name} beside it")
    try:
        data = json.loads(lab.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise IntelError(f"{lab}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise IntelError(f"{lab}: expected a JSON object")
    return data


def score_corpus(folder: Path, reader: Reader) -> tuple[CorpusScore, list[Extraction]]:
    """Read and score every labelled article in a folder."""
    score = CorpusScore()
    extractions = []
    for path in document_paths(folder):
        label = load_label(path)
        doc = read_document(path, reader.register)
        ex = reader.extract(doc)
        extractions.append(ex)
        score.articles += 1
        score_extraction(ex, label, score)
        score_cleaning(doc, path, label, score)
    return score, extractions

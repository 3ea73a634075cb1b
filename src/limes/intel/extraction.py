"""From a cleaned document to its facts and claims, every one with its character span.

Facts are found over the whole body (places, actors, dates, quantities) and event cues per
sentence. A claim is one event type in one document at one place: the sentences that report
it, with the facts inside them. A sentence without a place or date of its own takes the
nearest one before it in the same paragraph, then the article's first (the lead usually
says where and when); such a claim says its date was inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from limes.intel.actors import ActorMention, ActorTable
from limes.intel.dates import DateMention, find_dates
from limes.intel.document import Document
from limes.intel.events import EventCue, classify_sentence
from limes.intel.gazetteer import Gazetteer, PlaceMention
from limes.intel.quantities import Quantity, find_quantities
from limes.intel.text import Span, paragraphs, sentences


@dataclass
class Claim:
    """One event type reported by one document at one place (a draft report before grading)."""

    document: Document
    event_type: str
    spans: list[Span]
    cues: list[Span]
    places: list[PlaceMention]
    actors: list[ActorMention]
    quantities: list[Quantity]
    dates: list[DateMention]
    date_inferred: bool = False
    place_inferred: bool = False

    @property
    def span(self) -> Span:
        return Span(min(s.start for s in self.spans), max(s.end for s in self.spans))

    @property
    def place(self) -> PlaceMention | None:
        """The claim's main place: the first one near the border, else the first."""
        near = [p for p in self.places if p.sector is not None]
        pick = near or self.places
        return pick[0] if pick else None

    @property
    def date(self) -> DateMention | None:
        """The claim's event date: its narrowest date expression."""
        if not self.dates:
            return None
        return min(self.dates, key=lambda d: ((d.end - d.start).days, d.span.start))


@dataclass
class Extraction:
    """All facts found in one document, and the claims built from them."""

    document: Document
    places: list[PlaceMention]
    actors: list[ActorMention]
    dates: list[DateMention]
    quantities: list[Quantity]
    cues: list[EventCue]
    claims: list[Claim] = field(default_factory=list)

    @property
    def event_types(self) -> set[str]:
        return {c.event_type for c in self.cues}


class _Spanned(Protocol):
    @property
    def span(self) -> Span: ...


T = TypeVar("T", bound=_Spanned)


def _inside(items: list[T], span: Span) -> list[T]:
    return [x for x in items if span.contains(x.span)]


def _before(items: list[T], pos: int, lo: int) -> list[T]:
    """The last item that ends before `pos` and starts at or after `lo` (as a 0/1 list)."""
    prior = [x for x in items if lo <= x.span.start and x.span.end <= pos]
    return prior[-1:]


def extract(doc: Document, gazetteer: Gazetteer, actors: ActorTable) -> Extraction:
    """Facts and claims of one document."""
    body = doc.body
    published = doc.published.date() if doc.published else None
    ex = Extraction(
        doc,
        gazetteer.find(body),
        actors.find(body),
        find_dates(body, published),
        find_quantities(body),
        [],
    )
    paras = list(paragraphs(body))
    by_key: dict[tuple[str, str | None], Claim] = {}
    for sent in sentences(body):
        cues = classify_sentence(body, sent)
        if not cues:
            continue
        ex.cues += cues
        para = next((p for p in paras if p.contains(sent)), sent)
        places = _inside(ex.places, sent)
        place_inferred = not places
        if not places:
            places = _before(ex.places, sent.start, para.start) or ex.places[:1]
        dates = _inside(ex.dates, sent)
        date_inferred = not dates
        if not dates:
            dates = _before(ex.dates, sent.start, para.start) or ex.dates[:1]
        for cue in cues:
            key = (cue.event_type, places[0].entry.name if places else None)
            claim = by_key.get(key)
            if claim is None:
                claim = by_key[key] = Claim(
                    doc, cue.event_type, [], [], [], [], [], [], date_inferred, place_inferred
                )
                ex.claims.append(claim)
            claim.spans.append(sent)
            claim.cues.append(cue.cue)
            claim.places += [p for p in places if p not in claim.places]
            claim.actors += [a for a in _inside(ex.actors, sent) if a not in claim.actors]
            claim.quantities += _inside(ex.quantities, sent)
            claim.dates += [d for d in dates if d not in claim.dates]
            claim.date_inferred = claim.date_inferred and date_inferred
            claim.place_inferred = claim.place_inferred and place_inferred
    return ex

"""Character spans, sentences and paragraphs of a cleaned article body.

Every extracted fact points back into the body by a half-open character span `[start, end)`,
so an analyst can see the words it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Abbreviations after which a full stop does not end a sentence.
_ABBREV = frozenset(
    (
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "sgt",
        "brig",
        "cpl",
        "adm",
        "gov",
        "sen",
        "rep",
        "st",
        "no",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "approx",
        "est",
        "u.s",
        "u.n",
        "e.g",
        "i.e",
        "vs",
        "inc",
        "ltd",
    )
)
_BOUNDARY = re.compile(r"[.!?][\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


@dataclass(frozen=True)
class Span:
    """A half-open character interval of the body."""

    start: int
    end: int

    def text(self, body: str) -> str:
        return body[self.start : self.end]

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end


def paragraphs(body: str) -> Iterator[Span]:
    """The non-empty lines of the body (a cleaned body holds one paragraph a line)."""
    pos = 0
    for line in body.split("\n"):
        stripped = line.strip()
        if stripped:
            start = pos + line.index(stripped)
            yield Span(start, start + len(stripped))
        pos += len(line) + 1


def sentences(body: str) -> list[Span]:
    """Sentence spans, in order, never crossing a paragraph."""
    out: list[Span] = []
    for para in paragraphs(body):
        text = para.text(body)
        start = 0
        for m in _BOUNDARY.finditer(text):
            before = _WORD_BEFORE.search(text, 0, m.start() + 1)
            if before and before.group(1).lower() in _ABBREV:
                continue
            end = m.start() + len(m.group(0).rstrip())
            piece = text[start:end].strip()
            if piece:
                s = para.start + start + (len(text[start:end]) - len(text[start:end].lstrip()))
                out.append(Span(s, s + len(piece)))
            start = m.end()
        piece = text[start:].strip()
        if piece:
            s = para.start + start + (len(text[start:]) - len(text[start:].lstrip()))
            out.append(Span(s, s + len(piece)))
    return out


def normalise_space(text: str) -> str:
    """One space between words, no leading or trailing space (for comparing lines)."""
    return " ".join(text.split())

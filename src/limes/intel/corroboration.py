"""Who said it first, and how many independent origins say the same: information credibility.

Two outlets running one wire story are one origin, not two: documents whose bodies are near
duplicates (word 5-gram shingles, most of the shorter text's found in the other: containment,
counted exactly through an inverted index) are grouped into one origin. A claim is
corroborated by the claims of other origins that report the same event type at the same place
(within `same_place_km`, or the same sector within that many km of chainage) at overlapping
dates (within `same_days`).

Origins are counted by voice: two articles of one outlet count once even when worded apart.

Admiralty information credibility from the number of independent origins: three or more →
1 (confirmed by other sources), two → 2 (probably true), one → 3 (possibly true). A claim
the scenario contradicts (see `border_check`) and that no second origin supports is 4
(doubtful). Credibility is assessed apart from the source's reliability.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from limes.intel.document import Document
from limes.intel.extraction import Claim
from limes.intel.gazetteer import distance_km

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class CorroborationSettings:
    """How alike two texts or two claims must be to count as one (reading choices)."""

    shingle_words: int = 5
    duplicate_share: float = 0.5  # of the shorter text's shingles found in the other
    max_postings: int = 200  # documents sharing one shingle before it counts as boilerplate
    same_place_km: float = 25.0
    same_days: int = 2


class _Groups:
    """Union-find over indices; each group is named by its smallest member."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)

    def names(self) -> list[int]:
        return [self.find(i) for i in range(len(self.parent))]


def shingles(text: str, k: int) -> set[int]:
    """Hashes of the word k-grams of a text (lower-cased), as 64-bit integers."""
    words = _WORD.findall(text.lower())
    if len(words) < k:
        words = words + [""] * (k - len(words))
    out = set()
    for i in range(len(words) - k + 1):
        digest = hashlib.blake2b(" ".join(words[i : i + k]).encode(), digest_size=8).digest()
        out.add(int.from_bytes(digest, "little") >> 3)  # below the Mersenne prime
    return out


def origins(docs: Sequence[Document], settings: CorroborationSettings | None = None) -> list[int]:
    """An origin index per document: near-duplicate bodies share one (the earliest's).

    Shared shingles are counted exactly through an inverted index (shingle → documents), so
    every pair that shares any shingle is weighed. MinHash would estimate Jaccard similarity
    instead, which is low when a short wire story sits inside a long article of the outlet's
    own — a republication all the same. A shingle found in more than `max_postings` documents
    is boilerplate that cleaning missed and is not counted.
    """
    st = settings or CorroborationSettings()
    sets = [shingles(d.body, st.shingle_words) for d in docs]
    postings: dict[int, list[int]] = {}
    for i, sh in enumerate(sets):
        for h in sh:
            postings.setdefault(h, []).append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for members in postings.values():
        if 1 < len(members) <= st.max_postings:
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    shared[(members[x], members[y])] += 1
    groups = _Groups(len(docs))
    for (i, j), n in shared.items():
        if n / min(len(sets[i]), len(sets[j])) >= st.duplicate_share:
            groups.join(i, j)
    return groups.names()


def near_duplicate(a: set[int], b: set[int], share: float) -> bool:
    """True when the shorter text's shingles are mostly found in the other (republication)."""
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= share


@dataclass(frozen=True)
class Subject:
    """What a claim about the border's own state is about: a stretch and a stated length.

    Two such claims are the same claim only when they speak of the same stretch and agree on
    the length ("140 of 220 km closed" twice); "60 km" does not corroborate "140 km".
    """

    stretch: str
    km: float

    def agrees(self, other: Subject) -> bool:
        return self.stretch == other.stretch and abs(self.km - other.km) <= 0.1 * max(
            self.km, other.km
        )


def same_claim(
    x: Claim,
    y: Claim,
    st: CorroborationSettings,
    sx: Subject | None = None,
    sy: Subject | None = None,
) -> bool:
    """Same event type, same place (or sector stretch), overlapping dates.

    Claims about the border's own state compare their subjects instead of their places.
    """
    if x.event_type != y.event_type:
        return False
    if sx is not None or sy is not None:
        return sx is not None and sy is not None and sx.agrees(sy)
    px, py = x.place, y.place
    if px is None or py is None:
        return False
    near = distance_km((px.entry.lon, px.entry.lat), (py.entry.lon, py.entry.lat)) <= (
        st.same_place_km
    )
    if not near and px.sector is not None and px.sector == py.sector:
        assert px.chainage_km is not None and py.chainage_km is not None
        near = abs(px.chainage_km - py.chainage_km) <= st.same_place_km
    if not near:
        return False
    dx, dy = x.date, y.date
    if dx is None or dy is None:
        return True
    slack = st.same_days
    return (dx.start - dy.end).days <= slack and (dy.start - dx.end).days <= slack


def credibility(independent_origins: int, contradicted: bool) -> int:
    """Admiralty information credibility (1 confirmed … 6 cannot be judged)."""
    if independent_origins >= 3:
        return 1
    if independent_origins == 2:
        return 2
    return 4 if contradicted else 3


@dataclass(frozen=True)
class Corroboration:
    """For one claim: its origin and the documents of other origins reporting the same."""

    origin: str
    independent_origins: int
    corroborated_by: tuple[str, ...]
    republished_by: tuple[str, ...]


def _voices(docs: Sequence[Document], origin_of_doc: Sequence[int]) -> list[int]:
    """Per document, who is really speaking: documents joined by origin and by outlet.

    Two articles of one outlet about one event are one voice even when worded apart; two
    outlets running one story are one voice through their shared origin (and so, cautiously,
    is everything else those outlets say).
    """
    groups = _Groups(len(docs))
    first_of_outlet: dict[str, int] = {}
    for i, d in enumerate(docs):
        groups.join(i, origin_of_doc[i])
        if d.source:
            groups.join(i, first_of_outlet.setdefault(d.source.casefold(), i))
    return groups.names()


def corroborate(
    claims: Sequence[Claim],
    docs: Sequence[Document],
    settings: CorroborationSettings | None = None,
    subjects: Sequence[Subject | None] | None = None,
) -> list[Corroboration]:
    """Count, for every claim, the independent origins that report the same event."""
    st = settings or CorroborationSettings()
    subj = list(subjects) if subjects is not None else [None] * len(claims)
    origin_of_doc = origins(docs, st)
    index = {d.id: i for i, d in enumerate(docs)}
    origin_name = {i: docs[origin_of_doc[i]].id for i in range(len(docs))}
    voice = _voices(docs, origin_of_doc)
    out = []
    for k, c in enumerate(claims):
        mine = origin_of_doc[index[c.document.id]]
        same = [o for j, o in enumerate(claims) if o is c or same_claim(c, o, st, subj[k], subj[j])]
        others = sorted(
            {o.document.id for o in same if origin_of_doc[index[o.document.id]] != mine}
        )
        republished = sorted(
            {
                o.document.id
                for o in same
                if o.document.id != c.document.id and origin_of_doc[index[o.document.id]] == mine
            }
        )
        n = len({voice[index[o.document.id]] for o in same})
        out.append(
            Corroboration(origin_name[index[c.document.id]], n, tuple(others), tuple(republished))
        )
    return out

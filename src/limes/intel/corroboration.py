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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

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
    return group_origins([shingles(d.body, st.shingle_words) for d in docs], st)


def group_origins(sets: Sequence[set[int]], st: CorroborationSettings) -> list[int]:
    """An origin index per shingle set (see `origins`): near duplicates share the first's."""
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
    groups = _Groups(len(sets))
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


@dataclass(frozen=True)
class ClaimKey:
    """What decides whether two claims are the same: event type, place, dates, subject.

    Built from a claim in a batch (`of_claim`) or from a stored draft report (`of_draft`), so
    claims of a later batch are compared with those already filed by the same rule.
    """

    event_type: str
    lon: float | None = None
    lat: float | None = None
    sector: str | None = None
    chainage_km: float | None = None
    start: date | None = None
    end: date | None = None
    subject: Subject | None = None

    @classmethod
    def of_claim(cls, claim: Claim, subject: Subject | None = None) -> ClaimKey:
        p, d = claim.place, claim.date
        return cls(
            claim.event_type,
            None if p is None else p.entry.lon,
            None if p is None else p.entry.lat,
            None if p is None else p.sector,
            None if p is None else p.chainage_km,
            None if d is None else d.start,
            None if d is None else d.end,
            subject,
        )

    @classmethod
    def of_draft(cls, draft: Mapping[str, Any]) -> ClaimKey:
        """From a `reports.jsonl` line: its main place (the first in a sector, else the
        first), its event date, and the stretch and length of a border-state claim."""
        places = [p for p in draft.get("places") or [] if isinstance(p, Mapping)]
        p = next((q for q in places if q.get("sector")), places[0] if places else None)
        when = draft.get("event_date")
        start = end = None
        if isinstance(when, Mapping) and when.get("start") and when.get("end"):
            start = date.fromisoformat(str(when["start"])[:10])
            end = date.fromisoformat(str(when["end"])[:10])
        check = draft.get("scenario_check")
        subject = None
        if isinstance(check, Mapping) and check.get("stretch") is not None:
            subject = Subject(str(check["stretch"]), float(check["reported_closed_km"]))
        chain = None if p is None else p.get("chainage_km")
        return cls(
            str(draft.get("event_type") or ""),
            None if p is None else float(p["lon"]),
            None if p is None else float(p["lat"]),
            None if p is None else p.get("sector"),
            None if chain is None else float(chain),
            start,
            end,
            subject,
        )


def same_claim(x: ClaimKey, y: ClaimKey, st: CorroborationSettings) -> bool:
    """Same event type, same place (or sector stretch), overlapping dates.

    Claims about the border's own state compare their subjects instead of their places.
    """
    if x.event_type != y.event_type:
        return False
    if x.subject is not None or y.subject is not None:
        return x.subject is not None and y.subject is not None and x.subject.agrees(y.subject)
    if x.lon is None or x.lat is None or y.lon is None or y.lat is None:
        return False
    near = distance_km((x.lon, x.lat), (y.lon, y.lat)) <= st.same_place_km
    if not near and x.sector is not None and x.sector == y.sector:
        assert x.chainage_km is not None and y.chainage_km is not None
        near = abs(x.chainage_km - y.chainage_km) <= st.same_place_km
    if not near:
        return False
    if x.start is None or x.end is None or y.start is None or y.end is None:
        return True
    slack = st.same_days
    return (x.start - y.end).days <= slack and (y.start - x.end).days <= slack


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


def voices(sources: Sequence[str | None], origin_of_doc: Sequence[int]) -> list[int]:
    """Per document, who is really speaking: documents joined by origin and by outlet.

    Two articles of one outlet about one event are one voice even when worded apart; two
    outlets running one story are one voice through their shared origin (and so, cautiously,
    is everything else those outlets say).
    """
    groups = _Groups(len(sources))
    first_of_outlet: dict[str, int] = {}
    for i, source in enumerate(sources):
        groups.join(i, origin_of_doc[i])
        if source:
            groups.join(i, first_of_outlet.setdefault(source.casefold(), i))
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
    voice = voices([d.source for d in docs], origin_of_doc)
    keys = [ClaimKey.of_claim(c, subj[k]) for k, c in enumerate(claims)]
    out = []
    for k, c in enumerate(claims):
        mine = origin_of_doc[index[c.document.id]]
        same = [o for j, o in enumerate(claims) if o is c or same_claim(keys[k], keys[j], st)]
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

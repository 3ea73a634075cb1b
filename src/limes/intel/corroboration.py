"""Who said it first, and how many independent origins say the same: information credibility.

Two outlets running one wire story are one origin, not two: documents whose bodies are near
duplicates (word 5-gram shingles; candidates found by MinHash with LSH banding, confirmed by
the exact share of shingles) are grouped into one origin. A claim is corroborated by the
claims of other origins that report the same event type at the same place (within
`same_place_km`, or the same sector within that many km of chainage) at overlapping dates
(within `same_days`).

Admiralty information credibility from the number of independent origins: three or more →
1 (confirmed by other sources), two → 2 (probably true), one → 3 (possibly true). A claim
the scenario contradicts (see `border_check`) and that no second origin supports is 4
(doubtful). Credibility is assessed apart from the source's reliability.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from limes.intel.document import Document
from limes.intel.extraction import Claim

_WORD = re.compile(r"\w+")
_PRIME = np.uint64((1 << 61) - 1)


@dataclass(frozen=True)
class CorroborationSettings:
    """How alike two texts or two claims must be to count as one (reading choices)."""

    shingle_words: int = 5
    duplicate_share: float = 0.5  # of the shorter text's shingles found in the other
    permutations: int = 64
    bands: int = 16
    same_place_km: float = 25.0
    same_days: int = 2


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


def minhash(sh: set[int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The MinHash signature of a shingle set under the permutations (a·x + b) mod p."""
    if not sh:
        return np.full(len(a), np.iinfo(np.uint64).max, dtype=np.uint64)
    x = np.fromiter(sh, dtype=np.uint64)
    # (a*x + b) mod p in Python ints would be exact; uint64 wraps, which is still a hash
    # family good enough to pick candidates (confirmed exactly below).
    h = (a[:, None] * x[None, :] + b[:, None]) % _PRIME
    return np.asarray(h.min(axis=1), dtype=np.uint64)


def origins(
    docs: Sequence[Document], settings: CorroborationSettings | None = None
) -> list[int]:
    """An origin index per document: near-duplicate bodies share one (the earliest's)."""
    st = settings or CorroborationSettings()
    rng = np.random.default_rng(20210601)
    a = rng.integers(1, 1 << 61, size=st.permutations, dtype=np.uint64)
    b = rng.integers(0, 1 << 61, size=st.permutations, dtype=np.uint64)
    sets = [shingles(d.body, st.shingle_words) for d in docs]
    sigs = [minhash(s, a, b) for s in sets]
    rows = st.permutations // st.bands
    buckets: dict[tuple[int, bytes], list[int]] = {}
    for i, sig in enumerate(sigs):
        for band in range(st.bands):
            key = (band, sig[band * rows : (band + 1) * rows].tobytes())
            buckets.setdefault(key, []).append(i)
    parent = list(range(len(docs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                i, j = members[x], members[y]
                if (i, j) in checked:
                    continue
                checked.add((i, j))
                if near_duplicate(sets[i], sets[j], st.duplicate_share):
                    ri, rj = find(i), find(j)
                    if ri != rj:
                        parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(len(docs))]


def near_duplicate(a: set[int], b: set[int], share: float) -> bool:
    """True when the shorter text's shingles are mostly found in the other (republication)."""
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= share


def _distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on a 6371 km sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


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
    near = _distance_km(px.entry.lon, px.entry.lat, py.entry.lon, py.entry.lat) <= st.same_place_km
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
    out = []
    for k, c in enumerate(claims):
        mine = origin_of_doc[index[c.document.id]]
        same = [o for j, o in enumerate(claims)
                if o is c or same_claim(c, o, st, subj[k], subj[j])]
        others = sorted({o.document.id for o in same
                         if origin_of_doc[index[o.document.id]] != mine})
        republished = sorted({o.document.id for o in same if o.document.id != c.document.id
                              and origin_of_doc[index[o.document.id]] == mine})
        n = len({origin_of_doc[index[o.document.id]] for o in same})
        out.append(Corroboration(origin_name[index[c.document.id]], n, tuple(others),
                                 tuple(republished)))
    return out

"""Budgeted siting: which candidates to buy, in which order, for the most objective per cost.

The optimiser knows nothing of borders: a candidate has a cost and a key, and an `Oracle`
says what the objective is for a set of candidates and what one more would add to a set.
Three searches share it:

- `lazy_greedy`: greedy by marginal gain per cost with lazy re-evaluation (Minoux's
  accelerated greedy, CELF): a candidate's last gain is an upper bound on its gain now when
  the objective is submodular, so only the top of the queue is re-evaluated; a candidate whose
  fresh gain still tops the queue is bought. Where the objective is not submodular (a camera
  can help more once a neighbour sees the approach) the bound can be wrong and greedy is a
  heuristic; `swap_improve` then repairs the worst of it.
- `swap_improve`: one pass over the package, trying to replace each item by an unchosen
  candidate (the best few by last gain) when that raises the objective within the budget.
- `exhaustive`: every affordable set, for checking the two above on small instances.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

C = TypeVar("C", bound=Hashable)
C_in = TypeVar("C_in", contravariant=True)
S = TypeVar("S")


class Oracle(Protocol[C_in, S]):
    """The objective over sets of candidates, incrementally.

    `start()` is the state with nothing bought; `add(state, c)` the state with one more and its
    objective; `value(state)` the objective of a state. An oracle may also offer
    `without(state, c)`, the state with one bought item taken out, which swaps then use.
    """

    def start(self) -> S: ...

    def add(self, state: S, cand: C_in) -> S: ...

    def value(self, state: S) -> float: ...


@dataclass
class Bought(Generic[C]):
    """One purchase: the candidate, its marginal gain when bought, and the cost."""

    cand: C
    gain: float
    cost: float

    @property
    def gain_per_cost(self) -> float:
        return self.gain / self.cost if self.cost > 0 else float("inf")


@dataclass
class Package(Generic[C, S]):
    """What the search bought, in order, with the objective before and after."""

    items: list[Bought[C]]
    state: S
    before: float
    after: float
    evaluations: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return sum(b.cost for b in self.items)


def _cost(c: object) -> float:
    return float(getattr(c, "cost"))  # noqa: B009 - Protocol attribute on a generic


def lazy_greedy(
    oracle: Oracle[C, S],
    candidates: Sequence[C],
    budget: float,
    progress: Callable[[int, int], None] | None = None,
    min_gain: float = 1e-12,
    first: C | None = None,
) -> Package[C, S]:
    """Greedy by gain per cost with lazy re-evaluation; stops when nothing affordable gains.

    `first`, when given, is bought before the greedy starts (a seed of `multi_start`)."""
    state = oracle.start()
    before = oracle.value(state)
    current = before
    spent = 0.0
    evaluations = 0
    items: list[Bought[C]] = []
    if first is not None:
        state = oracle.add(state, first)
        evaluations += 1
        gain = oracle.value(state) - current
        current += gain
        spent += _cost(first)
        items.append(Bought(first, gain, _cost(first)))
        candidates = [c for c in candidates if c != first]
    # (−bound, tie, index, round the bound was computed in)
    heap: list[tuple[float, int, int, int]] = []
    for i, c in enumerate(candidates):
        if _cost(c) <= budget:
            heap.append((-float("inf"), i, i, -1))
    heapq.heapify(heap)
    round_ = 0
    cache: dict[int, tuple[S, float]] = {}
    total = len(heap)
    while heap:
        _, tie, i, when = heapq.heappop(heap)
        c = candidates[i]
        if spent + _cost(c) > budget + 1e-9:
            continue  # unaffordable now, and spending only grows
        if when != round_:
            new_state = oracle.add(state, c)
            evaluations += 1
            gain = oracle.value(new_state) - current
            cache[i] = (new_state, gain)
            heapq.heappush(heap, (-(gain / max(_cost(c), 1e-12)), tie, i, round_))
            if progress:
                progress(evaluations, total)
            continue
        new_state, gain = cache.pop(i)
        if gain <= min_gain:
            break  # the best fresh gain is nothing: nothing left helps
        state, current = new_state, current + gain
        spent += _cost(c)
        items.append(Bought(c, gain, _cost(c)))
        round_ += 1
        cache.clear()
    return Package(items, state, before, current, evaluations)


def swap_improve(
    oracle: Oracle[C, S],
    candidates: Sequence[C],
    package: Package[C, S],
    budget: float,
    tries_per_item: int = 5,
    neighbours: Callable[[C], Sequence[C]] | None = None,
    passes: int = 3,
) -> Package[C, S]:
    """Passes of 1-for-1 swaps that raise the objective within the budget (until one pass
    changes nothing, at most `passes`).

    For each bought item, the alternatives (`neighbours(item)`, default every candidate) are
    scored on top of the rest of the package and the best `tries_per_item` tried in turn; the
    first that beats the package replaces the item.
    """
    chosen = [b.cand for b in package.items]
    best_value = package.after
    evaluations = package.evaluations
    swaps = 0

    state = package.state
    remove = getattr(oracle, "without", None)

    def try_swap(pos: int) -> bool:
        nonlocal best_value, evaluations, state
        rest = chosen[:pos] + chosen[pos + 1 :]
        spent = sum(_cost(c) for c in rest)
        if remove is not None:
            # The oracle can take one item out of a state (one evaluation, not len(rest)).
            base = remove(state, chosen[pos])
            evaluations += 1
        else:
            base = oracle.start()
            for c in rest:
                base = oracle.add(base, c)
            evaluations += len(rest)
        pool = neighbours(chosen[pos]) if neighbours else candidates
        trial = []
        for alt in pool:
            if alt in chosen or spent + _cost(alt) > budget + 1e-9:
                continue
            trial.append((oracle.value(oracle.add(base, alt)), alt))
            evaluations += 1
        trial.sort(key=lambda t: -t[0])
        for value, alt in trial[:tries_per_item]:
            if value > best_value + 1e-12:
                chosen[pos] = alt
                best_value = value
                state = oracle.add(base, alt)
                evaluations += 1
                return True
        return False

    for _ in range(passes):
        before_pass = swaps
        for pos in range(len(chosen)):
            swaps += try_swap(pos)
        if swaps == before_pass:
            break
    if swaps == 0:
        package.evaluations = evaluations
        return package
    # Rebuild the order and marginal gains of the improved package greedily.
    state = oracle.start()
    current = oracle.value(state)
    items: list[Bought[C]] = []
    remaining = list(chosen)
    while remaining:
        best = None
        for c in remaining:
            st = oracle.add(state, c)
            evaluations += 1
            g = oracle.value(st) - current
            if best is None or g / max(_cost(c), 1e-12) > best[0]:
                best = (g / max(_cost(c), 1e-12), c, st, g)
        assert best is not None
        _, c, state, g = best
        current += g
        items.append(Bought(c, g, _cost(c)))
        remaining.remove(c)
    out = Package(items, state, package.before, current, evaluations, list(package.notes))
    out.notes.append(f"{swaps} swap(s) improved the greedy package")
    return out


def multi_start(
    oracle: Oracle[C, S],
    candidates: Sequence[C],
    budget: float,
    starts: int,
    progress: Callable[[int, int], None] | None = None,
) -> Package[C, S]:
    """Greedy, and greedy again from each of the `starts` best single items bought first;
    the best package wins (partial enumeration of the first item, after Khuller, Moss and
    Naor's budgeted maximum coverage). It repairs the case greedy misses most: a first item
    that is best alone but leaves no room for a pair that works together."""
    best = lazy_greedy(oracle, candidates, budget, progress)
    singles = []
    for c in candidates:
        if _cost(c) <= budget:
            singles.append((oracle.value(oracle.add(oracle.start(), c)) / _cost(c), c))
    evaluations = best.evaluations + len(singles)
    singles.sort(key=lambda t: -t[0])
    for _, c in singles[:starts]:
        pkg = lazy_greedy(oracle, candidates, budget, progress, first=c)
        evaluations += pkg.evaluations
        if pkg.after > best.after + 1e-12:
            best = pkg
    best.evaluations = evaluations
    return best


def exhaustive(
    oracle: Oracle[C, S], candidates: Sequence[C], budget: float, max_items: int | None = None
) -> tuple[float, tuple[C, ...]]:
    """The best affordable set by enumeration (small instances only): value and the set."""
    best: tuple[float, tuple[C, ...]] = (oracle.value(oracle.start()), ())
    n = len(candidates) if max_items is None else min(max_items, len(candidates))
    for k in range(1, n + 1):
        for combo in itertools.combinations(candidates, k):
            if sum(_cost(c) for c in combo) > budget + 1e-9:
                continue
            st = oracle.start()
            for c in combo:
                st = oracle.add(st, c)
            v = oracle.value(st)
            if v > best[0] + 1e-12:
                best = (v, combo)
    return best

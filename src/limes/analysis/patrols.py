"""Randomised patrol schedules: a Stackelberg security game, solved as linear programs.

The defender commits to a mixed strategy over pure *schedules* (which patrol watches which
stretch in which time window); the adversary watches long enough to learn that distribution
(not the day's draw) and crosses where and when it pays best. This is a Stackelberg game: the
defender leads, the adversary best-responds, ties broken in the defender's favour (the strong
Stackelberg equilibrium). Two published formulations, both solved with scipy's HiGHS:

- *multiple LPs* (Conitzer & Sandholm, 2006): for each target t, the LP that maximises the
  defender's expected utility over mixed strategies x under which t is a best response of the
  adversary; the best of those LPs is the equilibrium;
- *DOBSS* (Paruchuri et al., 2008): one mixed-integer LP over adversary types (a Bayesian
  game: e.g. smugglers and an armed cell with different values), with z[l, s, t] = x_s·q_t^l,
  q^l the type's pure best response (binary) and a big-M best-response condition.

With one adversary type both give the same equilibrium (checked in benchmarks/patrols.py against
brute-force vertex enumeration).

`patrol_game` builds a game from an assessment: targets are (stretch, time window) pairs; the
adversary's value of crossing a target is its chance of getting through, 1 − P(interruption) of
the stretch, times (1 − `patrol_catch`) where a patrol is there. The patrol's chance of catching
a crossing it is on is a number about the world and comes from the scenario's `patrols`
section (`scenario_patrol_game`, with its time windows), never from here. The game is zero-sum
in that value.

`daily_schedules` draws a schedule per day from the equilibrium with a seed; `exercise` plays
days against an informed adversary that learns from what it has watched, for a fixed schedule
and for the randomised one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from limes.analysis.outputs import ranked_stretches
from limes.analysis.result import Run
from limes.errors import AnalysisError
from limes.scenario.model import Scenario
from limes.scenario.schema import UnitKind

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Game:
    """A security game in normal form over the defender's pure schedules.

    `defender[l, s, t]`, `attacker[l, s, t]`: utilities when schedule s is played and an
    adversary of type l attacks target t; `types` the types' probabilities.
    """

    defender: FloatArray
    attacker: FloatArray
    types: FloatArray

    @classmethod
    def single(cls, defender: FloatArray, attacker: FloatArray) -> Game:
        d, a = np.asarray(defender, float), np.asarray(attacker, float)
        return cls(d[None], a[None], np.ones(1))

    @property
    def schedules(self) -> int:
        return int(self.defender.shape[1])

    @property
    def targets(self) -> int:
        return int(self.defender.shape[2])


@dataclass(frozen=True)
class Equilibrium:
    """The defender's mixed strategy, each type's best response and both expected values."""

    x: FloatArray
    responses: tuple[int, ...]
    defender_value: float
    attacker_values: tuple[float, ...]


class GameError(AnalysisError, ValueError):
    """A game the solvers cannot take (empty, mismatched, no feasible commitment)."""


def multiple_lps(game: Game) -> Equilibrium:
    """The strong Stackelberg equilibrium of a one-type game by one LP per target."""
    if game.types.size != 1:
        raise GameError("multiple LPs solve a one-type game; use dobss for several types")
    d, a = game.defender[0], game.attacker[0]
    n, m = d.shape
    best: tuple[float, FloatArray, int] | None = None
    for t in range(m):
        # maximise x·d[:, t]  s.t. x·(a[:, t'] − a[:, t]) ≤ 0 for all t', Σx = 1, x ≥ 0
        a_ub = (a - a[:, [t]]).T
        res = linprog(
            -d[:, t],
            A_ub=a_ub,
            b_ub=np.zeros(m),
            A_eq=np.ones((1, n)),
            b_eq=[1.0],
            bounds=[(0, None)] * n,
            method="highs",
        )
        if res.status != 0:
            continue
        value = -float(res.fun)
        if best is None or value > best[0] + 1e-12:
            best = (value, np.clip(res.x, 0, None), t)
    if best is None:
        raise GameError("no mixed strategy makes any target a best response")
    value, x, t = best
    x = x / x.sum()
    return Equilibrium(x, (t,), value, (float(x @ a[:, t]),))


def dobss(game: Game) -> Equilibrium:
    """DOBSS: the Bayesian Stackelberg equilibrium as one mixed-integer LP (HiGHS)."""
    L, n, m = game.defender.shape
    p = np.asarray(game.types, float)
    if L == 0 or n == 0 or m == 0 or p.size != L:
        raise GameError("a game needs types, schedules and targets")
    big = float(np.ptp(game.attacker) + 1.0) * 2.0
    # variables: z[ty, s, t] (L·n·m), q[ty, t] (L·m, binary), a[ty] (L)
    nz, nq = L * n * m, L * m
    nv = nz + nq + L

    def zi(ty: int, s: int, t: int) -> int:
        return (ty * n + s) * m + t

    def qi(ty: int, t: int) -> int:
        return nz + ty * m + t

    def ai(ty: int) -> int:
        return nz + nq + ty

    c = np.zeros(nv)
    for ty in range(L):
        for s in range(n):
            for t in range(m):
                c[zi(ty, s, t)] = -p[ty] * game.defender[ty, s, t]
    rows: list[FloatArray] = []
    lo: list[float] = []
    hi: list[float] = []

    def row() -> FloatArray:
        return np.zeros(nv)

    for ty in range(L):
        r = row()
        for s in range(n):
            for t in range(m):
                r[zi(ty, s, t)] = 1.0
        rows.append(r)
        lo.append(1.0)
        hi.append(1.0)
        r = row()
        for t in range(m):
            r[qi(ty, t)] = 1.0
        rows.append(r)
        lo.append(1.0)
        hi.append(1.0)
        for t in range(m):
            # q_t ≤ Σ_s z[ty, s, t] ≤ 1
            r = row()
            for s in range(n):
                r[zi(ty, s, t)] = 1.0
            r[qi(ty, t)] = -1.0
            rows.append(r)
            lo.append(0.0)
            hi.append(np.inf)
            # 0 ≤ a_l − Σ_s C[ty, s, t]·x_s ≤ (1 − q_t)·M, with x_s = Σ_t' z[ty, s, t']
            r = row()
            r[ai(ty)] = 1.0
            for s in range(n):
                for t2 in range(m):
                    r[zi(ty, s, t2)] -= game.attacker[ty, s, t]
            rows.append(r)
            lo.append(0.0)
            hi.append(np.inf)
            r2 = r.copy()
            r2[qi(ty, t)] = big
            rows.append(r2)
            lo.append(-np.inf)
            hi.append(big)
        if ty > 0:
            # every type sees the same commitment: Σ_t z[ty, s, t] = Σ_t z[0, s, t]
            for s in range(n):
                r = row()
                for t in range(m):
                    r[zi(ty, s, t)] = 1.0
                    r[zi(0, s, t)] -= 1.0
                rows.append(r)
                lo.append(0.0)
                hi.append(0.0)
    integrality = np.zeros(nv)
    integrality[nz : nz + nq] = 1
    lb = np.zeros(nv)
    ub = np.ones(nv)
    lb[nz + nq :] = -np.inf
    ub[nz + nq :] = np.inf
    res = milp(
        c,
        constraints=LinearConstraint(np.array(rows), lo, hi),
        integrality=integrality,
        bounds=Bounds(lb, ub),
        options={"mip_rel_gap": 1e-12},
    )
    if res.status != 0 or res.x is None:
        raise GameError(f"DOBSS found no solution: {res.message}")
    z = res.x[:nz].reshape(L, n, m)
    x = np.clip(z[0].sum(axis=1), 0, None)
    x = x / x.sum()
    q = res.x[nz : nz + nq].reshape(L, m)
    responses = tuple(int(np.argmax(q[ty])) for ty in range(L))
    d_val = float(sum(p[ty] * x @ game.defender[ty, :, responses[ty]] for ty in range(L)))
    a_val = tuple(float(x @ game.attacker[ty, :, responses[ty]]) for ty in range(L))
    return Equilibrium(x, responses, d_val, a_val)


def brute_force(game: Game) -> Equilibrium:
    """The one-type equilibrium by enumerating every vertex of every best-response region.

    An LP's optimum lies at a vertex; a vertex of {x ≥ 0, Σx = 1, t a best response} is where
    n − 1 of its inequalities hold with equality. Every such choice is solved (numpy), kept if
    feasible, and the best defender value over all targets wins (ties: the defender's favour).
    For small games only: it is the independent check of the LPs.
    """
    d, a = game.defender[0], game.attacker[0]
    n, m = d.shape
    best: tuple[float, FloatArray, int] | None = None
    for t in range(m):
        ineq = [("x", s) for s in range(n)] + [("br", u) for u in range(m) if u != t]
        for active in itertools.combinations(ineq, n - 1):
            mat = [np.ones(n)]
            for kind, k in active:
                if kind == "x":
                    e = np.zeros(n)
                    e[k] = 1.0
                    mat.append(e)
                else:
                    mat.append(a[:, k] - a[:, t])
            A = np.array(mat)
            b = np.zeros(n)
            b[0] = 1.0
            try:
                x = np.linalg.solve(A, b)
            except np.linalg.LinAlgError:
                continue
            if (x < -1e-9).any() or ((x @ a) > x @ a[:, t] + 1e-9).any():
                continue
            v = float(x @ d[:, t])
            if best is None or v > best[0] + 1e-12:
                best = (v, np.clip(x, 0, None), t)
    if best is None:
        raise GameError("no vertex found")
    v, x, t = best
    return Equilibrium(x, (t,), v, (float(x @ a[:, t]),))


# --- a patrol game from the border --------------------------------------------------------------


@dataclass(frozen=True)
class PatrolGame:
    """A game whose targets are (stretch, window) pairs and whose schedules place patrols."""

    game: Game
    stretches: list[tuple[float, float]]
    windows: int
    schedules: list[tuple[int, ...]]  # the targets each schedule covers
    success: FloatArray  # the adversary's chance through each target, unpatrolled
    patrol_catch: float

    def target_name(self, t: int) -> str:
        a, b = self.stretches[t // self.windows]
        return f"km {a:g}–{b:g}, window {t % self.windows + 1}"


def patrol_game(
    stretch_p: Sequence[tuple[float, float, float]],
    windows: int,
    patrols: int,
    patrol_catch: float,
) -> PatrolGame:
    """Targets from stretches `(from_km, to_km, P(interruption))` × `windows` a day; a schedule
    puts each of `patrols` patrols on a different target. Zero-sum in the adversary's chance of
    getting through: uncovered 1 − P, covered (1 − P)(1 − patrol_catch)."""
    if not 0 <= patrol_catch <= 1:
        raise GameError(f"patrol_catch must be a probability, got {patrol_catch}")
    if windows < 1 or patrols < 1:
        raise GameError("a patrol game needs at least one window and one patrol")
    through = np.repeat([1.0 - p for _, _, p in stretch_p], windows)
    m = through.size
    if patrols > m:
        raise GameError(f"{patrols} patrols for {m} targets: nothing to choose")
    schedules = list(itertools.combinations(range(m), patrols))
    att = np.tile(through, (len(schedules), 1))
    for s, cover in enumerate(schedules):
        att[s, list(cover)] *= 1.0 - patrol_catch
    return PatrolGame(
        Game.single(-att, att),
        [(a, b) for a, b, _ in stretch_p],
        windows,
        schedules,
        through,
        patrol_catch,
    )


def scenario_patrol_game(
    scenario: Scenario, stretch_p: Sequence[tuple[float, float, float]], patrols: int
) -> PatrolGame:
    """`patrol_game` with the scenario's own figures: its patrols' catch chance and its windows
    a day (`patrols:` in the scenario file), so no caller carries a number about the world."""
    spec = scenario.spec.patrols
    return patrol_game(stretch_p, spec.windows, patrols, spec.catch_p)


def weak_targets(run: Run, scenario: Scenario, stretches: int) -> list[tuple[float, float, float]]:
    """The `stretches` costliest weak stretches of a run as `(from_km, to_km, mean P)`: the
    stretches a patrol game is played over (summary.json's ranking)."""
    return [(st.from_km, st.to_km, st.mean_p) for st in ranked_stretches(run, scenario)[:stretches]]


def default_patrols(scenario: Scenario, targets: int) -> int:
    """How many patrols go out a day unless asked: the scenario's available patrol units (at
    least one), never more than there are targets for them."""
    units = sum(1 for u in scenario.spec.units if u.kind is UnitKind.PATROL and u.available)
    return min(max(units, 1), max(targets, 1))


def daily_schedules(eq: Equilibrium, days: int, seed: int) -> NDArray[np.intp]:
    """`days` schedule indices drawn from the equilibrium's mixed strategy (reproducible)."""
    rng = np.random.default_rng(seed)
    return rng.choice(eq.x.size, size=days, p=eq.x)


@dataclass(frozen=True)
class ExerciseResult:
    """How often the informed adversary got through, with its 95 % (Wilson) interval."""

    crossings: int
    through: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.through / self.crossings if self.crossings else math.nan


def exercise(pg: PatrolGame, played: Sequence[int], watch_days: int, seed: int) -> ExerciseResult:
    """Days of crossings by an adversary who learns the patrols by watching.

    Each day, having watched the schedules of the last `watch_days` days (all of them on the
    first days it has), it crosses at the target where its chance of getting through, given
    how often it saw a patrol there, is highest (ties at random); then the day's schedule
    decides: through with probability 1 − P, times (1 − patrol_catch) if a patrol is there.
    A fixed schedule is learnt after one day; a randomised one only reveals its frequencies.
    """
    from limes.analysis.monte_carlo import wilson

    rng = np.random.default_rng(seed)
    m = pg.success.size
    history: list[int] = []
    through = 0
    for s in played:
        if history:
            recent = history[-watch_days:]
            freq = np.zeros(m)
            for h in recent:
                freq[list(pg.schedules[h])] += 1.0
            freq /= len(recent)
            value = pg.success * (1.0 - pg.patrol_catch * freq)
        else:
            value = pg.success.copy()
        top = np.flatnonzero(value >= value.max() - 1e-12)
        t = int(rng.choice(top))
        p = pg.success[t] * ((1.0 - pg.patrol_catch) if t in pg.schedules[s] else 1.0)
        through += int(rng.random() < p)
        history.append(int(s))
    lo, hi = wilson(through, len(played))
    return ExerciseResult(len(played), through, lo, hi)

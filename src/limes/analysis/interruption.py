"""Timely detection over a tile: adversary time to goal, the interruption cost, weakest paths.

Steps, each a small function over whole arrays:

1. `adversary_motion`: seconds per metre in each cell for one mode (slope, roads, blocks) and
   barrier delays, then one Dijkstra from the goal edge: the fastest time to goal of every cell.
2. `interruption_cost`: the chance of a timely detection while crossing half a step in a cell,
   P = P_D · P_timely with P_D = 1 − exp(−hazard · time in the half step) and P_timely from the
   response field at the cell's fastest time to goal; the cost of the half step is −ln(1 − P).
   One Dijkstra from the goal edge gives, for every cell, the adversary's best (least-cost) way
   on and its cost; P(interruption) of the best path from a cell ≈ 1 − exp(−cost).
3. `path_steps`: the cells of one traced path as EASI steps, for the exact check.

Approximation: P_timely in the field uses the fastest time to goal, not the time left along
the adversary's own (slower, stealthier) path. This understates the time left, so it can only
understate P_timely — the field errs on the side of calling a crossing weaker. The traced paths
are then checked exactly (`analysis.easi`), with the time left along the path itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limes.analysis.easi import PathSteps
from limes.analysis.response import ResponseField
from limes.analysis.shortest_path import SQRT2, shortest_paths
from limes.analysis.tiles import Tile
from limes.scenario.schema import Mode, Movement
from limes.sensing.barrier import BarrierField
from limes.sensing.movement import adversary_speed_kmh, pace_s_per_m, slope_magnitude

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]

# Keep the cost of a half step finite even where a detection is certain and timely, so that
# every cell keeps a traceable path; exp(−34.5) ≈ 1e−15 is "certain" for any report.
_P_MAX = 1.0 - 1e-15


@dataclass(frozen=True)
class Motion:
    """How one mode moves over a tile: half-step times, delays, starts, goal, time to goal."""

    pace_s_per_m: FloatArray
    delay_mean_s: FloatArray
    delay_var_s2: FloatArray
    half_orth_s: FloatArray
    half_diag_s: FloatArray
    start: NDArray[np.bool_]
    goal: NDArray[np.bool_]
    time_to_goal_s: FloatArray


def adversary_motion(
    tile: Tile,
    elevation: NDArray[np.floating],
    barriers: BarrierField,
    roads: NDArray[np.bool_],
    mode: Mode,
    movement: Movement,
    outside_m: float,
    inside_m: float,
) -> Motion:
    """Movement of one adversary mode over a tile and its fastest time to the goal edge."""
    cell = tile.cell_m
    slope = slope_magnitude(elevation, cell)
    speed = adversary_speed_kmh(mode.value, slope, roads, movement)
    pace = pace_s_per_m(speed)
    pace = np.where(tile.in_strip & ~barriers.blocked, pace, np.inf)
    delay = np.where(np.isfinite(pace), barriers.delay_mean_s, 0.0)
    half_o = 0.5 * (pace * cell + delay)
    half_d = 0.5 * (pace * (cell * SQRT2) + delay)
    passable = np.isfinite(pace)
    goal = passable & (tile.offset_m >= inside_m - cell)
    start = passable & (tile.offset_m <= -outside_m + cell)
    ttg, _ = shortest_paths(half_o, half_d, goal)
    return Motion(pace, delay, barriers.delay_var_s2, half_o, half_d, start, goal, ttg)


@dataclass(frozen=True)
class CostHalves:
    """Half-step costs −ln(1 − P_D·P_timely) per cell (straight, diagonal) and time tie-breakers.

    Diagonal steps are charged for the corner they pass (`shortest_paths(corners=True)`).
    """

    orth: FloatArray
    diag: FloatArray
    tie_orth: FloatArray
    tie_diag: FloatArray
    p_timely: FloatArray


def cost_halves(motion: Motion, hazard: FloatArray, response: ResponseField) -> CostHalves:
    """The timely-detection cost of half a step in each cell, with time as the tie-breaker."""
    p_timely = response.p_timely(motion.time_to_goal_s)
    halves = []
    for half_t in (motion.half_orth_s, motion.half_diag_s):
        with np.errstate(invalid="ignore"):
            p_det = -np.expm1(-hazard * half_t)
        p = np.minimum(np.nan_to_num(p_det * p_timely, nan=0.0), _P_MAX)
        halves.append(np.where(np.isfinite(half_t), -np.log1p(-p), np.inf))
    # Among equally weak ways on (typically: wholly unseen ones), the adversary takes the fastest.
    return CostHalves(
        halves[0],
        halves[1],
        np.nan_to_num(motion.half_orth_s, posinf=0.0),
        np.nan_to_num(motion.half_diag_s, posinf=0.0),
        p_timely,
    )


@dataclass(frozen=True)
class Interruption:
    """The least interruption cost to goal from every cell, with the next step toward it."""

    cost: FloatArray
    pred: IndexArray
    p_timely: FloatArray

    @property
    def p_interruption(self) -> FloatArray:
        """P(interruption) of the adversary's best path from each cell (≈ 1 − exp(−cost))."""
        return -np.expm1(-self.cost)


def interruption_cost(motion: Motion, hazard: FloatArray, response: ResponseField) -> Interruption:
    """One backward Dijkstra over the timely-detection cost over the whole tile.

    The assessment itself runs one per km over that km's lateral window
    (`analysis.crossings`); this whole-tile pass is the adversary with no lateral limit.
    """
    h = cost_halves(motion, hazard, response)
    cost, pred = shortest_paths(
        h.orth, h.diag, motion.goal, ties=(h.tie_orth, h.tie_diag), corners=True
    )
    return Interruption(cost, pred, h.p_timely)


def path_steps(
    path: IndexArray,
    width: int,
    motion: Motion,
    hazard: FloatArray,
    response_means: FloatArray,
    response_sds: FloatArray,
) -> tuple[PathSteps, FloatArray]:
    """EASI steps of a traced path (one per cell) and the adversary's time at each cell centre.

    A cell's time is the halves of the steps into and out of it, as the Dijkstra counts them,
    so a barrier cell crossed costs its whole delay and the first and last cells half of it.
    A diagonal step is exposed to detection as the field charges it: at least as much as a
    straight pass through the less exposed of the two cells sharing the corner it passes
    (hazard × time of two straight half steps there), split between its two halves.
    `response_means` is (groups, rows, cols) over the tile.
    """
    p = np.asarray(path, dtype=np.int64)
    r, c = p // width, p % width
    diag = (np.diff(r) != 0) & (np.diff(c) != 0)
    h_all = hazard.ravel()
    ho_all = motion.half_orth_s.ravel()
    ho = ho_all[p]
    hd = motion.half_diag_s.ravel()[p]
    out_half = np.where(diag, hd[:-1], ho[:-1])  # leaving cell i toward i + 1
    in_half = np.where(diag, hd[1:], ho[1:])  # entering cell i + 1
    time = np.zeros(len(p))
    time[:-1] += out_half
    time[1:] += in_half
    h = h_all[p]
    out_x = h[:-1] * out_half
    in_x = h[1:] * in_half
    if diag.any():
        corner_a = r[1:] * width + c[:-1]
        corner_b = r[:-1] * width + c[1:]
        # An impassable corner cell (infinite time) is no way round: the other one is.
        squeeze = 2.0 * np.minimum(
            _exposure(h_all[corner_a], ho_all[corner_a]),
            _exposure(h_all[corner_b], ho_all[corner_b]),
        )
        squeeze = np.where(np.isfinite(squeeze), squeeze, 0.0)
        wider = diag & (squeeze > out_x + in_x)
        out_x = np.where(wider, squeeze / 2.0, out_x)
        in_x = np.where(wider, squeeze / 2.0, in_x)
    exposure = np.zeros(len(p))
    exposure[:-1] += out_x
    exposure[1:] += in_x
    halves = np.zeros(len(p))
    halves[:-1] += 1
    halves[1:] += 1
    frac = halves / 2.0
    delay_sd = np.sqrt(motion.delay_var_s2.ravel()[p]) * frac
    p_detect = -np.expm1(-exposure)
    means = response_means.reshape(response_means.shape[0], hazard.size)[:, p]
    at_centre = np.concatenate([[0.0], np.cumsum(out_half + in_half)])
    steps = PathSteps(time, delay_sd, p_detect, means, np.asarray(response_sds, dtype=float))
    return steps, at_centre


def _exposure(hazard: FloatArray, time_s: FloatArray) -> FloatArray:
    """hazard × time, infinite where the time is (an impassable cell), even at zero hazard."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(time_s), hazard * time_s, np.inf)

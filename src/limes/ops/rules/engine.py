"""The crossing rules: track updates in, alerts out, evaluated over all tracks of an update at once.

Rules (thresholds from `scenario.spec.rules`, never from code):

- **crossing imminent**: a confirmed track outside whose straight course at its present
  velocity meets the line within `crossing_imminent_min` (the horizon bounds its reach: a
  pickup 4 km out at 30 km/h is imminent, a walker there is an hour off); the alert carries
  the predicted chainage and the time to the line (`eta_s`).
- **approach**: a confirmed track outside, within `approach_zone_m` of the line, closing on
  it beyond `imminent_sigma` of its closing speed's uncertainty, not taken for an animal:
  crossing imminent without its time horizon, so a slow group heading for the line is
  alerted as soon as its course is certain, not only in its last `crossing_imminent_min`.
  By night (local solar time at the track outside `day_hours`) both rules ask for
  `night_imminent_sigma` instead, when the scenario sets it: nobody walks at the line then.
- **crossed**: the track's offset changed sign inward between two of its states; the crossing
  chainage is interpolated between them. A crossing seen while the track was still tentative
  fires when it is confirmed (unless it went back out first).
- **intrusion**: a confirmed track inside, at most `intrusion_depth_m` from the line, or one
  not yet confirmed whose existence odds already reach `credible_report_odds` (a single
  report of a sensor declaring itself sure).
- **loitering**: a confirmed track that has stayed within `loiter_radius_m` of one spot for
  `loiter_s`, all the while within `barrier_proximity_m` of a barrier (built or being built).
  The spot is the track's position when it came near the barrier, moved to where it is now
  whenever it strays beyond the radius (and the clock restarts).
- **vehicle at barrier**: a confirmed track classed as a vehicle within `barrier_proximity_m` of
  a barrier that blocks vehicles.

Each rule fires at most once per track (no re-arming): the alert id is a function of rule and
track id, so a second alert could only repeat the first. A track's memory (last state, loiter
spot, alerts fired) is dropped when the tracker reports it deleted.

Tentative tracks feed the memory (their positions count for a crossing) and fire only the
intrusion of one credible report; coasting states are predictions without a measurement and
are ignored.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from limes.geo.daylight import is_day_utc
from limes.ops.alert import Alert, Rule
from limes.ops.detection import TargetClass
from limes.ops.plan_lookup import MODE_OF_CLASS, PlanLookup, SeverityPolicy
from limes.ops.rules.geometry import (
    BarrierIndex,
    LineLocator,
    interpolate_crossing,
    predict_crossings,
)
from limes.ops.rules.grouping import IncidentGroups
from limes.ops.rules.memory import RULE_BIT, TrackMemory
from limes.ops.tracker.state import STATUS_BY_CODE, TrackState, TrackStatus
from limes.ops.tracker.track_batch import LABELS, TrackBatch
from limes.scenario.model import Scenario
from limes.scenario.schema import Rules

#: Namespace of alert ids: uuid5 of "<rule>:<track id>" in it.
ALERT_NAMESPACE = uuid.UUID("6c0b2f53-3f0e-5d7a-9a49-6c696d657331")
_NAMESPACE_BYTES = ALERT_NAMESPACE.bytes

CONFIRMED = STATUS_BY_CODE.index(TrackStatus.CONFIRMED)
TENTATIVE = STATUS_BY_CODE.index(TrackStatus.TENTATIVE)
DELETED = STATUS_BY_CODE.index(TrackStatus.DELETED)
VEHICLE = LABELS.index(TargetClass.VEHICLE)
ANIMAL = LABELS.index(TargetClass.ANIMAL)


def alert_id(rule: Rule, track_id: str) -> str:
    """The deterministic id of a rule's alert on a track (the same after a replay).

    `str(uuid.uuid5(ALERT_NAMESPACE, "<rule>:<track id>"))`, written out (SHA-1 of namespace
    and name, version and variant bits set) to skip the `UUID` object on the alert path.
    """
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + f"{rule.value}:{track_id}".encode()).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class _Fire:
    rule: Rule
    index: NDArray[np.intp]
    chainage_m: NDArray[np.float64]
    eta_s: NDArray[np.float64] | None = None
    barrier: NDArray[np.intp] | None = None
    measure: NDArray[np.float64] | None = None  # dwell s (loitering), distance m (vehicle)


class RuleEngine:
    """Evaluates the crossing rules on the track states of each update; remembers per track.

    Not thread-safe: one pipeline thread feeds it (see `limes.ops.pipeline`).
    """

    def __init__(
        self,
        scenario: Scenario,
        plan: PlanLookup | None = None,
        policy: SeverityPolicy | None = None,
    ) -> None:
        self.scenario = scenario
        self.plan = plan
        self.policy = policy or SeverityPolicy()
        border = scenario.border
        self._barriers = BarrierIndex.build(border, scenario.spec.barriers)
        self._blocking = BarrierIndex.build(border, scenario.spec.barriers, vehicles_only=True)
        self._memory = TrackMemory()
        self.locator = LineLocator(border)
        rules = scenario.spec.rules
        self.groups = IncidentGroups(rules.group_radius_m, rules.group_window_s)
        # Frame x, y and the state's place in the update, of each alert of an update.
        self._places: list[tuple[float, float, int]] = []
        self._origin: NDArray[np.intp] = np.empty(0, dtype=np.intp)
        self._gone: list[tuple[int, str]] = []  # (place in the update, track) of deletions

    @property
    def thresholds(self) -> Rules:
        """The rule thresholds in force (the scenario's)."""
        return self.scenario.spec.rules

    @property
    def tracks_remembered(self) -> int:
        """Tracks the engine holds memory for."""
        return len(self._memory)

    def evaluate(self, states: Sequence[TrackState] | TrackBatch) -> list[Alert]:
        """Alerts fired by these track states (in the order the tracker gave them).

        A `TrackBatch` (what the tracker produces) is read column by column; other sequences
        of `TrackState` are put in columns first.
        """
        batch = TrackBatch.from_states(states)
        n = len(batch)
        if n == 0:
            return []
        self._places, self._gone = [], []
        rows = self._memory.rows(batch.ids)
        rank = _occurrence(rows)
        if rank is None:  # the usual case: each track once
            self._origin = np.arange(n)
            out = self._round(batch, rows)
        else:
            out = []
            for r in range(int(rank.max()) + 1):
                self._origin = np.flatnonzero(rank == r)
                part = batch.take(self._origin)
                out += self._round(part, self._memory.rows(part.ids))
        return self._grouped(out)

    def _grouped(self, alerts: list[Alert]) -> list[Alert]:
        # Incident keys, and the groups of deleted tracks forgotten, in the order of the
        # states in the update: a batch groups its alerts as the same states one at a time.
        events = [(o, 1, k) for k, (_, _, o) in enumerate(self._places)]
        events += [(o, 0, k) for k, (o, _) in enumerate(self._gone)]
        keys: list[str] = [""] * len(alerts)
        for _, is_alert, k in sorted(events):
            if not is_alert:
                self.groups.forget(self._gone[k][1])
                continue
            a = alerts[k]
            x, y, _ = self._places[k]
            keys[k] = self.groups.key(a.track_id, x, y, a.time.timestamp())
        return [replace(a, incident_key=key) for a, key in zip(alerts, keys, strict=True)]

    def forget(self, track_id: str) -> None:
        """Drop a track's memory and its fired alerts."""
        self._memory.forget(track_id)
        self.groups.forget(track_id)

    # -- one round: each track at most once -------------------------------------------------

    def _round(self, states: TrackBatch, rows: NDArray[np.intp]) -> list[Alert]:
        th = self.thresholds
        confirmed = states.status == CONFIRMED
        tentative = states.status == TENTATIVE
        measured = confirmed | tentative
        t = states.t
        x, y, vx, vy = states.x[:, 0], states.x[:, 1], states.x[:, 2], states.x[:, 3]
        chain, off = self.locator.locate(x, y)
        memory = self._memory
        col = {name: values[rows] for name, values in memory.cols.items()}
        fired = memory.fired[rows]

        def armed(rule: Rule) -> NDArray[np.bool_]:
            return confirmed & (fired & RULE_BIT[rule] == 0)

        fires: list[_Fire] = []

        # Crossing imminent: outside, closing, course meets the line within the horizon.
        nx, ny = self.scenario.border.inside_normal_at(chain)
        closing = vx * nx + vy * ny
        near = armed(Rule.CROSSING_IMMINENT) & (off < 0)
        # Evidence, not a momentary heading: the closing speed must stand out of its own
        # uncertainty, and a track the classifier takes for an animal does not raise it.
        pv = states.p[:, 2:4, 2:4]
        closing_var = nx * nx * pv[:, 0, 0] + 2 * nx * ny * pv[:, 0, 1] + ny * ny * pv[:, 1, 1]
        sigma = self._closing_sigma(t, x, y, np.flatnonzero((closing > 0) & (off < 0)))
        sure = closing > sigma * np.sqrt(np.maximum(closing_var, 0.0))
        animal = states.class_p[:, ANIMAL] >= th.imminent_max_animal_p
        cand = np.flatnonzero(near & (closing > 0) & sure & ~animal)
        imminent = np.empty(0, dtype=np.intp)
        if cand.size:
            eta, meets_m = predict_crossings(
                self.scenario.border, x[cand], y[cand], vx[cand], vy[cand],
                th.crossing_imminent_min * 60.0,
            )  # fmt: skip
            ok = np.isfinite(eta)
            imminent = cand[ok]
            fires.append(_Fire(Rule.CROSSING_IMMINENT, imminent, meets_m[ok], eta_s=eta[ok]))

        # Approach: the same evidence of a course for the line, however far off in time.
        zone = (off < 0) & (-off <= th.approach_zone_m)
        # A crossing imminent now says more: the approach is taken as said.
        fired[imminent] |= RULE_BIT[Rule.APPROACH]
        app = np.flatnonzero(armed(Rule.APPROACH) & zone & ~animal & (closing > 0) & sure)
        fires.append(_Fire(Rule.APPROACH, app, chain[app]))

        # Crossed: offset went from outside to inside between this state and the last one.
        went_in = measured & (col["offset"] < 0) & (off >= 0)
        went_out = measured & (off < 0)
        where_m, _ = interpolate_crossing(col["chainage"], col["offset"], chain, off)
        pending = np.where(went_in, where_m, np.where(went_out, np.nan, col["pending_m"]))
        crossed_m = np.where(went_in, where_m, col["crossed_m"])
        fire = np.flatnonzero(armed(Rule.CROSSED) & np.isfinite(pending))
        fires.append(_Fire(Rule.CROSSED, fire, pending[fire]))
        pending[confirmed] = np.nan  # once confirmed, a crossing is alerted or was already

        # Intrusion: inside, within the depth; located at its crossing when one was seen. A
        # track not yet confirmed counts when its own evidence is already credible (one report
        # of a confident sensor): nobody should be there, and the next report may be too late.
        single = tentative & (states.hits == 1)
        credible = single & (states.score >= np.log(th.credible_report_odds))
        credible[credible] = ~self._near_alerted(rows, chain, off, np.flatnonzero(credible))
        unfired = fired & RULE_BIT[Rule.INTRUSION] == 0
        intruding = (confirmed | credible) & unfired & (off >= 0) & (off <= th.intrusion_depth_m)
        inside = np.flatnonzero(intruding)
        at_in = np.where(np.isfinite(crossed_m[inside]), crossed_m[inside], chain[inside])
        fires.append(_Fire(Rule.INTRUSION, inside, at_in))

        # Loitering: the spot moves when the track strays beyond the radius near a barrier.
        ax, ay, at = col["anchor_x"], col["anchor_y"], col["anchor_t"]
        b_idx, _ = self._barriers.nearest(x, y, th.barrier_proximity_m)
        by_barrier = measured & (b_idx >= 0)
        strayed = ~(np.hypot(x - ax, y - ay) <= th.loiter_radius_m)  # NaN spot: strayed
        reset = by_barrier & strayed
        ax = np.where(by_barrier, np.where(reset, x, ax), np.where(measured, np.nan, ax))
        ay = np.where(by_barrier, np.where(reset, y, ay), np.where(measured, np.nan, ay))
        at = np.where(by_barrier, np.where(reset, t, at), np.where(measured, np.nan, at))
        loiter = np.flatnonzero(armed(Rule.LOITERING) & by_barrier & (t - at >= th.loiter_s))
        fires.append(
            _Fire(
                Rule.LOITERING, loiter, chain[loiter],
                barrier=b_idx[loiter], measure=t[loiter] - at[loiter],
            )
        )  # fmt: skip

        # Vehicle at a barrier that blocks vehicles.
        cand = np.flatnonzero(armed(Rule.VEHICLE_AT_BARRIER) & (states.label == VEHICLE))
        v_idx, v_dist = self._blocking.nearest(x[cand], y[cand], th.barrier_proximity_m)
        veh = v_idx >= 0
        fires.append(
            _Fire(
                Rule.VEHICLE_AT_BARRIER, cand[veh], chain[cand[veh]],
                barrier=v_idx[veh], measure=v_dist[veh],
            )
        )  # fmt: skip

        alerts = self._alerts(states, fires, x, y, off)
        for f in fires:
            fired[f.index] |= RULE_BIT[f.rule]

        # Measured states become the memory; coasting ones leave it as it was.
        keep = rows[measured]
        now = {
            "t": t, "chainage": chain, "offset": off, "anchor_x": ax, "anchor_y": ay,
            "anchor_t": at, "pending_m": pending, "crossed_m": crossed_m,
        }  # fmt: skip
        for name, values in now.items():
            memory.cols[name][keep] = values[measured]
        memory.fired[rows] = fired
        for i in np.flatnonzero(states.status == DELETED).tolist():
            memory.forget(states.ids[i])
            self._gone.append((int(self._origin[i]), states.ids[i]))
        return alerts

    def _closing_sigma(
        self,
        t: NDArray[np.float64],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        rows: NDArray[np.intp],
    ) -> NDArray[np.float64] | float:
        """The closing certainty each state is held to: `night_imminent_sigma` where it is
        night at the state's place (only `rows`, the ones closing from outside, are looked at)."""
        th = self.thresholds
        if th.night_imminent_sigma is None or rows.size == 0:
            return th.imminent_sigma
        sigma = np.full(t.shape, th.imminent_sigma)
        lon, _ = self.scenario.frame.to_lonlat(x[rows], y[rows])
        night = ~is_day_utc(t[rows], lon, *th.day_hours)
        sigma[rows[night]] = th.night_imminent_sigma
        return sigma

    def _near_alerted(
        self,
        rows: NDArray[np.intp],
        chain: NDArray[np.float64],
        off: NDArray[np.float64],
        index: NDArray[np.intp],
    ) -> NDArray[np.bool_]:
        """Whether each state at `index` lies within `group_radius_m` (chainage and offset) of
        another remembered track that has already raised an alert: a lone report there is most
        likely a fragment of that track, whose incident has it already."""
        out = np.zeros(index.size, dtype=bool)
        if index.size == 0:
            return out
        memory = self._memory
        alerted = np.flatnonzero(memory.fired != 0)
        ch, of = memory.cols["chainage"][alerted], memory.cols["offset"][alerted]
        radius = self.thresholds.group_radius_m
        for k, i in enumerate(index.tolist()):
            other = alerted != rows[i]
            out[k] = bool(np.any(np.hypot(ch[other] - chain[i], of[other] - off[i]) <= radius))
        return out

    # -- alerts -------------------------------------------------------------------------------

    def _alerts(
        self,
        states: TrackBatch,
        fires: list[_Fire],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        off: NDArray[np.float64],
    ) -> list[Alert]:
        chosen = [(f, k, i) for f in fires for k, i in enumerate(f.index.tolist())]
        if not chosen:
            return []
        idx = np.array([i for _, _, i in chosen], dtype=np.intp)
        chain_m = np.array([f.chainage_m[k] for f, k, _ in chosen])
        lon, lat = self.scenario.frame.to_lonlat(x[idx], y[idx])
        sectors = self.scenario.sector_index(chain_m).tolist()
        classes = [LABELS[c] for c in states.label[idx].tolist()]
        p = (
            self.plan.p_at(chain_m / 1000.0, [MODE_OF_CLASS[c] for c in classes])
            if self.plan is not None
            else np.full(idx.size, np.nan)
        )
        group = states.group[idx].tolist()
        times = states.t[idx].tolist()
        stamp: dict[float, datetime] = {}
        spec_sectors = self.scenario.spec.sectors
        out = []
        for j, (fire, k, i) in enumerate(chosen):
            track_id = states.ids[i]
            cls = classes[j]
            sector = spec_sectors[sectors[j]]
            pj = float(p[j]) if np.isfinite(p[j]) else None
            eta = float(fire.eta_s[k]) if fire.eta_s is not None else None
            barrier = self._barrier_of(fire, k) if fire.barrier is not None else None
            when = stamp.get(times[j])
            if when is None:
                when = stamp[times[j]] = datetime.fromtimestamp(times[j], UTC)
            g = group[j]
            evidence = (
                f"; evidence: {int(states.hits[i])} reports from "
                f"{', '.join(states.sensors[i]) or 'no sensor'}"
            )
            self._places.append((float(x[i]), float(y[i]), int(self._origin[i])))
            out.append(
                Alert(
                    alert_id=alert_id(fire.rule, track_id),
                    rule=fire.rule,
                    track_id=track_id,
                    time=when,
                    lon=float(lon[j]),
                    lat=float(lat[j]),
                    target_class=cls.value,
                    group_size=None if g != g else max(1, round(g)),
                    chainage_km=float(chain_m[j]) / 1000.0,
                    offset_m=float(off[i]),
                    sector=sector.name,
                    command=sector.command,
                    far_side=sector.far_side,
                    channel=self.scenario.channel_of(sector),
                    severity=self.policy.severity(fire.rule, cls, pj, sector.name),
                    eta_s=eta,
                    p_interruption=pj,
                    barrier_id=barrier,
                    detail=self._detail(fire, k, float(chain_m[j]), float(off[i])) + evidence,
                )
            )
        return out

    def _barrier_of(self, fire: _Fire, k: int) -> str:
        assert fire.barrier is not None
        index = self._blocking if fire.rule is Rule.VEHICLE_AT_BARRIER else self._barriers
        return index.barriers[int(fire.barrier[k])].id

    def _detail(self, fire: _Fire, k: int, chain_m: float, off: float) -> str:
        km = chain_m / 1000.0
        if fire.rule is Rule.CROSSING_IMMINENT:
            assert fire.eta_s is not None
            return f"{-off:.0f} m out, reaches the line at km {km:.3f} in {fire.eta_s[k]:.0f} s"
        if fire.rule is Rule.APPROACH:
            return f"{-off:.0f} m out at km {km:.3f}, in the approach zone"
        if fire.rule is Rule.CROSSED:
            return f"crossed inward at km {km:.3f}"
        if fire.rule is Rule.INTRUSION:
            return f"{off:.0f} m inside"
        assert fire.measure is not None
        barrier = self._barrier_of(fire, k)
        if fire.rule is Rule.LOITERING:
            return f"stayed {fire.measure[k]:.0f} s near barrier {barrier}"
        return f"vehicle {fire.measure[k]:.0f} m from vehicle-blocking barrier {barrier}"


def _occurrence(rows: NDArray[np.intp]) -> NDArray[np.intp] | None:
    """How many earlier entries share each entry's row (None when every row is distinct).

    Rounds are cut on it, so each round holds a track at most once, in the tracker's order.
    """
    if rows.size < 2:
        return None
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    repeat = sorted_rows[1:] == sorted_rows[:-1]
    if not repeat.any():
        return None
    start = np.r_[0, np.flatnonzero(~repeat) + 1]  # first position of each run
    run_start = np.repeat(start, np.diff(np.r_[start, rows.size]))
    rank = np.empty(rows.size, dtype=np.intp)
    rank[order] = np.arange(rows.size) - run_start
    return rank

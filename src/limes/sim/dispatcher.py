"""Response through the live API: units dispatched as an operator would, moved, and judged.

- `ApiDispatcher`: the automatic dispatcher at the live system's API (a commander's token):
  it polls new incidents, asks each for its advice and sends the top-ranked unit
  (`POST /api/incidents/{id}/dispatch`); it reports unit positions and resolves incidents.
  With `auto=False` it sends nobody: a person at the map does, and it only moves the units
  that person sent (straight to the incident's place), reports them and leaves resolving to
  the person; with `delay_s` it takes an incident only when nobody has acknowledged it for
  that long (simulated), so a person can take it first.
- `pursue`: an exercise's reports sent on the exercise clock, with the units the dispatcher
  sent moving along their advised routes at their scenario speeds (`RouteMove`), reporting
  their positions every `report_every_s` simulated seconds. A unit that comes within
  `capture_radius_m` of the group it was sent for before the group reaches its goal
  intercepts it (the incident is resolved `intercepted`, the group's later reports are not
  sent); a group that reaches its goal first escapes (`lost`).

The dispatcher sees only what the API shows. The simulator is the referee: it knows which
group an incident stands for (the crossing group nearest the incident's place when the unit is
sent) and where each group truly is, which is what the capture check needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import numpy as np

from limes.clock import SimClock
from limes.errors import SimError
from limes.geo.frame import Frame
from limes.scenario.model import Scenario
from limes.scenario.schema import Unit
from limes.sim.actors import Actor
from limes.sim.emission import Emission
from limes.sim.response import Dispatch, RouteMove, UnitTrack
from limes.sim.scorecard import AlertLike
from limes.sim.senders import Sender


class ApiDispatchError(SimError):
    """The live system's API refused or failed a dispatcher's request (the message says which)."""


@dataclass(frozen=True)
class ApiDispatchConfig:
    """How the API-driven response runs (docs/exercise.md, "Dispatch through the API").

    - `capture_radius_m` (250 m): a unit this close to its group intercepts it.
    - `report_every_s` (30 s, simulated): how often each unit out on a call reports its position.
    - `poll_every_s` (15 s, simulated): how often the dispatcher looks for new incidents.
    - `step_s` (5 s, simulated): the movement and capture check step.
    - `road_cell_m` (100 m): the road raster a ground unit's route is paced on.
    - `settle_s` (600 s, simulated): after the last report, how long the run goes on for
      incidents still to come and units still out.
    """

    capture_radius_m: float = 250.0
    report_every_s: float = 30.0
    poll_every_s: float = 15.0
    step_s: float = 5.0
    road_cell_m: float = 100.0
    settle_s: float = 600.0

    def __post_init__(self) -> None:
        for name in ("capture_radius_m", "report_every_s", "poll_every_s", "step_s", "road_cell_m"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ApiDispatchConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.settle_s < 0:
            raise ValueError("ApiDispatchConfig.settle_s must be >= 0")


@dataclass(frozen=True)
class Order:
    """One dispatch made through the API: the unit, the incident, the target and the route."""

    unit_id: str
    incident_id: int
    target_lon: float
    target_lat: float
    route: list[tuple[float, float]]


def _client(token: str, timeout_s: float) -> httpx.Client:
    return httpx.Client(timeout=timeout_s, headers={"Authorization": f"Bearer {token}"})


class ApiDispatcher:
    """The automatic dispatcher at the live API: new incident → advice → send the first unit.

    `token`: a commander's (sends units, resolves incidents and reports unit positions);
    `report_token`: another token for unit reports (a sensor token speaking for the units),
    default `token`. Each incident is handled once; one with no unit to send is left new.
    `join_radius_m` (2 km): a new incident this close to one being worked is taken to be the
    same group (the tracker may lose and find it again as a new track).
    """

    def __init__(
        self,
        api: str,
        token: str,
        *,
        report_token: str | None = None,
        note: str = "automatic dispatch (exercise)",
        join_radius_m: float = 2000.0,
        timeout_s: float = 10.0,
        auto: bool = True,
        delay_s: float = 0.0,
    ) -> None:
        self.api = api.rstrip("/")
        self.auto = auto
        self.delay_s = delay_s
        self.followed: set[int] = set()  # incidents a person assigned, whose unit we move
        self.note = note
        self.join_radius_m = join_radius_m
        self.working: dict[int, tuple[str, tuple[float, float]]] = {}
        self.joined: dict[int, list[int]] = {}
        self._client = httpx.Client(timeout=timeout_s, headers={"Authorization": f"Bearer {token}"})
        self._reporter = (
            self._client
            if report_token is None
            else httpx.Client(
                timeout=timeout_s, headers={"Authorization": f"Bearer {report_token}"}
            )
        )
        self.seen: set[int] = set()

    def close(self) -> None:
        self._client.close()
        if self._reporter is not self._client:
            self._reporter.close()

    def _call(self, client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
        url = self.api + path
        try:
            resp = client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise ApiDispatchError(f"{method} {url} failed: {exc}") from None
        return resp

    def _ok(self, resp: httpx.Response) -> Any:
        if resp.status_code >= 400:
            raise ApiDispatchError(
                f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text[:300]}"
            )
        return resp.json()

    def new_incidents(self) -> list[dict[str, Any]]:
        """Every incident in state `new`, oldest first (all pages)."""
        params: dict[str, Any] = {"state": "new", "limit": 500}
        out: list[dict[str, Any]] = []
        while True:
            page = self._ok(self._call(self._client, "GET", "/api/incidents", params=params))
            out.extend(page["items"])
            if not page.get("next_cursor"):
                break
            params["cursor"] = page["next_cursor"]
        return sorted(out, key=lambda i: int(i["id"]))

    def advice(self, incident_id: int) -> list[dict[str, Any]]:
        """Units that can go, best first: `unit_id` and `route` (lon/lat, unit to target).

        From `/api/incidents/{id}/advice`; where a service answers that route with 422 (a
        build whose route asks for a query parameter it should not), from the map's copy of
        the same advice, `/api/web/incidents/{id}/advice`.
        """
        resp = self._call(self._client, "GET", f"/api/incidents/{incident_id}/advice")
        if resp.status_code != 422:
            units = self._ok(resp)["units"]
            return [u for u in units if u["route"] and math.isfinite(float(u["total_s"]))]
        web = self._call(self._client, "GET", f"/api/web/incidents/{incident_id}/advice")
        ranked = self._ok(web)
        return [
            u for u in ranked
            if u.get("source") == "advice" and u["route"] and u["eta_s"] is not None
        ]  # fmt: skip

    def assigned_by_people(self) -> list[Order]:
        """Orders for the incidents a person assigned since the last look: the unit goes
        straight from its base (or last report) to the incident's place."""
        orders: list[Order] = []
        params: dict[str, Any] = {"state": "assigned", "limit": 500}
        page = self._ok(self._call(self._client, "GET", "/api/incidents", params=params))
        units = {u["id"]: u for u in self._ok(self._call(self._client, "GET", "/api/units"))}
        for incident in page["items"]:
            iid = int(incident["id"])
            if iid in self.followed or iid in self.working or not incident.get("unit_id"):
                continue
            self.followed.add(iid)
            u = units.get(incident["unit_id"])
            if u is None:
                continue
            start = (
                (u["lon"], u["lat"]) if u.get("lon") is not None else (u["base_lon"], u["base_lat"])
            )
            end = (float(incident["lon"]), float(incident["lat"]))
            orders.append(Order(incident["unit_id"], iid, *end, [start, end]))
        return orders

    def poll(self, now: datetime | None = None) -> list[Order]:
        """Work the new incidents, oldest first; the orders made (one per unit sent).

        An incident within `join_radius_m` of one this dispatcher is working (the same group
        seen again as another track) gets the unit already out; any other gets the advice's
        first unit. Each is acknowledged, then assigned through `POST …/dispatch`. Without
        `auto`, only the units people sent; with `delay_s`, only incidents new for that long
        before `now` (the exercise clock).
        """
        orders: list[Order] = self.assigned_by_people()
        if not self.auto:
            return orders
        for incident in self.new_incidents():
            iid = int(incident["id"])
            if iid in self.seen:
                continue
            if self.delay_s > 0 and now is not None:
                opened = datetime.fromisoformat(str(incident["opened"]).replace("Z", "+00:00"))
                if (now - opened).total_seconds() < self.delay_s:
                    continue  # still the person's to take
            place = float(incident["lon"]), float(incident["lat"])
            joined = self._working_near(place)
            if joined is not None:
                unit_id = self.working[joined][0]
                if self._send(iid, unit_id, f"same group as incident {joined}"):
                    self.joined[joined].append(iid)
                    self.working[joined] = (unit_id, place)
                continue
            units = self.advice(iid)
            if not units:
                continue  # nobody free: looked at again at the next poll
            top = units[0]
            if not self._send(iid, top["unit_id"], self.note):
                continue
            self.working[iid] = (top["unit_id"], place)
            self.joined[iid] = []
            route = [(float(lon), float(lat)) for lon, lat in top["route"]]
            orders.append(Order(top["unit_id"], iid, *route[-1], route))
        return orders

    def _send(self, incident_id: int, unit_id: str, note: str) -> bool:
        """Acknowledge and assign; False when someone else moved the incident on first."""
        self.seen.add(incident_id)
        for path, body in (
            (f"/api/incidents/{incident_id}/transitions", {"action": "acknowledge", "note": ""}),
            (f"/api/incidents/{incident_id}/dispatch", {"unit_id": unit_id, "note": note}),
        ):
            resp = self._call(self._client, "POST", path, json=body)
            if resp.status_code == 409:
                return False
            self._ok(resp)
        return True

    def _working_near(self, place: tuple[float, float]) -> int | None:
        best: tuple[float, int] | None = None
        for iid, (_, (lon, lat)) in self.working.items():
            d = _metres(place, (lon, lat))
            if d <= self.join_radius_m and (best is None or d < best[0]):
                best = (d, iid)
        return None if best is None else best[1]

    def report(
        self, unit_id: str, status: str, when: datetime, lonlat: tuple[float, float] | None = None
    ) -> None:
        """A unit's status (and position) at a time, as its own tracker would report it."""
        body: dict[str, Any] = {"status": status, "time": when.isoformat()}
        if lonlat is not None:
            body["lon"], body["lat"] = lonlat
        self._ok(self._call(self._reporter, "POST", f"/api/units/{unit_id}/reports", json=body))

    def resolve(self, incident_id: int, outcome: str, note: str = "") -> None:
        """Resolve an incident, and those joined to it, with an outcome (`intercepted`, …);
        one a person assigned is theirs to resolve (its unit is reported on scene instead)."""
        if incident_id in self.followed:
            return
        body = {"action": "resolve", "outcome": outcome, "note": note}
        for iid in (incident_id, *self.joined.pop(incident_id, [])):
            resp = self._call(self._client, "POST", f"/api/incidents/{iid}/transitions", json=body)
            if resp.status_code != 409:  # 409: already resolved by someone else
                self._ok(resp)
        self.working.pop(incident_id, None)


@dataclass
class Mission:
    """A unit out on one call: its movement, the group it is after, and how it ended."""

    order: Order
    move: RouteMove
    actor: int | None
    ordered_s: float
    depart_s: float
    outcome: str | None = None
    ended_s: float | None = None
    frame: Frame | None = None

    @property
    def lonlat(self) -> tuple[float, float]:
        """The unit's present position, lon/lat."""
        assert self.frame is not None, "a mission knows its scenario's frame"
        lon, lat = self.frame.to_lonlat(self.move.x, self.move.y)
        return float(lon), float(lat)


@dataclass
class Pursued:
    """What `pursue` did: the calls (for the scorecard), the units' tracks, the alerts."""

    dispatches: list[Dispatch] = field(default_factory=list)
    tracks: list[UnitTrack] = field(default_factory=list)
    alerts: list[AlertLike] = field(default_factory=list)
    missions: list[Mission] = field(default_factory=list)
    sent: list[Emission] = field(default_factory=list)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two lon/lat points (equirectangular: ample for a few km)."""
    k = math.pi / 180.0 * 6_371_000.0
    dx = (a[0] - b[0]) * k * math.cos(math.radians((a[1] + b[1]) / 2.0))
    return math.hypot(dx, (a[1] - b[1]) * k)


def _nearest_group(actors: Sequence[Actor], t: float, x: float, y: float) -> int | None:
    """The crossing group, under way at `t`, nearest a frame point (None: none under way)."""
    best: tuple[float, int] | None = None
    for a in actors:
        if not a.crossing or a.stop_s is not None or not a.start_s <= t <= a.end_s:
            continue
        ax, ay = a.position(np.array([t]))
        d = math.hypot(float(ax[0]) - x, float(ay[0]) - y)
        if best is None or d < best[0]:
            best = (d, a.index)
    return None if best is None else best[1]


def pursue(
    scenario: Scenario,
    actors: Sequence[Actor],
    emitted: Sequence[Emission],
    sender: Sender,
    clock: SimClock,
    dispatcher: ApiDispatcher,
    cfg: ApiDispatchConfig | None = None,
    rng: np.random.Generator | None = None,
    *,
    begin_s: float | None = None,
) -> Pursued:
    """Send an exercise's reports on `clock` while the dispatcher sends units through the API.

    Reports go in send order, each when the clock reaches it; from `begin_s` (default: the
    first report) every `cfg.step_s` the dispatcher's new orders start units (after a readiness
    drawn from the scenario), units move and report, captures and escapes resolve incidents.
    A group's reports after its interception are not sent. Ends `cfg.settle_s` after the last
    report once no unit is out.
    """
    cfg = cfg or ApiDispatchConfig()
    rng = rng or np.random.default_rng(0)
    out = Pursued()
    units = {u.id: u for u in scenario.spec.units}
    index = {a.id: a.index for a in actors}
    order = sorted(range(len(emitted)), key=lambda k: emitted[k].send_s)
    last_s = emitted[order[-1]].send_s if order else 0.0
    t = begin_s if begin_s is not None else (emitted[order[0]].send_s if order else 0.0)
    next_poll = next_report = t
    tracks: dict[str, UnitTrack] = {}
    sent = 0
    sender.open()
    try:
        clock.begin()
        while True:
            clock.wait_until(t)
            batch: list[Emission] = []
            while sent < len(order) and emitted[order[sent]].send_s <= t:
                e = emitted[order[sent]]
                sent += 1
                a = index.get(e.actor_id) if e.actor_id is not None else None
                stop = actors[a].stop_s if a is not None else None
                if stop is None or e.time_s < stop:
                    batch.append(e)
            if batch:
                out.sent.extend(batch)
                back = sender.send(batch)
                if back:
                    out.alerts.extend(back)
            if t >= next_poll:
                next_poll += cfg.poll_every_s
                for o in dispatcher.poll(clock.at(t)):
                    out.missions.append(_mission(scenario, units, actors, o, t, cfg, rng))
            open_ = [m for m in out.missions if m.outcome is None]
            for m in open_:
                _step(m, actors, t, cfg, dispatcher, clock)
            if t >= next_report:
                next_report += cfg.report_every_s
                for m in open_:
                    if m.outcome is None and t >= m.depart_s:
                        dispatcher.report(m.order.unit_id, "en_route", clock.at(t), m.lonlat)
                        tr = tracks.setdefault(m.order.unit_id, UnitTrack(m.order.unit_id))
                        tr.times_s.append(t)
                        tr.xy.append((m.move.x, m.move.y))
            done = sent >= len(order) and all(m.outcome is not None for m in out.missions)
            if done and t >= last_s + cfg.settle_s:
                break
            t += cfg.step_s
    finally:
        sender.close()
    out.tracks = list(tracks.values())
    out.dispatches = [_record(m, actors) for m in out.missions]
    return out


def _mission(
    scenario: Scenario,
    units: Mapping[str, Unit],
    actors: Sequence[Actor],
    o: Order,
    t: float,
    cfg: ApiDispatchConfig,
    rng: np.random.Generator,
) -> Mission:
    unit = units[o.unit_id]
    lon, lat = np.asarray(o.route, dtype=float).reshape(-1, 2).T
    x, y = scenario.frame.to_xy(lon, lat)
    move = RouteMove(scenario, unit, np.column_stack([x, y]), cfg.road_cell_m)
    tx, ty = scenario.frame.to_xy(o.target_lon, o.target_lat)
    group = _nearest_group(actors, t, float(tx), float(ty))
    ready = unit.readiness
    depart = t + max(0.0, float(rng.normal(ready.mean_s, ready.sd_s)))
    return Mission(o, move, group, t, depart, frame=scenario.frame)


def _step(
    m: Mission,
    actors: Sequence[Actor],
    t: float,
    cfg: ApiDispatchConfig,
    dispatcher: ApiDispatcher,
    clock: SimClock,
) -> None:
    """Move one unit one step on; intercept, or give up when its group escapes."""
    if m.actor is None:
        _end(m, "false_alarm", t, dispatcher, "no crossing group near the incident", clock)
        return
    actor = actors[m.actor]
    ax, ay = actor.position(np.array([t]))
    gx, gy = float(ax[0]), float(ay[0])
    if t >= m.depart_s:
        # This step covers (t − step, t]; a unit that left within it moves only since then.
        m.move.advance(min(cfg.step_s, t - m.depart_s), chase=(gx, gy))
    if actor.stop_s is not None:  # another unit got there first
        _end(m, "intercepted", t, dispatcher, "group intercepted by another unit", clock)
        return
    escaped = (actor.goal_s is not None and t >= actor.goal_s) or t > actor.end_s
    near = math.hypot(m.move.x - gx, m.move.y - gy) <= cfg.capture_radius_m
    if near and not escaped and t >= actor.start_s and (actor.blocked is False):
        actor.stop_s = t
        dispatcher.report(m.order.unit_id, "on_scene", _stamp(clock, t), m.lonlat)
        _end(m, "intercepted", t, dispatcher, f"group intercepted by {m.order.unit_id}", clock)
    elif escaped:
        _end(m, "lost", t, dispatcher, "the group reached its goal before the unit", clock)


def _end(
    m: Mission, outcome: str, t: float, dispatcher: ApiDispatcher, note: str, clock: SimClock
) -> None:
    """Resolve the incident; the unit reports itself returning (free for the next call)."""
    m.outcome, m.ended_s = outcome, t
    dispatcher.resolve(m.order.incident_id, outcome, note)
    dispatcher.report(m.order.unit_id, "returning", _stamp(clock, t), m.lonlat)


def _stamp(clock: SimClock, t: float) -> datetime:
    """The time of a status change: its simulated second, or the present when the run is behind.

    The live system stamps a dispatch's `en_route` at its own present; a run catching up on
    its past (the demo's run-in) must not report the unit's next status as older than that,
    or the live system keeps it as history and the unit stays en route on the map.
    """
    return max(clock.at(t), clock.now())


def _record(m: Mission, actors: Sequence[Actor]) -> Dispatch:
    """The call as the scorecard counts it (home time: not simulated, left infinite)."""
    actor_id = actors[m.actor].id if m.actor is not None else ""
    caught = m.outcome == "intercepted"
    arrive = m.ended_s if caught and m.ended_s is not None else math.inf
    return Dispatch(actor_id, m.order.unit_id, m.ordered_s, m.depart_s, arrive, math.inf,
                    m.move.x, m.move.y, caught)  # fmt: skip

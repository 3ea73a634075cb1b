// The limes operations map: log in with a token, then the watch view (live map and incident
// queue), the planner view (an assessment) or the replay view. Nothing is loaded from outside
// the server that serves this page.

import * as L from "leaflet";
import { Alarm } from "./alarm";
import { Api, ApiError, type AlertOut, type ExerciseState, type Health, type IncidentOut, type Me, type ScenarioOut, type SectorOut, type TrackOut, type UnitOut, type WebState, type FeatureCollection, type Workflow } from "./api";
import { CoverageLayer, UnitLayer, buildBase, hillshadeLayer, type BaseLayers } from "./basemap";
import { ServerClock } from "./clock";
import { ago, byId, clock, duration, h, messages, toast } from "./dom";
import { IncidentQueue } from "./incidents";
import { IntelLayer, type IntelReportOut } from "./intel";
import { legend } from "./legend";
import { latLonText, mgrs, mgrsSpaced } from "./mgrs";
import { Planner } from "./planner";
import { ReplayView } from "./replay";
import { LiveStream, savedCursor, type Change } from "./stream";
import { TrackLayer, type TrackUpdate } from "./tracks";

const TOKEN_KEY = "limes.token";

interface App {
  api: Api;
  me: Me;
  map: L.Map;
  tracks: TrackLayer;
  base: BaseLayers;
  queue: IncidentQueue;
  units: UnitLayer;
  /** Accepted intelligence reports at their places. */
  intel: IntelLayer;
  alerts: Map<string, AlertOut>;
  sectors: Map<string, SectorOut>;
  stream: LiveStream;
  flashS: number;
  markerS: number;
  live: boolean;
  alertLayer: L.LayerGroup;
  /** Alert markers on the map with their alert time (ms), removed when older than markerS. */
  alertMarkers: Map<string, { marker: L.Layer; t: number }>;
  /** The canvas the settled alert markers are drawn on (one element for all of them). */
  alertCanvas: L.Canvas;
  clock: ServerClock;
  alarm: Alarm;
  workflow: Workflow;
  health: Health | null;
}

declare global {
  interface Window {
    limes?: {
      app: App | null;
      ready: boolean;
      /** Feed stream changes as the WebSocket would (benchmarks drive the renderer with it). */
      inject(batch: Change[]): void;
      /** Every message the page has shown (errors included). */
      messages?: { text: string; kind: string }[];
    };
  }
}

window.limes = { app: null, ready: false, inject: () => undefined };

function showLogin(message = ""): void {
  byId("login").hidden = false;
  byId("shell").hidden = true;
  byId("login-error").textContent = message;
  const form = byId<HTMLFormElement>("login-form");
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const token = byId<HTMLInputElement>("token").value.trim();
    Alarm.askPermission();
    if (token) void start(token);
  };
}

async function start(token: string): Promise<void> {
  const api = new Api(token);
  let me: Me;
  try {
    me = await api.me();
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(e instanceof ApiError ? e.detail : `cannot reach the server (${String(e)})`);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  byId("login").hidden = true;
  byId("shell").hidden = false;
  document.body.dataset["role"] = me.role;
  byId("who").textContent = `${me.name} · ${me.role}`;
  byId("logout").onclick = () => {
    sessionStorage.clear();
    location.reload();
  };
  await boot(api, me);
}

async function boot(api: Api, me: Me): Promise<void> {
  // The cursor is read before the state, so the stream replays whatever changes in between.
  const state = await api.get<WebState>("/api/web/state");
  const resumeFrom = savedCursor();
  const [scenario, layers, ticks, workflow] = await Promise.all([
    api.get<ScenarioOut>("/api/scenario"),
    api.get<FeatureCollection>("/api/scenario/layers"),
    api.get<FeatureCollection>("/api/web/chainage?step_km=10"),
    api.get<Workflow>("/api/incidents/workflow"),
  ]);
  const serverClock = new ServerClock();
  serverClock.sync(state.now, state.clock_speed);
  showExercise(state.exercise ?? null, state.clock_speed ?? 1);
  byId("title").textContent = scenario.title;
  byId("demo-note").textContent = scenario.demonstration_note;

  const map = L.map("map", { zoomControl: true, preferCanvas: false, zoomAnimation: false, attributionControl: false, worldCopyJump: false });
  map.getContainer().style.background = "#1b1f24";
  const relief = hillshadeLayer(api, state);
  relief?.addTo(map);
  const base = buildBase(map, layers, ticks);
  map.fitBounds(base.border, { padding: [20, 20] });
  L.control.scale({ imperial: false }).addTo(map);
  legend().addTo(map);
  pointerPosition(map);

  const sectorNames = scenario.sectors.map((s) => s.name);
  const byLength = [...sectorNames].sort((a, b) => b.length - a.length);
  const tracks = new TrackLayer(map, {
    trailPoints: state.trail_points,
    trailS: state.trail_s,
    headingS: Number((state as unknown as { heading_s?: number }).heading_s ?? 120),
    sectorOf: (id) => byLength.find((s) => id.startsWith(`${s}-`)) ?? "",
  });
  map.on("click", (ev: L.LeafletMouseEvent) => {
    const tr = tracks.hit(ev.containerPoint);
    tracks.selected = tr?.id ?? null;
    tracks.invalidate();
    if (tr) {
      L.popup()
        .setLatLng([tr.lat, tr.lon])
        .setContent(`<b>${tr.id}</b><br>${tr.cls}${tr.group ? ` ×${tr.group}` : ""}, ${tr.status}<br>${(Math.hypot(tr.vx, tr.vy) * 3.6).toFixed(1)} km/h, ${clock(new Date(tr.t).toISOString())}<br><span class="mgrs">${mgrsSpaced(mgrs(tr.lon, tr.lat))}</span><br>${latLonText(tr.lon, tr.lat)}`)
        .openOn(map);
    }
  });

  const units = new UnitLayer();
  units.group.addTo(map);
  const coverage = new CoverageLayer(api);
  coverage.group.addTo(map);
  const alertLayer = L.layerGroup().addTo(map);
  const intel = new IntelLayer(api);
  intel.group.addTo(map);

  // The tracks live on their own canvas; this empty group is their switch in the layer control.
  const trackSwitch = L.layerGroup().addTo(map);
  const switchTracks = (on: boolean) => (ev: L.LayersControlEvent) => {
    if (ev.layer !== trackSwitch) return;
    tracks.visible = on;
    tracks.invalidate();
  };
  map.on("overlayadd", switchTracks(true));
  map.on("overlayremove", switchTracks(false));
  L.control
    .layers({}, { ...base.overlays, Units: units.group, "Live tracks": trackSwitch, Alerts: alertLayer, Intelligence: intel.group }, { collapsed: true, position: "topright" })
    .addTo(map);

  const queue = new IncidentQueue(api, map, me, sectorNames, workflow, serverClock, (id) => {
    tracks.selected = id;
    tracks.invalidate();
  });
  const stream = new LiveStream(api.token, 0, {
    changes: (batch) => applyChanges(app, batch),
    reset: () => loadState(app, null),
    status: (text, ok) => {
      if (document.body.dataset["view"] === "replay") return; // replay is marked as such
      const el = byId("live-status");
      el.textContent = text;
      el.className = ok ? "ok" : "bad";
    },
    refused: (detail) => {
      stream.stop();
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(detail);
    },
  });
  const app: App = {
    api,
    me,
    map,
    tracks,
    base,
    queue,
    units,
    intel,
    alerts: new Map(),
    sectors: new Map(),
    stream,
    flashS: state.alert_flash_s ?? 30,
    markerS: state.alert_marker_s ?? 1800,
    live: true,
    alertLayer,
    alertMarkers: new Map(),
    alertCanvas: L.canvas({ padding: 0.2 }),
    clock: serverClock,
    alarm: new Alarm((state.alarm_period_s ?? 4) * 1000),
    workflow,
    health: null,
  };
  queue.onChange = () => updateAlarm(app);
  byId("mute").onclick = () => {
    app.alarm.muted = !app.alarm.muted;
    byId("mute").textContent = app.alarm.muted ? "Sound off" : "Sound on";
  };
  window.limes = { app, ready: false, inject: (batch) => applyChanges(app, batch), messages };

  buildCoverageControls(coverage, [...base.sensorsByKind.keys()]);
  await loadState(app, state.cursor);
  // Resume from the cursor of the last batch this tab handled (a reload misses nothing), else
  // from the cursor read before the state was loaded.
  stream.cursor = resumeFrom !== null && resumeFrom <= state.cursor ? resumeFrom : state.cursor;
  stream.start();
  setupViews(app);
  window.setInterval(() => refreshCounters(app), 2000);
  window.setInterval(() => ageOutMarkers(app), 5000);
  window.setInterval(() => void refreshHealth(app), 5000);
  void refreshHealth(app);
  window.limes.ready = true;
  document.body.dataset["ready"] = "true";
  document.body.dataset["readyMs"] = String(Math.round(performance.now()));
}

/** The REST state; `cursor` is the change id read before it (null: read it now, first). */
async function loadState(app: App, cursor: number | null): Promise<void> {
  const { api } = app;
  if (cursor === null) {
    const state = await api.get<WebState>("/api/web/state");
    cursor = state.cursor;
    app.clock.sync(state.now, state.clock_speed);
  }
  const [tracks, incidents, alerts, sectors, units] = await Promise.all([
    api.all<TrackOut>("/api/tracks"),
    api.all<IncidentOut>("/api/incidents", 2000),
    api.get<{ items: AlertOut[] }>("/api/alerts?limit=500"),
    api.get<SectorOut[]>("/api/sectors"),
    api.get<UnitOut[]>("/api/units"),
    app.intel.load(),
  ]);
  app.tracks.clear();
  app.tracks.apply(tracks.filter((t) => t.status !== "deleted"));
  for (const a of [...alerts.items].reverse()) addAlert(app, a, false);
  app.queue.set(incidents, cursor);
  for (const s of sectors) app.sectors.set(s.name, s);
  app.units.set(units);
  refreshCounters(app);
}

function applyChanges(app: App, batch: Change[]): void {
  const trackUpdates: TrackUpdate[] = [];
  for (const c of batch) {
    switch (c.kind) {
      case "track":
        trackUpdates.push(c.payload as unknown as TrackUpdate);
        break;
      case "alert":
        addAlert(app, c.payload as unknown as AlertOut, true);
        break;
      case "incident":
        app.queue.apply(c.payload as unknown as IncidentOut, c.id);
        break;
      case "sector": {
        const s = c.payload as unknown as SectorOut;
        const prev = app.sectors.get(s.name);
        app.sectors.set(s.name, { ...(prev ?? s), ...s });
        break;
      }
      case "unit":
        app.units.applyChange(c.payload);
        break;
      case "intel_report":
        app.intel.update(c.payload as unknown as IntelReportOut);
        break;
    }
  }
  if (trackUpdates.length > 0 && app.live) app.tracks.apply(trackUpdates);
}

/** Alert markers pulsing now (DOM markers), and how many may at once. */
let pulsing = 0;
const MAX_PULSING = 50;

function addAlert(app: App, a: AlertOut, fresh: boolean): void {
  if (app.alerts.has(a.alert_id)) return;
  app.alerts.set(a.alert_id, a);
  app.queue.noteAlert(a);
  const t = Date.parse(a.time);
  const age = (app.clock.now() - t) / 1000;
  // On the system's clock: an alert older than the marker time stays in the log, off the map.
  if (age < app.markerS) {
    // At most MAX_PULSING pulse at once: a burst of thousands pulsing stalled the page (no frame
    // in 5 s with 5,000); the others settle onto the canvas at once, still on the map and log.
    const flashing = (fresh || age < app.flashS) && pulsing < MAX_PULSING;
    const text = `${a.rule.replace("_", " ")} · ${a.severity} · ${a.sector} km ${a.chainage_km.toFixed(1)} · ${clock(a.time)} · ${mgrsSpaced(mgrs(a.lon, a.lat))}`;
    // A settled marker is a circle on one shared canvas: thousands of DOM markers made every
    // frame repaint them all (software rendering) — 275 ms frames with 5,000 on the map.
    const settle = (): L.Layer =>
      L.circleMarker([a.lat, a.lon], { renderer: app.alertCanvas, radius: 9, color: "#ff5252", weight: 2, fillColor: "#ff2828", fillOpacity: 0.25 })
        .bindTooltip(text)
        .addTo(app.alertLayer);
    if (!flashing) app.alertMarkers.set(a.alert_id, { marker: settle(), t });
    else {
      // Pulsing while fresh (a DOM marker, CSS animation), then settled onto the canvas.
      const marker = L.marker([a.lat, a.lon], {
        icon: L.divIcon({ className: "alert-icon flash", html: "<span></span>", iconSize: [22, 22] }),
        keyboard: false,
      })
        .bindTooltip(text)
        .addTo(app.alertLayer);
      const entry = { marker: marker as L.Layer, t };
      app.alertMarkers.set(a.alert_id, entry);
      pulsing++;
      window.setTimeout(() => {
        pulsing--;
        if (app.alertMarkers.get(a.alert_id) !== entry) return; // aged out meanwhile
        marker.remove();
        entry.marker = settle();
      }, (app.flashS * 1000) / Math.max(1, app.clock.speed));
    }
  }
  const log = byId("alert-log");
  const item = h(
    "li",
    { class: `alert-row sev-${a.severity}`, "data-alert": a.alert_id, onclick: () => app.map.flyTo([a.lat, a.lon], Math.max(app.map.getZoom(), 11), { duration: 0.5 }) },
    h("span", { class: "t" }, clock(a.time)),
    h("span", { class: "rule" }, a.rule.replace("_", " ")),
    h("span", {}, `${a.sector} km ${a.chainage_km.toFixed(1)}`),
    h("span", {}, `${a.target_class}${a.group_size ? ` ×${a.group_size}` : ""}`),
    h("span", { class: "where" }, `${latLonText(a.lon, a.lat)} · ${mgrsSpaced(mgrs(a.lon, a.lat))}`),
  );
  log.prepend(item);
  while (log.childElementCount > 300) log.lastElementChild?.remove();
  byId("alert-total").textContent = String(app.alerts.size);
  if (fresh) {
    byId("alert-banner").textContent = `${a.severity.toUpperCase()} ${a.rule.replace("_", " ")} — ${a.sector} km ${a.chainage_km.toFixed(1)}`;
    byId("alert-banner").className = `flash sev-${a.severity}`;
  }
}

function refreshCounters(app: App): void {
  const trackCounts = app.tracks.countBySector();
  const since = app.clock.now() - 24 * 3600 * 1000;
  const alertCounts = new Map<string, number>();
  for (const a of app.alerts.values())
    if (Date.parse(a.time) >= since) alertCounts.set(a.sector, (alertCounts.get(a.sector) ?? 0) + 1);
  const open = app.queue.openBySector();
  const counts = new Map<string, { tracks: number; alerts: number }>();
  const list = [...app.sectors.values()].map((s) => ({ ...s, open_incidents: open.get(s.name) ?? 0 }));
  for (const s of list) counts.set(s.name, { tracks: trackCounts.get(s.name) ?? 0, alerts: alertCounts.get(s.name) ?? 0 });
  app.base.setSectorLevels(list, counts);
  byId("counters").replaceChildren(
    ...list.map((s) =>
      h(
        "div",
        { class: `counter level-${s.level}`, "data-sector": s.name },
        h("b", {}, s.name),
        h("span", { class: "n-tracks", title: "live tracks" }, `${counts.get(s.name)!.tracks} trk`),
        h("span", { class: "n-alerts", title: "alerts, last 24 h" }, `${counts.get(s.name)!.alerts} alr`),
        h("span", { class: "n-open", title: "open incidents" }, `${s.open_incidents} inc`),
      ),
    ),
  );
  byId("track-total").textContent = String(app.tracks.tracks.size);
}

function buildCoverageControls(coverage: CoverageLayer, kinds: string[]): void {
  const box = byId("coverage-controls");
  const light = h("select", { id: "coverage-light", "aria-label": "light" }, h("option", { value: "day" }, "day"), h("option", { value: "night" }, "night"));
  light.onchange = () => void coverage.load(light.value as "day" | "night");
  box.replaceChildren(
    h("span", {}, "Coverage:"),
    ...kinds.map((k) => {
      const cb = h("input", { type: "checkbox", "data-kind": k });
      cb.onchange = () => void coverage.toggleKind(k, cb.checked, light.value as "day" | "night");
      return h("label", {}, cb, k.replace("_", " "));
    }),
    light,
  );
}

function setupViews(app: App): void {
  const planner = new Planner(app.api, app.map);
  const replay = new ReplayView(app.api, app.map, app.tracks);
  const show = (view: string): void => {
    for (const v of ["watch", "planner", "replay"]) {
      byId(`panel-${v}`).hidden = v !== view;
      byId(`tab-${v}`).classList.toggle("active", v === view);
    }
    document.body.dataset["view"] = view;
    if (view === "planner") void planner.open();
    else planner.close();
    if (view !== "replay") replay.close();
    const wasLive = app.live;
    app.live = view !== "replay";
    const status = byId("live-status");
    if (!app.live) {
      status.dataset["was"] = status.className;
      status.textContent = "REPLAY — not live";
      status.className = "replay";
    } else if (!wasLive) {
      status.textContent = "live";
      status.className = "ok";
      void loadState(app, null);
    }
  };
  for (const v of ["watch", "planner", "replay"]) byId(`tab-${v}`).onclick = () => show(v);
  show("watch");
}

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void start(saved);
else showLogin();
window.addEventListener("unhandledrejection", (ev) => toast(String(ev.reason), "error"));

function ageOutMarkers(app: App): void {
  const now = app.clock.now();
  for (const [id, m] of app.alertMarkers)
    if ((now - m.t) / 1000 >= app.markerS) {
      m.marker.remove();
      app.alertMarkers.delete(id);
    }
}

/** The alarm follows the unacknowledged incidents; the header shows how many and the oldest. */
function updateAlarm(app: App): void {
  const waiting = app.queue.unacknowledged();
  app.alarm.update(
    waiting.map((i) => ({ id: i.id, severity: i.severity, opened: i.opened, text: `${i.sector} · ${latLonText(i.lon, i.lat)} · ${mgrsSpaced(mgrs(i.lon, i.lat))}` })),
    app.queue.fresh,
  );
  const el = byId("unack");
  if (waiting.length === 0) {
    el.textContent = "no unacknowledged";
    el.className = "";
  } else {
    el.textContent = `${waiting.length} unacknowledged · oldest ${ago(waiting[0]!.opened, app.clock.now())}`;
    el.className = app.alarm.sounding ? "alarm" : "waiting";
  }
  el.dataset["count"] = String(waiting.length);
}

function showExercise(ex: ExerciseState | null, speed: number): void {
  const el = byId("exercise-banner");
  if (ex === null) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  const what = [`EXERCISE ×${ex.speed ?? speed}`, ex.dispatcher ? `automatic dispatcher: ${ex.dispatcher}` : ""].filter(Boolean).join(" · ");
  el.textContent = ex.state === "running" ? what : `EXERCISE ${ex.state.toUpperCase()}${ex.detail ? `: ${ex.detail}` : ""}`;
  el.className = ex.state === "running" ? "running" : "stopped";
  el.dataset["state"] = ex.state;
}

async function refreshHealth(app: App): Promise<void> {
  let health: Health;
  try {
    health = await app.api.get<Health>("/api/web/health");
  } catch {
    byId("health").replaceChildren(h("p", { class: "bad" }, "health: the server does not answer"));
    return;
  }
  app.health = health;
  app.clock.sync(health.now, health.clock_speed);
  showExercise(health.exercise, health.clock_speed);
  const quiet = health.sensors.filter((s) => s.state !== "ok");
  const rejected = Object.entries(health.rejected);
  const live = byId("live-status").textContent ?? "";
  byId("health").replaceChildren(
    h("div", { class: `h-row ${quiet.length ? "bad" : "ok"}`, "data-late": health.late, "data-silent": health.silent }, `Sensors: ${health.sensors.length - quiet.length} of ${health.sensors.length} reporting`, quiet.length ? ` · ${health.late} late · ${health.silent} silent` : ""),
    quiet.length
      ? h("ul", { class: "h-sensors" }, ...quiet.slice(0, 12).map((s) => h("li", { class: `sensor-${s.state}`, "data-sensor": s.sensor_id }, `${s.sensor_id}: ${s.state}${s.quiet_s !== null ? `, quiet ${duration(s.quiet_s)}${s.interval_s ? ` (usually every ${duration(s.interval_s)})` : ""}` : " in the last hour"}`)))
      : "",
    h("div", { class: `h-row ${rejected.length ? "warn" : "ok"}` }, "Rejected reports: ", rejected.length ? rejected.map(([door, n]) => `${door} ${n}`).join(" · ") : "none"),
    h("div", { class: "h-row" }, `Stream: ${live}`),
    h("div", { class: `h-row ${health.exercise && health.exercise.state !== "running" ? "bad" : ""}` }, `Exercise: ${health.exercise ? `${health.exercise.state}${health.exercise.detail ? ` — ${health.exercise.detail}` : ""}` : "none (live border)"}`),
  );
}

/** Under the pointer: MGRS and lat/lon; a click on the box copies the MGRS. */
function pointerPosition(map: L.Map): void {
  const Box = L.Control.extend({
    onAdd: () => {
      const el = h("div", { id: "pointer-pos", class: "leaflet-bar pointer-pos", title: "position under the pointer (click: copy MGRS)" }, "—");
      L.DomEvent.disableClickPropagation(el);
      el.onclick = () => {
        const code = el.dataset["mgrs"];
        if (code && navigator.clipboard) void navigator.clipboard.writeText(code).then(() => toast(`copied ${code}`));
      };
      return el;
    },
  });
  new Box({ position: "bottomright" }).addTo(map);
  map.on("mousemove", (ev: L.LeafletMouseEvent) => {
    const el = document.getElementById("pointer-pos");
    if (el === null) return;
    const code = mgrs(ev.latlng.lng, ev.latlng.lat);
    el.dataset["mgrs"] = code;
    el.textContent = `${mgrsSpaced(code)} · ${latLonText(ev.latlng.lng, ev.latlng.lat)}`;
  });
}

// Base layers, all from our own server: relief tiles, the border with chainage ticks, sectors by
// command with their impact level, barriers by kind and status, roads, places, the far side's
// controllers, sensors with coverage (per kind, day or night) and units.

import * as L from "leaflet";
import type { Api, Feature, FeatureCollection, SectorOut, UnitOut, WebState } from "./api";
import { h } from "./dom";

/** Tiles fetched with the user's token (an <img src> cannot carry an Authorization header).
 *
 * Leaflet's GridLayer marks a tile loaded by its coordinates, not by its element: a fetch that
 * finished after its tile had been removed (a zoom from 12 to 11 and back, a pan and back) would
 * mark the new, still empty tile of the same place loaded, and Leaflet would then drop the
 * coarser tile that covered it — a dark hole until the new fetch came, for seconds on a loaded
 * server. So a removed tile's fetch is aborted and never reports. A tile is reported loaded
 * only with its picture decoded (or with the server's 204: off the terrain, transparent by
 * design); an answer the server could not give now (5xx, 429, a dropped connection) is asked
 * again with backoff for as long as the tile is on the map, never shown as an empty tile. */
export class AuthTileLayer extends L.GridLayer {
  private readonly pending = new WeakMap<HTMLElement, AbortController>();

  constructor(
    private readonly api: Api,
    private readonly template: string,
    opts: L.GridLayerOptions,
  ) {
    super(opts);
    this.on("tileunload", (e: L.TileEvent) => {
      this.pending.get(e.tile)?.abort();
      this.pending.delete(e.tile);
    });
  }

  protected override createTile(coords: L.Coords, done: L.DoneCallback): HTMLElement {
    const img = document.createElement("img");
    img.className = "relief-tile";
    img.alt = "";
    const url = this.template
      .replace("{z}", String(coords.z))
      .replace("{x}", String(coords.x))
      .replace("{y}", String(coords.y));
    const abort = new AbortController();
    this.pending.set(img, abort);
    void this.load(url, img, abort.signal).then(
      (err) => {
        this.pending.delete(img);
        if (!abort.signal.aborted) done(err, img);
      },
      () => undefined, // aborted: the tile has left the map, a newer one reports for its place
    );
    return img;
  }

  /** Fetch and decode the tile; undefined when shown (or off the terrain), else the error for
   * an answer that retrying cannot change (401, 403, 404). Rejects when aborted. */
  private async load(url: string, img: HTMLImageElement, signal: AbortSignal): Promise<Error | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(url, { headers: { Authorization: `Bearer ${this.api.token}` }, signal });
        if (res.status === 204) return undefined;
        if (res.ok) {
          const src = URL.createObjectURL(await res.blob());
          try {
            img.src = src;
            await img.decode();
            return undefined;
          } finally {
            URL.revokeObjectURL(src);
          }
        }
        if (res.status < 500 && res.status !== 408 && res.status !== 429)
          return new Error(`${url}: ${res.status}`);
      } catch (e: unknown) {
        if (signal.aborted) throw e;
        // A dropped connection or an undecodable body under load: ask again.
      }
      await retryDelay(attempt, signal);
    }
  }
}

/** Wait before asking again: 0.25 s doubling to 8 s; rejects at once when aborted. */
function retryDelay(attempt: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const timer = setTimeout(resolve, Math.min(8000, 250 * 2 ** attempt));
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new Error("aborted"));
    }, { once: true });
  });
}

/** An image overlay whose picture is fetched with the token (assessment heat). */
export async function authImage(api: Api, url: string): Promise<string> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${api.token}` } });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return URL.createObjectURL(await res.blob());
}

const COMMAND_COLOURS = ["#4fc3f7", "#ba68c8", "#ffd54f", "#4db6ac", "#f06292", "#aed581", "#90a4ae"];
export const LEVEL_COLOUR: Record<string, string> = {
  low: "#3fa34d",
  medium: "#e0b000",
  high: "#f07020",
  critical: "#e02020",
};
export const BARRIER_COLOUR: Record<string, string> = {
  trench: "#c08040",
  berm: "#d8b070",
  fence: "#b0b8c0",
  wall: "#f0f0f0",
  wire: "#b070d0",
};
const SENSOR_COLOUR: Record<string, string> = {
  day_camera: "#80d8ff",
  thermal_camera: "#ff8a65",
  radar: "#69f0ae",
  aerostat: "#ffff8d",
  observation_post: "#e1bee7",
  ground_sensor: "#a1887f",
};
export const UNIT_STATUS_COLOUR: Record<string, string> = {
  available: "#3fa34d",
  en_route: "#f07020",
  dispatched: "#f07020",
  on_scene: "#e02020",
  returning: "#4fc3f7",
  unavailable: "#777",
};

function latlngs(coords: unknown): L.LatLngExpression[] {
  return (coords as [number, number][]).map(([lon, lat]) => [lat, lon] as L.LatLngTuple);
}

function lines(f: Feature): L.LatLngExpression[][] {
  const g = f.geometry;
  if (g === null) return [];
  if (g.type === "LineString") return [latlngs(g.coordinates)];
  if (g.type === "MultiLineString") return (g.coordinates as unknown[]).map(latlngs);
  return [];
}

/** The point halfway along a line (by length in degrees, scaled for latitude). */
function midpoint(ll: L.LatLngTuple[]): L.LatLngTuple {
  const k = Math.cos(((ll[0]?.[0] ?? 0) * Math.PI) / 180);
  const seg = ll.slice(1).map((p, i) => Math.hypot(p[0] - ll[i]![0], (p[1] - ll[i]![1]) * k));
  let half = seg.reduce((a, b) => a + b, 0) / 2;
  for (let i = 0; i < seg.length; i++) {
    if (half <= seg[i]! && seg[i]! > 0) {
      const t = half / seg[i]!;
      return [ll[i]![0] + (ll[i + 1]![0] - ll[i]![0]) * t, ll[i]![1] + (ll[i + 1]![1] - ll[i]![1]) * t];
    }
    half -= seg[i]!;
  }
  return ll[ll.length - 1]!;
}

function prop(f: Feature, k: string): string {
  const v = f.properties[k];
  return v === null || v === undefined ? "" : String(v);
}

export interface BaseLayers {
  overlays: Record<string, L.Layer>;
  sectorLabels: Map<string, L.Marker>;
  commandColour: Map<string, string>;
  border: L.LatLngBounds;
  setSectorLevels(sectors: SectorOut[], counts: Map<string, { tracks: number; alerts: number }>): void;
  sensorsByKind: Map<string, L.LayerGroup>;
}

export function buildBase(map: L.Map, doc: FeatureCollection, ticks: FeatureCollection): BaseLayers {
  const by = (layer: string) => doc.features.filter((f) => f.properties["layer"] === layer);
  const commandColour = new Map<string, string>();
  for (const f of by("sector")) {
    const c = prop(f, "command");
    if (!commandColour.has(c)) commandColour.set(c, COMMAND_COLOURS[commandColour.size % COMMAND_COLOURS.length]!);
  }

  const roads = L.layerGroup();
  for (const f of by("road")) {
    const major = ["highway", "paved", "main"].includes(prop(f, "kind"));
    for (const ll of lines(f))
      L.polyline(ll, { color: major ? "#d7c9a0" : "#a59a80", weight: major ? 2 : 1.2, opacity: 0.8, dashArray: major ? undefined : "4 3", interactive: false }).addTo(roads);
  }

  const sectors = L.layerGroup();
  const sectorLabels = new Map<string, L.Marker>();
  for (const f of by("sector")) {
    const colour = commandColour.get(prop(f, "command"))!;
    for (const ll of lines(f)) {
      L.polyline(ll, { color: colour, weight: 14, opacity: 0.28, lineCap: "butt" })
        .bindTooltip(`${prop(f, "name")} — ${prop(f, "command")} (km ${prop(f, "from_km")}–${prop(f, "to_km")}); far side: ${prop(f, "far_side")}, channel ${prop(f, "channel")}`, { sticky: true })
        .addTo(sectors);
      // The label sits at the middle of the sector's piece of line (by length).
      const label = L.marker(midpoint(ll as L.LatLngTuple[]), {
        icon: L.divIcon({ className: "sector-label", html: "", iconSize: undefined }),
        interactive: false,
        keyboard: false,
      }).addTo(sectors);
      sectorLabels.set(prop(f, "name"), label);
    }
  }

  const controllers = L.layerGroup();
  for (const f of by("controller")) {
    for (const ll of lines(f))
      L.polyline(ll, { color: "#ff6e6e", weight: 2, opacity: 0.7, dashArray: "2 6" })
        .bindTooltip(`Far side: ${prop(f, "name")} — channel ${prop(f, "channel")}${prop(f, "releasability") ? ` — releasable to ${prop(f, "releasability")}` : ""}`, { sticky: true })
        .addTo(controllers);
  }

  const barriers = L.layerGroup();
  for (const f of by("barrier")) {
    const status = prop(f, "status");
    const colour = BARRIER_COLOUR[prop(f, "kind")] ?? "#ccc";
    const style: L.PolylineOptions =
      status === "built"
        ? { color: colour, weight: 3, opacity: 0.95 }
        : status === "under_construction"
          ? { color: colour, weight: 3, opacity: 0.9, dashArray: "8 5" }
          : { color: colour, weight: 2, opacity: 0.7, dashArray: "1 6" };
    const progress = status === "under_construction" ? ` ${prop(f, "progress_pct")} %` : "";
    for (const ll of lines(f))
      L.polyline(ll, style)
        .bindTooltip(`${prop(f, "id")}: ${prop(f, "kind")}, ${status.replace("_", " ")}${progress}, km ${prop(f, "from_km")}–${prop(f, "to_km")}`, { sticky: true })
        .addTo(barriers);
  }

  const border = L.layerGroup();
  let borderBounds = L.latLngBounds([]);
  for (const f of by("border")) {
    for (const ll of lines(f)) {
      L.polyline(ll, { color: "#000", weight: 5, opacity: 0.8, interactive: false }).addTo(border);
      const line = L.polyline(ll, { color: "#fff", weight: 2.5, opacity: 1 })
        .bindTooltip(`${prop(f, "name")} — ${prop(f, "length_km")} km; inside ${prop(f, "inside_name")}, outside ${prop(f, "outside_name")}`, { sticky: true })
        .addTo(border);
      borderBounds = borderBounds.extend(line.getBounds());
    }
  }
  for (const t of ticks.features) {
    const [lon, lat] = t.geometry!.coordinates as [number, number];
    const km = Number(t.properties["km"]);
    const major = km % 50 === 0;
    L.marker([lat, lon], {
      icon: L.divIcon({
        className: major ? "km-tick major" : "km-tick",
        html: `<span style="transform: rotate(${Number(t.properties["bearing_deg"]) + 90}deg)"></span>${major ? `<b>${km}</b>` : ""}`,
        iconSize: [0, 0],
      }),
      interactive: false,
      keyboard: false,
    }).addTo(border);
  }

  const places = L.layerGroup();
  for (const f of by("place")) {
    const [lon, lat] = f.geometry!.coordinates as [number, number];
    L.circleMarker([lat, lon], { radius: 3, color: "#000", weight: 1, fillColor: "#eee", fillOpacity: 1 })
      .bindTooltip(prop(f, "name"), { permanent: true, direction: "right", className: "place-label", offset: [4, 0] })
      .addTo(places);
  }

  const sensorsByKind = new Map<string, L.LayerGroup>();
  for (const f of by("sensor")) {
    const kind = prop(f, "kind") || "sensor";
    let group = sensorsByKind.get(kind);
    if (group === undefined) {
      group = L.layerGroup();
      sensorsByKind.set(kind, group);
    }
    const [lon, lat] = f.geometry!.coordinates as [number, number];
    const planned = prop(f, "status") !== "built";
    L.circleMarker([lat, lon], {
      radius: kind === "aerostat" ? 6 : 4.5,
      color: "#000",
      weight: 1.5,
      fillColor: SENSOR_COLOUR[kind] ?? "#fff",
      fillOpacity: planned ? 0.3 : 1,
      dashArray: planned ? "2 2" : undefined,
    })
      .bindTooltip(`${prop(f, "id")} ${prop(f, "label")} — ${kind.replace("_", " ")} (${prop(f, "model")}), ${prop(f, "status").replace("_", " ")}, km ${prop(f, "chainage_km")}, ${prop(f, "sector")}`)
      .addTo(group);
  }
  const sensors = L.layerGroup([...sensorsByKind.values()]);

  for (const layer of [roads, sectors, controllers, barriers, border, places, sensors]) layer.addTo(map);

  return {
    overlays: {
      Border: border,
      "Sectors (by command)": sectors,
      Barriers: barriers,
      "Far-side controllers": controllers,
      Roads: roads,
      Places: places,
      Sensors: sensors,
    },
    sectorLabels,
    commandColour,
    border: borderBounds,
    sensorsByKind,
    setSectorLevels(list, counts) {
      for (const s of list) {
        const marker = sectorLabels.get(s.name);
        if (marker === undefined) continue;
        const c = counts.get(s.name) ?? { tracks: 0, alerts: 0 };
        const el = h(
          "div",
          { class: `sector-badge level-${s.level}`, "data-sector": s.name },
          h("b", {}, s.name),
          h("span", { class: "level", style: `background:${LEVEL_COLOUR[s.level] ?? "#777"}` }, s.level.toUpperCase()),
          h("span", { class: "counts" }, `${c.tracks} trk · ${c.alerts} alr · ${s.open_incidents} inc`),
        );
        marker.setIcon(L.divIcon({ className: "sector-label", html: el.outerHTML, iconSize: undefined }));
      }
    },
  };
}

/** Sensor coverage outlines per kind, for the day or night laws. */
export class CoverageLayer {
  readonly group = L.layerGroup();
  private light: "day" | "night" = "day";
  private readonly kinds = new Set<string>();
  private doc: FeatureCollection | null = null;

  constructor(private readonly api: Api) {}

  async load(light: "day" | "night"): Promise<void> {
    this.light = light;
    this.doc = await this.api.get<FeatureCollection>(`/api/web/coverage?target=person&light=${light}`);
    this.render();
  }

  async toggleKind(kind: string, on: boolean, light: "day" | "night"): Promise<void> {
    if (on) this.kinds.add(kind);
    else this.kinds.delete(kind);
    if (on && (this.doc === null || light !== this.light)) await this.load(light);
    else this.render();
  }

  private render(): void {
    this.group.clearLayers();
    if (this.doc === null) return;
    for (const f of this.doc.features) {
      const kind = prop(f, "kind");
      if (!this.kinds.has(kind)) continue;
      L.geoJSON(f as unknown as GeoJSON.Feature, {
        style: { color: SENSOR_COLOUR[kind] ?? "#fff", weight: 1, opacity: 0.7, fillOpacity: this.light === "night" ? 0.1 : 0.14 },
        interactive: false,
      }).addTo(this.group);
    }
  }
}

/** Units at their reported position (else their base), coloured by status. */
export class UnitLayer {
  readonly group = L.layerGroup();
  private readonly markers = new Map<string, L.Marker>();
  readonly units = new Map<string, UnitOut>();

  set(list: UnitOut[]): void {
    for (const u of list) this.update(u);
  }

  update(u: UnitOut): void {
    const prev = this.units.get(u.id);
    const merged: UnitOut = { ...(prev ?? u), ...u };
    this.units.set(u.id, merged);
    const lat = merged.lat ?? merged.base_lat;
    const lon = merged.lon ?? merged.base_lon;
    const status = merged.status ?? (merged.available ? "available" : "unavailable");
    const icon = L.divIcon({
      className: "unit-icon",
      html: `<span class="unit-${merged.kind}" style="background:${UNIT_STATUS_COLOUR[status] ?? "#777"}">${merged.kind === "helicopter" ? "H" : merged.kind === "qrf" ? "Q" : "P"}</span>`,
      iconSize: [18, 18],
    });
    const text = `${merged.label || merged.id} (${merged.kind}) — ${status.replace("_", " ")}${merged.incident_id ? `, on incident #${merged.incident_id}` : ""}`;
    let m = this.markers.get(u.id);
    if (m === undefined) {
      m = L.marker([lat, lon], { icon, keyboard: false }).bindTooltip(text).addTo(this.group);
      this.markers.set(u.id, m);
    } else {
      m.setLatLng([lat, lon]);
      m.setIcon(icon);
      m.setTooltipContent(text);
    }
  }

  /** A unit change from the stream (the store's unit row: unit_id, status, lon, lat, ...). */
  applyChange(p: Record<string, unknown>): void {
    const id = String(p["unit_id"] ?? p["id"] ?? "");
    const prev = this.units.get(id);
    if (prev === undefined) return;
    this.update({
      ...prev,
      status: (p["status"] as string | undefined) ?? prev.status,
      lon: (p["lon"] as number | null | undefined) ?? prev.lon,
      lat: (p["lat"] as number | null | undefined) ?? prev.lat,
    });
  }
}

export function hillshadeLayer(api: Api, state: WebState): L.Layer | null {
  const hs = state.hillshade;
  if (hs === null) return null;
  const [w, s, e, n] = hs.bounds;
  return new AuthTileLayer(api, hs.url, {
    minZoom: 3,
    maxZoom: 16,
    minNativeZoom: hs.min_zoom,
    maxNativeZoom: hs.max_zoom,
    bounds: L.latLngBounds([s, w], [n, e]),
    tileSize: 256,
    updateWhenIdle: false,
    keepBuffer: 4,
  } as L.GridLayerOptions);
}

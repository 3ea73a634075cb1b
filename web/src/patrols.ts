// Randomised patrols in the planner view: for the run on show, how often a patrol is on each
// weak stretch in each time window (a band along the line, one per window, coloured by that
// coverage) and the day's schedule drawn from the equilibrium with a seed, each patrol listed
// with lat/lon and MGRS and marked on the map.

import * as L from "leaflet";
import type { Api, PatrolPlan, PatrolToday, PatrolWindow } from "./api";
import { h, pct, toast } from "./dom";

const LOW: [number, number, number] = [84, 98, 110]; // never patrolled
const HIGH: [number, number, number] = [0, 176, 255]; // always patrolled

/** The band colour of a coverage probability: slate grey at 0 to bright blue at 1. */
export function coverageColour(c: number): string {
  const t = Math.min(1, Math.max(0, c));
  const [r, g, b] = LOW.map((lo, i) => Math.round(lo + t * (HIGH[i]! - lo)));
  return `rgb(${r}, ${g}, ${b})`;
}

function hour(hh: number): string {
  const m = Math.round(hh * 60) % (24 * 60);
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function windowName(w: PatrolWindow | undefined): string {
  return w === undefined ? "?" : `${hour(w.from_h)}–${hour(w.to_h)}`;
}

/** Today's date as a number (YYYYMMDD): the default seed, so each day draws its own schedule. */
function todaySeed(): number {
  const d = new Date();
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export class PatrolView {
  private readonly layer = L.layerGroup();
  private url = "";

  constructor(
    private readonly api: Api,
    private readonly map: L.Map,
  ) {}

  close(): void {
    this.layer.remove();
  }

  /** Draw the patrols of one run of one assessment into `box` (and on the map). */
  async show(assessment: string, run: string, box: HTMLElement): Promise<void> {
    this.url = `/api/web/assessments/${encodeURIComponent(assessment)}/${encodeURIComponent(run)}/patrols`;
    this.layer.addTo(this.map);
    const seed = h("input", { id: "patrol-seed", type: "number", min: 0, step: 1, value: todaySeed(), style: "width:7em", "aria-label": "seed" });
    const draw = h("button", { id: "patrol-draw" }, "Draw");
    const body = h("div", { id: "patrol-body" });
    draw.onclick = () => void this.load(Number((seed as HTMLInputElement).value), body);
    box.replaceChildren(h("h4", {}, "Randomised patrols"), h("div", { class: "filters" }, h("label", {}, "seed ", seed), draw), body);
    await this.load(Number((seed as HTMLInputElement).value), body);
  }

  private async load(seed: number, body: HTMLElement): Promise<void> {
    const url = this.url;
    let plan: PatrolPlan;
    try {
      plan = await this.api.get<PatrolPlan>(`${url}?seed=${Math.max(0, Math.floor(seed) || 0)}`);
    } catch (e) {
      this.layer.clearLayers();
      body.replaceChildren(h("p", { class: "patrol-note" }, `No patrol plan: ${String(e)}`));
      toast(`patrols: ${String(e)}`, "error");
      return;
    }
    if (url !== this.url) return; // another run was chosen meanwhile
    this.layer.clearLayers();
    this.draw(plan);
    body.replaceChildren(...this.describe(plan));
    body.dataset["seed"] = String(plan.seed);
  }

  private draw(plan: PatrolPlan): void {
    for (const st of plan.stretches) {
      for (const w of st.windows) {
        L.polyline(
          w.line.map(([lon, lat]) => [lat, lon] as [number, number]),
          { color: coverageColour(w.coverage), weight: 6, opacity: 0.45 + 0.5 * w.coverage, lineCap: "butt", className: "patrol-band" },
        )
          .bindTooltip(`km ${st.from_km.toFixed(1)}–${st.to_km.toFixed(1)}, ${windowName(plan.windows[w.window])}: a patrol there on ${pct(w.coverage)} of days; ${pct(w.through)} of crossings get through`)
          .addTo(this.layer);
      }
    }
    for (const p of plan.today) {
      L.circleMarker([p.lat, p.lon], { radius: 7, color: "#fff", weight: 2, fillColor: "#00b0ff", fillOpacity: 1, className: "patrol-today" })
        .bindTooltip(`patrol ${p.patrol} today: km ${p.from_km.toFixed(1)}–${p.to_km.toFixed(1)}, ${windowName(plan.windows[p.window])} · ${p.latlon}`)
        .addTo(this.layer);
    }
  }

  private describe(plan: PatrolPlan): HTMLElement[] {
    if (plan.stretches.length === 0) return [h("p", { class: "patrol-note" }, plan.note ?? "Nothing to patrol.")];
    const header = h("tr", {}, h("th", {}, "km"), ...plan.windows.map((w) => h("th", {}, windowName(w))));
    const rows = plan.stretches.map((st) =>
      h(
        "tr",
        { class: "patrol-stretch", "data-rank": st.rank },
        h("td", {}, `${st.from_km.toFixed(1)}–${st.to_km.toFixed(1)}`),
        ...st.windows.map((w) =>
          h("td", { "data-window": w.window, "data-coverage": w.coverage, style: `color: ${coverageColour(w.coverage)}` }, pct(w.coverage)),
        ),
      ),
    );
    return [
      h(
        "p",
        { class: "patrol-value" },
        `${plan.patrols} patrol(s) a day, each catching ${pct(plan.catch_p)} of the crossings where it is: ` +
          `an adversary who has learnt these frequencies gets through ${pct(plan.through_mixed)} at best ` +
          `(${pct(plan.through_best_fixed)} against the best fixed patrol). ${plan.schedules} schedules.`,
      ),
      h("table", { class: "patrol-coverage" }, h("thead", {}, header), h("tbody", {}, ...rows)),
      h("h4", {}, `Today's patrols (seed ${plan.seed})`),
      h("ol", { class: "patrol-today-list" }, ...plan.today.map((p) => this.item(plan, p))),
    ];
  }

  private item(plan: PatrolPlan, p: PatrolToday): HTMLElement {
    return h(
      "li",
      {
        class: "patrol-today-item",
        tabindex: 0,
        "data-lat": p.lat,
        "data-lon": p.lon,
        "data-window": p.window,
        onclick: () => this.map.flyTo([p.lat, p.lon], 12, { duration: 0.6 }),
      },
      `km ${p.from_km.toFixed(1)}–${p.to_km.toFixed(1)}, ${windowName(plan.windows[p.window])} · ${p.latlon} · ${p.mgrs}`,
    );
  }
}

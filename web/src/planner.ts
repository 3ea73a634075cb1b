// The planner view: an assessment `limes assess` wrote, on the same map: P(interruption) heat,
// worst crossing paths with their critical points, weak stretches, the weakest km, each of
// which says why when clicked, and randomised patrols against the weak stretches.

import * as L from "leaflet";
import type { Api, Assessment, AssessmentInfo, KmRecord } from "./api";
import { authImage } from "./basemap";
import { byId, duration, h, pct, toast } from "./dom";
import { PatrolView } from "./patrols";

export class Planner {
  private readonly layer = L.layerGroup();
  private doc: Assessment | null = null;
  private readonly patrols: PatrolView;

  constructor(
    private readonly api: Api,
    private readonly map: L.Map,
  ) {
    this.patrols = new PatrolView(api, map);
  }

  async open(): Promise<void> {
    this.layer.addTo(this.map);
    const pick = byId<HTMLSelectElement>("assessment-pick");
    const list = await this.api.get<AssessmentInfo[]>("/api/web/assessments");
    if (list.length === 0) {
      byId("planner-body").replaceChildren(h("p", {}, "No assessment on this server. Start it with one: the folder `limes assess` wrote."));
      return;
    }
    pick.replaceChildren(...list.map((a) => h("option", { value: a.name }, `${a.title} (${a.name})`)));
    pick.onchange = () => void this.load(pick.value);
    await this.load(list[0]!.name);
  }

  close(): void {
    this.layer.remove();
    this.patrols.close();
  }

  private async load(name: string): Promise<void> {
    this.doc = await this.api.get<Assessment>(`/api/web/assessments/${encodeURIComponent(name)}`);
    const runPick = byId<HTMLSelectElement>("run-pick");
    runPick.replaceChildren(...this.doc.runs.map((r) => h("option", { value: r.label }, `${r.mode}, ${r.light}`)));
    runPick.onchange = () => void this.show(runPick.value);
    if (this.doc.runs[0]) await this.show(this.doc.runs[0].label);
  }

  private async show(label: string): Promise<void> {
    const doc = this.doc;
    if (doc === null) return;
    const run = doc.runs.find((r) => r.label === label) ?? null;
    this.layer.clearLayers();
    if (run === null) {
      this.patrols.close();
      return;
    }
    if (run.heat) {
      try {
        const url = await authImage(this.api, run.heat.url);
        const [w, s, e, n] = run.heat.bounds;
        L.imageOverlay(url, [[s, w], [n, e]], { opacity: 0.75, className: "heat" }).addTo(this.layer);
      } catch (e) {
        toast(`heat layer: ${String(e)}`, "error");
      }
    }
    for (const f of doc.weak_stretches.features) {
      if (f.properties["mode"] !== run.mode || f.properties["light"] !== run.light) continue;
      L.geoJSON(f as unknown as GeoJSON.Feature, { style: { color: "#ff1744", weight: 9, opacity: 0.55, lineCap: "butt" } })
        .bindTooltip(`weak km ${f.properties["from_km"]}–${f.properties["to_km"]}: min P ${pct(f.properties["min_p"] as number)}, ${String(f.properties["dominant_reason"])}`)
        .addTo(this.layer);
    }
    for (const f of doc.worst_paths.features) {
      if (f.properties["mode"] !== run.mode || f.properties["light"] !== run.light) continue;
      const p = f.properties;
      if (p["kind"] === "path")
        L.geoJSON(f as unknown as GeoJSON.Feature, { style: { color: "#ff4081", weight: 2.5, dashArray: "5 4" } })
          .bindTooltip(`worst path #${String(p["rank"])} from km ${String(p["start_chainage_km"])}: P ${pct(p["p_interruption"] as number)} (Monte Carlo ${pct(p["p_monte_carlo"] as number | null)}), ${duration(p["time_to_goal_s"] as number | null)} to goal`)
          .addTo(this.layer);
      else {
        const [lon, lat] = f.geometry!.coordinates as [number, number];
        L.circleMarker([lat, lon], { radius: 5, color: "#fff", weight: 1.5, fillColor: "#ff4081", fillOpacity: 1 })
          .bindTooltip(`critical detection point of path #${String(p["rank"])}: P(detect) ${pct(p["p_detect"] as number)}, P(timely) ${pct(p["p_timely"] as number)}`)
          .addTo(this.layer);
      }
    }
    const weakest = run.per_km
      .filter((k) => k.p_interruption !== null)
      .sort((a, b) => a.p_interruption! - b.p_interruption!)
      .slice(0, 15);
    byId("planner-body").replaceChildren(
      h("p", { class: "overall" }, `${run.overall.km} km · worst P ${pct(run.overall.worst_p)} · mean ${pct(run.overall.mean_p)} · ${run.overall.km_below} weak km (P < ${doc.weak_below})`),
      h("h4", {}, "Weakest km"),
      h(
        "ol",
        { class: "weakest" },
        ...weakest.map((k) =>
          h("li", { class: "km", "data-km": k.chainage_km, tabindex: 0, onclick: () => this.why(k) }, `km ${k.chainage_km.toFixed(0)} · ${k.sector} · P ${pct(k.p_interruption)} · ${k.reason}`),
        ),
      ),
      h("div", { id: "km-why" }),
      h("div", { id: "patrols" }),
    );
    await this.patrols.show(doc.name, run.label, byId("patrols"));
  }

  private why(k: KmRecord): void {
    if (k.lat !== null && k.lon !== null) this.map.flyTo([k.lat, k.lon], 11, { duration: 0.6 });
    const late = k.crossing_time_s !== null && k.response_time_s !== null && k.response_time_s > k.crossing_time_s;
    byId("km-why").replaceChildren(
      h("h4", {}, `km ${k.chainage_km.toFixed(0)} — ${k.reason}`),
      h(
        "dl",
        {},
        h("dt", {}, "P(interruption)"), h("dd", {}, pct(k.p_interruption)),
        h("dt", {}, "P(detection)"), h("dd", {}, pct(k.p_detection)),
        h("dt", {}, "Covered"), h("dd", {}, pct(k.coverage)),
        h("dt", {}, "Crossing time"), h("dd", {}, duration(k.crossing_time_s)),
        h("dt", {}, "Response time"), h("dd", {}, duration(k.response_time_s)),
      ),
      h(
        "p",
        {},
        k.reason === "not seen"
          ? "Little or none of the crossing is watched: a sensor here buys the most."
          : k.reason === "seen too late"
            ? "The crossing is seen, but only where too little time is left to respond."
            : k.reason === "too fast to stop"
              ? late
                ? "Units cannot arrive before the crossing is done: a barrier's delay or a nearer unit buys time."
                : "The response barely keeps up: more delay at the line helps."
              : "This km holds: detection comes early enough for the response.",
      ),
    );
  }
}

// Replay: the last N hours of stored track states and alerts, scrubbed with a slider (or played at
// a chosen speed), drawn by the same track layer as the live picture, which is paused meanwhile.
// The map and the header say REPLAY while it shows; each alert is a tick on the slider.

import * as L from "leaflet";
import type { Api, Replay } from "./api";
import { byId, dateTime, h, toast } from "./dom";
import type { TrackLayer, TrackUpdate } from "./tracks";

export class ReplayView {
  private data: Replay | null = null;
  private times: number[] = [];
  private readonly alertLayer = L.layerGroup();
  private timer: number | null = null;

  constructor(
    private readonly api: Api,
    private readonly map: L.Map,
    private readonly layer: TrackLayer,
  ) {
    byId<HTMLInputElement>("replay-slider").oninput = () => this.seek();
    byId("replay-load").onclick = () => void this.load();
    byId("replay-play").onclick = () => this.play();
  }

  async load(): Promise<void> {
    const hours = Number(byId<HTMLInputElement>("replay-hours").value) || 1;
    try {
      this.data = await this.api.get<Replay>(`/api/web/replay?hours=${hours}`);
    } catch (e) {
      toast(`replay: ${String(e)}`, "error");
      return;
    }
    this.alertLayer.addTo(this.map);
    this.times = this.data.points.map((p) => Date.parse(p.time));
    const slider = byId<HTMLInputElement>("replay-slider");
    slider.min = String(Date.parse(this.data.since));
    slider.max = String(Date.parse(this.data.until));
    slider.value = slider.max;
    const span = Math.max(1, Number(slider.max) - Number(slider.min));
    byId("replay-ticks").replaceChildren(
      ...this.data.alerts.map((a) =>
        h("span", { class: `tick sev-${a.severity}`, title: `${dateTime(a.time)} ${a.rule.replace("_", " ")} · ${a.sector}`, style: `left:${(((Date.parse(a.time) - Number(slider.min)) / span) * 100).toFixed(2)}%` }),
      ),
    );
    byId("replay-info").textContent = `${this.data.points.length} states, ${this.data.alerts.length} alerts${this.data.truncated ? " (truncated: the newest kept)" : ""}`;
    this.seek();
  }

  close(): void {
    this.stop();
    this.alertLayer.remove();
    this.alertLayer.clearLayers();
  }

  private play(): void {
    if (this.timer !== null) {
      this.stop();
      return;
    }
    const slider = byId<HTMLInputElement>("replay-slider");
    if (Number(slider.value) >= Number(slider.max)) slider.value = slider.min;
    // Replay milliseconds per 50 ms tick: the chosen speed (replay seconds per wall second).
    const step = () => Number(byId<HTMLSelectElement>("replay-speed").value || "60") * 50;
    this.timer = window.setInterval(() => {
      const next = Math.min(Number(slider.max), Number(slider.value) + step());
      slider.value = String(next);
      this.seek();
      if (next >= Number(slider.max)) this.stop();
    }, 50);
    byId("replay-play").textContent = "Pause";
  }

  private stop(): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    byId("replay-play").textContent = "Play";
  }

  /** Show every track as of the slider's time: its states up to then (the trail) and alerts. */
  private seek(): void {
    const data = this.data;
    if (data === null) return;
    const t = Number(byId<HTMLInputElement>("replay-slider").value);
    byId("replay-time").textContent = dateTime(new Date(t).toISOString());
    // Binary search: states are sorted by time.
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    this.layer.clear();
    const upto = data.points.slice(0, lo) as TrackUpdate[];
    // A track deleted before t disappears (apply drops it), as it did live.
    this.layer.apply(upto);
    this.alertLayer.clearLayers();
    for (const a of data.alerts) {
      if (Date.parse(a.time) > t) break;
      L.circleMarker([a.lat, a.lon], { radius: 6, color: "#fff", weight: 1.5, fillColor: "#e02020", fillOpacity: 0.85 })
        .bindTooltip(`${a.rule.replace("_", " ")} ${dateTime(a.time)} · ${a.sector}`)
        .addTo(this.alertLayer);
    }
    byId("replay-alerts").replaceChildren(
      ...data.alerts
        .filter((a) => Date.parse(a.time) <= t)
        .slice(-8)
        .map((a) => h("li", {}, `${dateTime(a.time)} ${a.rule.replace("_", " ")} · ${a.sector}`)),
    );
  }
}

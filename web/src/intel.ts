// Accepted intelligence reports on the map: a marker at the report's place labelled with its
// Admiralty grade, event type and date; a click opens the reported text and its source.
// Drafts and rejected reports are not drawn: only what an analyst accepted is on the picture.
// Report text comes from open sources, so everything is built as text nodes, never as HTML.

import * as L from "leaflet";
import type { Api } from "./api";
import { h } from "./dom";
import { latLonText, mgrs, mgrsSpaced } from "./mgrs";

/** An intelligence report as the API returns it (the fields the map uses). */
export interface IntelReportOut {
  report_id: string;
  title: string;
  text: string;
  time: string;
  place: string | null;
  lon: number | null;
  lat: number | null;
  sector: string | null;
  source: string;
  reliability: string;
  credibility: number;
  event_type: string | null;
  threat: string;
  status: string;
}

export interface ReportOut {
  report: IntelReportOut;
  version: number;
  grade: string;
}

/** The Admiralty grade as written, e.g. "B2" (reliability letter, credibility digit). */
export function grade(r: IntelReportOut): string {
  return `${r.reliability}${r.credibility}`;
}

function eventWords(r: IntelReportOut): string {
  return (r.event_type ?? "report").replace(/_/g, " ");
}

/** The label beside the marker: "B2 · infiltration · 2026-05-28". */
export function label(r: IntelReportOut): string {
  return `${grade(r)} · ${eventWords(r)} · ${r.time.slice(0, 10)}`;
}

function detail(r: IntelReportOut, lon: number, lat: number): HTMLElement {
  return h(
    "div",
    { class: "intel-popup", "data-report": r.report_id },
    h("b", { class: "intel-grade" }, grade(r)),
    " ",
    h("span", { class: "intel-type" }, eventWords(r)),
    ` · ${r.time.slice(0, 10)}`,
    h("div", { class: "intel-where" }, `${r.place ?? "unnamed place"}${r.sector ? ` (${r.sector})` : ""} · ${latLonText(lon, lat)} · ${mgrsSpaced(mgrs(lon, lat))}`),
    h("blockquote", { class: "intel-text" }, r.text),
    h("div", { class: "intel-source" }, `Source: ${r.source} · threat ${r.threat}`),
  );
}

export class IntelLayer {
  readonly group = L.layerGroup();
  private readonly markers = new Map<string, L.Marker>();

  constructor(private readonly api: Api) {}

  /** Every accepted report (the REST state). */
  async load(): Promise<void> {
    const found = await this.api.get<ReportOut[]>("/api/intel/reports?status=accepted&limit=1000");
    for (const id of [...this.markers.keys()]) this.remove(id);
    for (const r of found) this.update(r.report);
  }

  /** A report's new version (from the REST state or the change stream). */
  update(r: IntelReportOut): void {
    if (r.status !== "accepted" || r.lon === null || r.lat === null) {
      this.remove(r.report_id);
      return;
    }
    const { lon, lat } = r;
    const icon = L.divIcon({
      className: `intel-icon threat-${r.threat}`,
      html: h("span", { class: "intel-label", "data-report": r.report_id, "data-grade": grade(r) }, label(r)),
      iconSize: undefined,
      iconAnchor: [0, 10],
    });
    let m = this.markers.get(r.report_id);
    if (m === undefined) {
      m = L.marker([lat, lon], { icon, keyboard: false }).addTo(this.group);
      this.markers.set(r.report_id, m);
    } else {
      m.setLatLng([lat, lon]);
      m.setIcon(icon);
    }
    m.bindPopup(detail(r, lon, lat), { maxWidth: 360 });
  }

  remove(id: string): void {
    this.markers.get(id)?.remove();
    this.markers.delete(id);
  }

  get size(): number {
    return this.markers.size;
  }
}

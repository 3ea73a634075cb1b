// The incident queue beside the map: sortable, filterable by sector and state, live for every
// operator; a selected incident shows its track and alert history, and the actions the user's
// role may take (acknowledge, assign a unit from the ranked advice with its route, resolve).

import * as L from "leaflet";
import { ApiError, type Advice, type Api, type IncidentDetail, type IncidentOut, type Me, type TrackPoint } from "./api";
import { SEVERITY_RANK, ago, byId, clock, dateTime, duration, h, toast } from "./dom";

type SortKey = "severity" | "opened" | "updated" | "sector" | "state";
const OUTCOMES = ["intercepted", "turned_back", "lost", "false_alarm", "humanitarian"];

export class IncidentQueue {
  readonly incidents = new Map<number, IncidentOut>();
  private sort: SortKey = "severity";
  private sectorFilter = "";
  private stateFilter = "open";
  selected: number | null = null;
  private shownUpdated = "";
  // The action buttons, the resolve form and the advice list of the incident on show: a live
  // update of the same incident in the same state keeps these very elements, so a click in
  // flight, a half-typed note or the advice being read survive it.
  private shownId = -1;
  private shownState = "";
  private actionsEl: HTMLElement | null = null;
  private adviceEl: HTMLElement | null = null;
  private readonly detailLayer = L.layerGroup();
  private readonly canWork: boolean;

  constructor(
    private readonly api: Api,
    private readonly map: L.Map,
    me: Me,
    sectors: string[],
    private readonly onSelectTrack: (trackId: string | null) => void,
  ) {
    this.canWork = me.permissions.includes("work_incidents");
    this.detailLayer.addTo(map);
    const sectorSel = byId<HTMLSelectElement>("filter-sector");
    for (const s of sectors) sectorSel.append(h("option", { value: s }, s));
    sectorSel.onchange = () => {
      this.sectorFilter = sectorSel.value;
      this.render();
    };
    const stateSel = byId<HTMLSelectElement>("filter-state");
    stateSel.onchange = () => {
      this.stateFilter = stateSel.value;
      this.render();
    };
    const sortSel = byId<HTMLSelectElement>("sort-by");
    sortSel.onchange = () => {
      this.sort = sortSel.value as SortKey;
      this.render();
    };
  }

  set(list: IncidentOut[]): void {
    this.incidents.clear();
    for (const i of list) this.incidents.set(i.id, i);
    this.render();
  }

  /** An incident change from the stream (the store's row). */
  apply(p: IncidentOut): void {
    const prev = this.incidents.get(p.id);
    if (prev !== undefined && Date.parse(prev.updated) > Date.parse(p.updated)) return;
    this.incidents.set(p.id, { ...prev, ...p });
    this.render();
    // Our own transition already shows this version; re-render only for someone else's change.
    if (this.selected === p.id && p.updated !== this.shownUpdated) void this.showDetail(p.id, false);
  }

  openBySector(): Map<string, number> {
    const out = new Map<string, number>();
    for (const i of this.incidents.values())
      if (i.state !== "resolved") out.set(i.sector, (out.get(i.sector) ?? 0) + 1);
    return out;
  }

  private visible(): IncidentOut[] {
    const list = [...this.incidents.values()].filter(
      (i) =>
        (this.sectorFilter === "" || i.sector === this.sectorFilter) &&
        (this.stateFilter === "" ||
          (this.stateFilter === "open" ? i.state !== "resolved" : i.state === this.stateFilter)),
    );
    const cmp: Record<SortKey, (a: IncidentOut, b: IncidentOut) => number> = {
      severity: (a, b) =>
        (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || Date.parse(b.opened) - Date.parse(a.opened),
      opened: (a, b) => Date.parse(b.opened) - Date.parse(a.opened),
      updated: (a, b) => Date.parse(b.updated) - Date.parse(a.updated),
      sector: (a, b) => a.sector.localeCompare(b.sector) || b.id - a.id,
      state: (a, b) => a.state.localeCompare(b.state) || b.id - a.id,
    };
    return list.sort(cmp[this.sort]);
  }

  render(): void {
    const body = byId("incident-list");
    const rows = this.visible();
    body.replaceChildren(
      ...rows.map((i) =>
        h(
          "li",
          {
            class: `incident sev-${i.severity} state-${i.state}${i.id === this.selected ? " selected" : ""}`,
            "data-id": i.id,
            tabindex: 0,
            onclick: () => void this.select(i.id),
            onkeydown: (ev: Event) => {
              if ((ev as KeyboardEvent).key === "Enter") void this.select(i.id);
            },
          },
          h("span", { class: "sev" }, i.severity.toUpperCase()),
          h("span", { class: "iid" }, `#${i.id}`),
          h("span", { class: "sector" }, i.sector),
          h("span", { class: "state" }, i.state),
          h("span", { class: "when", title: dateTime(i.opened) }, ago(i.opened)),
          h("span", { class: "alerts" }, `${i.alert_count} alert${i.alert_count === 1 ? "" : "s"}`),
          i.unit_id ? h("span", { class: "unit" }, `→ ${i.unit_id}`) : null,
        ),
      ),
    );
    byId("incident-count").textContent = `${rows.length} shown · ${[...this.incidents.values()].filter((i) => i.state !== "resolved").length} open`;
  }

  async select(id: number): Promise<void> {
    this.selected = id;
    this.render();
    await this.showDetail(id, true);
  }

  private async showDetail(id: number, fly: boolean): Promise<void> {
    const panel = byId("incident-detail");
    let d: IncidentDetail;
    try {
      d = await this.api.get<IncidentDetail>(`/api/incidents/${id}`);
    } catch (e) {
      toast(`Incident #${id}: ${e instanceof Error ? e.message : String(e)}`, "error");
      return;
    }
    if (this.selected !== id) return;
    this.shownUpdated = d.updated;
    if (fly) this.map.flyTo([d.lat, d.lon], Math.max(this.map.getZoom(), 11), { duration: 0.6 });
    this.onSelectTrack(d.track_id);
    this.detailLayer.clearLayers();
    let history: TrackPoint[] = [];
    try {
      history = await this.api.all<TrackPoint>(`/api/tracks/${encodeURIComponent(d.track_id)}/history`, 5000);
    } catch {
      history = [];
    }
    if (history.length > 1)
      L.polyline(history.map((p) => [p.lat, p.lon] as L.LatLngTuple), { color: "#00e5ff", weight: 2.5, opacity: 0.9, dashArray: "6 4" })
        .bindTooltip(`Track ${d.track_id}: ${history.length} states`)
        .addTo(this.detailLayer);
    for (const a of d.alerts)
      L.circleMarker([a.lat, a.lon], { radius: 6, color: "#fff", weight: 2, fillColor: "#e02020", fillOpacity: 0.9 })
        .bindTooltip(`${a.rule.replace("_", " ")} ${clock(a.time)} — km ${a.chainage_km.toFixed(1)}`)
        .addTo(this.detailLayer);

    const keep = this.shownId === d.id && this.shownState === d.state && this.actionsEl !== null && this.adviceEl !== null;
    const actions = keep && this.actionsEl !== null ? this.actionsEl : this.actionsFor(d);
    const advice = keep && this.adviceEl !== null ? this.adviceEl : h("div", { id: "advice" });
    this.shownId = d.id;
    this.shownState = d.state;
    this.actionsEl = actions;
    this.adviceEl = advice;
    panel.replaceChildren(
      h("h3", {}, `Incident #${d.id} — ${d.severity.toUpperCase()} — ${d.state}`),
      h(
        "dl",
        {},
        h("dt", {}, "Sector"), h("dd", {}, d.sector),
        h("dt", {}, "Track"), h("dd", {}, d.track_id),
        h("dt", {}, "Opened"), h("dd", {}, dateTime(d.opened)),
        h("dt", {}, "Unit"), h("dd", {}, d.unit_id ?? "none"),
        d.outcome ? h("dt", {}, "Outcome") : null, d.outcome ? h("dd", {}, d.outcome) : null,
      ),
      actions,
      advice,
      h("h4", {}, `Alerts (${d.alerts.length})`),
      h("ul", { class: "history" }, ...d.alerts.map((a) => h("li", { class: "alert-item", "data-alert": a.alert_id }, `${clock(a.time)} ${a.rule.replace("_", " ")} · km ${a.chainage_km.toFixed(1)} · ${a.target_class}${a.group_size ? ` ×${a.group_size}` : ""}${a.eta_s !== null ? ` · ETA ${duration(a.eta_s)}` : ""} · ${a.far_side} via ${a.channel}`))),
      h("h4", {}, "Story"),
      h("ul", { class: "history" }, ...d.events.map((e) => h("li", {}, `${clock(e.time)} ${e.actor}: ${e.action}${e.to_state ? ` → ${e.to_state}` : ""}${e.note ? ` — ${e.note}` : ""}`))),
    );
  }

  /** The buttons (and resolve form) this user may use on an incident in its state. */
  private actionsFor(d: IncidentDetail): HTMLElement {
    const actions = h("div", { class: "actions" });
    if (this.canWork && d.state !== "resolved") {
      if (d.state === "new")
        actions.append(h("button", { class: "act-ack", onclick: () => void this.transition(d.id, { action: "acknowledge" }) }, "Acknowledge"));
      if (d.state === "new" || d.state === "acknowledged") actions.append(h("button", { class: "act-assign", onclick: () => void this.adviseAssign(d) }, "Assign unit…"));
      const outcome = h("select", { class: "resolve-outcome", "aria-label": "outcome" }, ...OUTCOMES.map((o) => h("option", { value: o }, o.replace("_", " "))));
      const note = h("input", { class: "resolve-note", placeholder: "note", "aria-label": "note", maxlength: 4000 });
      actions.append(
        h(
          "div",
          { class: "resolve" },
          outcome,
          note,
          h("button", { class: "act-resolve", onclick: () => void this.transition(d.id, { action: "resolve", outcome: outcome.value, note: note.value }) }, "Resolve"),
        ),
      );
    }
    return actions;
  }

  private async transition(id: number, body: Record<string, unknown>): Promise<void> {
    try {
      const d = await this.api.post<IncidentDetail>(`/api/incidents/${id}/transitions`, body);
      this.apply(d);
      toast(`Incident #${id}: ${d.state}`);
    } catch (e) {
      toast(e instanceof ApiError ? e.detail : String(e), "error");
    }
  }

  private async adviseAssign(d: IncidentDetail): Promise<void> {
    const box = byId("advice");
    let advice: Advice[];
    try {
      advice = await this.api.get<Advice[]>(`/api/web/incidents/${d.id}/advice`);
    } catch (e) {
      toast(e instanceof ApiError ? e.detail : String(e), "error");
      return;
    }
    const routes = L.layerGroup().addTo(this.detailLayer);
    advice.forEach((a, k) => {
      if (a.route)
        L.polyline(a.route.map(([lon, lat]) => [lat, lon] as L.LatLngTuple), { color: k === 0 ? "#69f0ae" : "#9e9e9e", weight: k === 0 ? 3.5 : 1.5, opacity: k === 0 ? 0.95 : 0.6, dashArray: k === 0 ? undefined : "4 4" })
          .bindTooltip(`${a.label}: ETA ${duration(a.eta_s)}`)
          .addTo(routes);
    });
    const source = advice[0]?.source === "advice" ? "dispatch advice" : "straight-line estimate (no dispatch advice on this server)";
    box.replaceChildren(
      h("h4", {}, `Units, best first — ${source}`),
      advice.length === 0 ? h("p", {}, "No unit is available.") : h(
        "ol",
        { class: "advice" },
        ...advice.map((a, k) =>
          h(
            "li",
            { class: k === 0 ? "top" : "" },
            `${a.label} — ETA ${duration(a.eta_s)}${a.distance_m !== null ? `, ${(a.distance_m / 1000).toFixed(1)} km` : ""} `,
            h("button", { class: "act-send", "data-unit": a.unit_id, onclick: () => void this.transition(d.id, { action: "assign", unit_id: a.unit_id }) }, "Send"),
          ),
        ),
      ),
    );
  }
}

// The incident queue beside the map: sortable, filterable by sector and state, live for every
// operator. Rows say where (km, lat/lon, MGRS), what (class × size, rule) and how long ago on
// the system's clock. A selected incident shows, in the panel pinned beside the map, its
// position to copy, its alerts and story, and exactly the actions the server's transition table
// allows in its state (no outcome is ever preselected); notes can be written in every state.
//
// Changes are ordered by the server's change sequence, never by comparing times: a version of
// an incident replaces the one held only when it comes from a later change.

import * as L from "leaflet";
import { ApiError, type AdviceAnswer, type AlertOut, type Api, type IncidentDetail, type IncidentOut, type Me, type TrackPoint, type Workflow } from "./api";
import type { ServerClock } from "./clock";
import { SEVERITY_RANK, ago, byId, clock, dateTime, duration, h, toast } from "./dom";
import { latLonText, mgrs, mgrsSpaced } from "./mgrs";

type SortKey = "severity" | "opened" | "updated" | "sector" | "state";

/** Where and what an incident's newest alert saw. */
interface Info {
  km: number | null;
  cls: string | null;
  group: number | null;
  rule: string | null;
  alertId: number;
}

function copy(text: string): void {
  const done = (): void => toast(`copied ${text}`);
  if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, () => toast(text));
  else toast(text);
}

export function positionBlock(lon: number, lat: number): HTMLElement {
  const code = mgrs(lon, lat);
  const ll = latLonText(lon, lat);
  return h(
    "div",
    { class: "position" },
    h("span", { class: "mgrs", "data-mgrs": code, title: "MGRS" }, mgrsSpaced(code)),
    h("button", { class: "copy copy-mgrs", title: "copy MGRS", onclick: () => copy(code) }, "copy"),
    h("span", { class: "latlon", title: "lat/lon (WGS84)" }, ll),
    h("button", { class: "copy copy-latlon", title: "copy lat/lon", onclick: () => copy(`${lat.toFixed(6)}, ${lon.toFixed(6)}`) }, "copy"),
  );
}

export class IncidentQueue {
  readonly incidents = new Map<number, IncidentOut>();
  /** The change id each held version came from (the REST load counts as the cursor read first). */
  readonly seq = new Map<number, number>();
  readonly info = new Map<number, Info>();
  /** Incidents that arrived live (not in the first load): the alarm notifies only for these. */
  readonly fresh = new Set<number>();
  readonly checked = new Set<number>();
  private sort: SortKey = "severity";
  private sectorFilter = "";
  private stateFilter = "open";
  selected: number | null = null;
  // The action buttons, forms and advice of the incident on show: a live update of the same
  // incident in the same state keeps these very elements, so a click in flight, a half-typed
  // note or the advice being read survive it.
  private shownId = -1;
  private shownState = "";
  private shownSeq = -1;
  private actionsEl: HTMLElement | null = null;
  private adviceEl: HTMLElement | null = null;
  private headEl: HTMLElement | null = null;
  private tailEl: HTMLElement | null = null;
  private readonly detailLayer = L.layerGroup();
  private readonly canWork: boolean;
  /** Called after every change to the queue (the alarm and header follow it). */
  onChange: () => void = () => undefined;
  /** The latest advice answer's time in ms (the walk-through reads it). */
  lastAdviceMs: number | null = null;

  constructor(
    private readonly api: Api,
    private readonly map: L.Map,
    me: Me,
    sectors: string[],
    private readonly workflow: Workflow,
    private readonly clock: ServerClock,
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
    const bulk = byId("bulk-actions");
    bulk.hidden = !this.canWork;
    byId("bulk-ack").onclick = () => void this.acknowledgeChecked();
    byId("bulk-merge").onclick = () => void this.mergeChecked();
    byId("detail-close").onclick = () => this.deselect();
    window.setInterval(() => this.tickAges(), 1000);
  }

  /** The REST state, read after the change cursor `cursor`. */
  set(list: IncidentOut[], cursor: number): void {
    this.incidents.clear();
    this.seq.clear();
    for (const i of list) {
      this.incidents.set(i.id, i);
      this.seq.set(i.id, cursor);
      if (i.chainage_km !== null && i.chainage_km !== undefined)
        this.info.set(i.id, { km: i.chainage_km, cls: i.target_class ?? null, group: i.group_size ?? null, rule: i.rule ?? null, alertId: 0 });
    }
    this.render();
  }

  /** A version of an incident from change `seq` (the stream's id). Older changes are dropped. */
  apply(p: IncidentOut, seq: number): void {
    const held = this.seq.get(p.id);
    if (held !== undefined && held > seq) return;
    const prev = this.incidents.get(p.id);
    if (prev === undefined) this.fresh.add(p.id);
    this.incidents.set(p.id, { ...prev, ...p });
    this.seq.set(p.id, seq);
    if (p.state === "resolved") this.checked.delete(p.id);
    this.renderSoon();
    if (this.selected === p.id && seq !== this.shownSeq) void this.showDetail(p.id, false);
  }

  /** An alert: its incident's row shows where and what it saw. */
  noteAlert(a: AlertOut): void {
    if (a.incident_id === null) return;
    const prev = this.info.get(a.incident_id);
    if (prev !== undefined && prev.alertId > a.id) return;
    this.info.set(a.incident_id, { km: a.chainage_km, cls: a.target_class, group: a.group_size, rule: a.rule, alertId: a.id });
  }

  openBySector(): Map<string, number> {
    const out = new Map<string, number>();
    for (const i of this.incidents.values())
      if (i.state !== "resolved") out.set(i.sector, (out.get(i.sector) ?? 0) + 1);
    return out;
  }

  /** Unacknowledged incidents (state new), oldest first. */
  unacknowledged(): IncidentOut[] {
    return [...this.incidents.values()].filter((i) => i.state === "new").sort((a, b) => a.id - b.id);
  }

  private visible(): IncidentOut[] {
    const list = [...this.incidents.values()].filter(
      (i) =>
        (this.sectorFilter === "" || i.sector === this.sectorFilter) &&
        (this.stateFilter === "" ||
          (this.stateFilter === "open" ? i.state !== "resolved" : i.state === this.stateFilter)),
    );
    const cmp: Record<SortKey, (a: IncidentOut, b: IncidentOut) => number> = {
      severity: (a, b) => (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || b.id - a.id,
      opened: (a, b) => b.id - a.id,
      updated: (a, b) => (this.seq.get(b.id) ?? 0) - (this.seq.get(a.id) ?? 0) || b.id - a.id,
      sector: (a, b) => a.sector.localeCompare(b.sector) || b.id - a.id,
      state: (a, b) => a.state.localeCompare(b.state) || b.id - a.id,
    };
    return list.sort(cmp[this.sort]);
  }

  private what(i: IncidentOut): string {
    const f = this.info.get(i.id);
    const cls = f?.cls ?? i.target_class ?? "?";
    const group = f?.group ?? i.group_size;
    const rule = f?.rule ?? i.rule;
    return `${cls}${group ? ` ×${group}` : ""}${rule ? ` · ${rule.replace("_", " ")}` : ""}`;
  }

  private km(i: IncidentOut): number | null {
    return this.info.get(i.id)?.km ?? i.chainage_km ?? null;
  }

  private renderQueued = false;

  /** Render once after the changes being applied now: a stream batch of a thousand alerts
   * re-rendered the whole list once per incident change, which held the page for minutes. */
  private renderSoon(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    queueMicrotask(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  render(): void {
    const body = byId("incident-list");
    const rows = this.visible();
    const now = this.clock.now();
    body.replaceChildren(
      ...rows.map((i) => {
        const km = this.km(i);
        const code = mgrs(i.lon, i.lat);
        return h(
          "li",
          {
            class: `incident sev-${i.severity} state-${i.state}${i.id === this.selected ? " selected" : ""}`,
            "data-id": i.id,
            "data-state": i.state,
            "data-km": km === null ? "" : km.toFixed(1),
            "data-mgrs": code,
            tabindex: 0,
            onclick: () => void this.select(i.id),
            onkeydown: (ev: Event) => {
              if ((ev as KeyboardEvent).key === "Enter") void this.select(i.id);
            },
          },
          this.canWork && i.state !== "resolved"
            ? h("input", {
                type: "checkbox",
                class: "pick",
                "aria-label": `select incident ${i.id}`,
                checked: this.checked.has(i.id),
                onclick: (ev: Event) => {
                  ev.stopPropagation();
                  const box = ev.target as HTMLInputElement;
                  if (box.checked) this.checked.add(i.id);
                  else this.checked.delete(i.id);
                  this.renderBulk();
                },
              })
            : h("span", { class: "pick" }),
          h("span", { class: "sev" }, i.severity.toUpperCase()),
          h("span", { class: "iid" }, `#${i.id}`),
          h("span", { class: "sector" }, `${i.sector}${km === null ? "" : ` km ${km.toFixed(1)}`}`),
          h("span", { class: "state" }, i.state),
          h("span", { class: "when", "data-opened": i.opened, title: `opened ${dateTime(i.opened)}` }, ago(i.opened, now)),
          h("span", { class: "what" }, `${this.what(i)} · ${i.alert_count} alert${i.alert_count === 1 ? "" : "s"}${i.unit_id ? ` → ${i.unit_id}` : ""}`),
          h("span", { class: "where", title: "lat/lon · MGRS" }, `${latLonText(i.lon, i.lat)} · ${mgrsSpaced(code)}`),
        );
      }),
    );
    byId("incident-count").textContent = `${rows.length} shown · ${[...this.incidents.values()].filter((i) => i.state !== "resolved").length} open`;
    this.renderBulk();
    this.onChange();
  }

  private renderBulk(): void {
    for (const id of [...this.checked]) if (this.incidents.get(id)?.state === "resolved" || !this.incidents.has(id)) this.checked.delete(id);
    const n = this.checked.size;
    const newOnes = [...this.checked].filter((id) => this.incidents.get(id)?.state === "new").length;
    const ack = byId<HTMLButtonElement>("bulk-ack");
    const merge = byId<HTMLButtonElement>("bulk-merge");
    ack.textContent = `Acknowledge ${newOnes}`;
    ack.disabled = newOnes === 0;
    merge.textContent = `Merge ${n}`;
    merge.disabled = n < 2;
  }

  /** Ages on the system's clock, refreshed in place every second. */
  private tickAges(): void {
    const now = this.clock.now();
    for (const el of document.querySelectorAll<HTMLElement>("#incident-list .when")) {
      const opened = el.dataset["opened"];
      if (opened) el.textContent = ago(opened, now);
    }
    const age = document.querySelector<HTMLElement>("#incident-detail .age");
    if (age?.dataset["opened"]) age.textContent = ago(age.dataset["opened"], now);
    this.onChange(); // the header's oldest unacknowledged age
  }

  async select(id: number): Promise<void> {
    this.selected = id;
    this.render();
    byId("detail-panel").hidden = false;
    this.map.invalidateSize();
    await this.showDetail(id, true);
  }

  private deselect(): void {
    this.selected = null;
    this.shownId = -1;
    this.detailLayer.clearLayers();
    this.onSelectTrack(null);
    byId("detail-panel").hidden = true;
    this.map.invalidateSize();
    this.render();
  }

  private async showDetail(id: number, fly: boolean): Promise<void> {
    const panel = byId("incident-detail");
    const seqAsked = this.seq.get(id) ?? 0;
    let d: IncidentDetail;
    try {
      d = await this.api.get<IncidentDetail>(`/api/incidents/${id}`);
    } catch (e) {
      toast(`Incident #${id}: ${e instanceof Error ? e.message : String(e)}`, "error");
      return;
    }
    if (this.selected !== id) return;
    // The detail is at least as new as the change asked for: what the row holds may go on.
    const held = this.incidents.get(id);
    if (held !== undefined && (this.seq.get(id) ?? 0) === seqAsked && held.state !== d.state) this.incidents.set(id, { ...held, ...d });
    this.shownSeq = this.seq.get(id) ?? 0;
    if (fly) this.map.flyTo([d.lat, d.lon], Math.max(this.map.getZoom(), 11), { duration: 0.6 });
    this.onSelectTrack(d.track_id);
    this.detailLayer.clearLayers();
    // The track's history and who the incident was released to, asked at once.
    const [history, shared] = await Promise.all([
      this.api.all<TrackPoint>(`/api/tracks/${encodeURIComponent(d.track_id)}/history`, 5000).catch(() => [] as TrackPoint[]),
      this.api.get<Recipient[]>(`/api/share/recipients?key=${encodeURIComponent(`incident:${d.id}`)}`).catch(() => null),
    ]);
    if (this.selected !== id) return;
    if (history.length > 1)
      L.polyline(history.map((p) => [p.lat, p.lon] as L.LatLngTuple), { color: "#00e5ff", weight: 2.5, opacity: 0.9, dashArray: "6 4" })
        .bindTooltip(`Track ${d.track_id}: ${history.length} states`)
        .addTo(this.detailLayer);
    for (const a of d.alerts)
      L.circleMarker([a.lat, a.lon], { radius: 6, color: "#fff", weight: 2, fillColor: "#e02020", fillOpacity: 0.9 })
        .bindTooltip(`${a.rule.replace("_", " ")} ${clock(a.time)} — km ${a.chainage_km.toFixed(1)}`)
        .addTo(this.detailLayer);

    // The same incident in the same state: only the text parts change, in place; the actions
    // and the advice are never taken out of the page, so a click landing meanwhile is not lost.
    const keep = this.shownId === d.id && this.shownState === d.state && this.actionsEl !== null && this.adviceEl !== null && this.headEl !== null && this.tailEl !== null;
    const last = d.alerts[d.alerts.length - 1];
    const head = [
      h("h3", { "data-state": d.state }, `Incident #${d.id} — ${d.severity.toUpperCase()} — ${d.state}`),
      positionBlock(d.lon, d.lat),
      h(
        "dl",
        {},
        h("dt", {}, "Sector"), h("dd", {}, `${d.sector}${last ? ` · km ${last.chainage_km.toFixed(1)}` : ""}`),
        h("dt", {}, "What"), h("dd", {}, last ? `${last.target_class}${last.group_size ? ` ×${last.group_size}` : ""} · ${last.rule.replace("_", " ")}` : "–"),
        h("dt", {}, "Track"), h("dd", {}, d.track_id),
        h("dt", {}, "Opened"), h("dd", {}, `${dateTime(d.opened)} · `, h("span", { class: "age", "data-opened": d.opened }, ago(d.opened, this.clock.now())), " ago"),
        h("dt", {}, "Unit"), h("dd", {}, d.unit_id ?? "none"),
        d.outcome ? h("dt", {}, "Outcome") : null, d.outcome ? h("dd", { class: "outcome" }, d.outcome.replace("_", " ")) : null,
      ),
    ];
    const tail = [
      h("h4", {}, `Alerts (${d.alerts.length})`),
      h("ul", { class: "history" }, ...d.alerts.map((a) => h("li", { class: "alert-item", "data-alert": a.alert_id }, `${clock(a.time)} ${a.rule.replace("_", " ")} · km ${a.chainage_km.toFixed(1)} · ${a.target_class}${a.group_size ? ` ×${a.group_size}` : ""}${a.eta_s !== null ? ` · ETA ${duration(a.eta_s)}` : ""} · ${a.far_side} via ${a.channel}`))),
      h("h4", {}, "Story"),
      h("ul", { class: "history story" }, ...d.events.map((e) => h("li", {}, `${clock(e.time)} ${e.actor}: ${e.action}${e.to_state ? ` → ${e.to_state}` : ""}${e.note ? ` — ${e.note}` : ""}`))),
      ...sharedWith(shared),
    ];
    if (keep && this.headEl !== null && this.tailEl !== null) {
      this.headEl.replaceChildren(...head);
      this.tailEl.replaceChildren(...tail);
      return;
    }
    // A full re-render of the incident on show keeps what the operator has begun: the chosen
    // outcome and the notes typed, so a click that follows is not lost to an empty form.
    const begun = this.shownId === d.id && this.actionsEl !== null ? formState(this.actionsEl) : null;
    this.shownId = d.id;
    this.shownState = d.state;
    this.actionsEl = this.actionsFor(d);
    if (begun !== null) restoreForm(this.actionsEl, begun);
    this.adviceEl = h("div", { id: "advice" });
    this.headEl = h("div", { class: "detail-head" }, ...head);
    this.tailEl = h("div", { class: "detail-tail" }, ...tail);
    panel.replaceChildren(this.headEl, this.actionsEl, this.adviceEl, this.tailEl);
  }

  /** The buttons and forms this user may use on an incident in its state: exactly what the
   *  server's transition table allows there, and a note in every state. */
  private actionsFor(d: IncidentDetail): HTMLElement {
    const actions = h("div", { class: "actions" });
    if (!this.canWork) return actions;
    const allowed = this.workflow[d.state] ?? { actions: {}, outcomes: [] };
    if ("acknowledge" in allowed.actions)
      actions.append(h("button", { class: "act-ack", onclick: () => void this.transition(d.id, { action: "acknowledge" }) }, "Acknowledge"));
    if ("assign" in allowed.actions)
      actions.append(h("button", { class: "act-assign", onclick: () => void this.adviseAssign(d) }, d.unit_id ? "Reassign unit…" : "Assign unit…"));
    if ("resolve" in allowed.actions && allowed.outcomes.length > 0) {
      const outcome = h(
        "select",
        { class: "resolve-outcome", "aria-label": "outcome", required: true },
        h("option", { value: "", disabled: true, selected: true }, "— outcome —"),
        ...allowed.outcomes.map((o) => h("option", { value: o }, o.replace("_", " "))),
      );
      const note = h("input", { class: "resolve-note", placeholder: "note", "aria-label": "resolve note", maxlength: 4000 });
      const button = h("button", { class: "act-resolve", disabled: true, onclick: () => void this.transition(d.id, { action: "resolve", outcome: outcome.value, note: note.value }) }, "Resolve");
      outcome.onchange = () => {
        button.disabled = outcome.value === "";
      };
      actions.append(h("div", { class: "resolve" }, outcome, note, button));
    }
    const text = h("input", { class: "note-text", placeholder: "running note", "aria-label": "note", maxlength: 4000 });
    const add = async (): Promise<void> => {
      if (!text.value.trim()) return;
      try {
        const r = await this.api.post<IncidentDetail>(`/api/incidents/${d.id}/notes`, { note: text.value });
        text.value = "";
        toast(`Incident #${r.id}: note added`);
        void this.showDetail(d.id, false);
      } catch (e) {
        toast(e instanceof ApiError ? e.detail : String(e), "error");
      }
    };
    text.onkeydown = (ev: KeyboardEvent) => {
      if (ev.key === "Enter") void add();
    };
    actions.append(h("div", { class: "note" }, text, h("button", { class: "act-note", onclick: () => void add() }, "Add note")));
    return actions;
  }

  private async transition(id: number, body: Record<string, unknown>): Promise<void> {
    const before = this.seq.get(id);
    try {
      const d = await this.api.post<IncidentDetail>(`/api/incidents/${id}/transitions`, body);
      // Our own answer stands unless a change has reached us meanwhile (then the stream's
      // order decides); the stream brings this change too, with its id.
      if (this.seq.get(id) === before) {
        this.incidents.set(id, { ...this.incidents.get(id), ...d });
        this.render();
        if (this.selected === id) void this.showDetail(id, false);
      }
      toast(`Incident #${id}: ${d.state}`);
    } catch (e) {
      toast(e instanceof ApiError ? e.detail : String(e), "error");
    }
  }

  private async acknowledgeChecked(): Promise<void> {
    const ids = [...this.checked].filter((id) => this.incidents.get(id)?.state === "new");
    if (ids.length === 0) return;
    try {
      const r = await this.api.post<{ acknowledged: number[]; refused: Record<string, string> }>("/api/incidents/acknowledge", { ids });
      for (const id of r.acknowledged) this.checked.delete(id);
      const refused = Object.entries(r.refused);
      toast(`${r.acknowledged.length} acknowledged${refused.length ? `; ${refused.map(([k, v]) => `#${k}: ${v}`).join("; ")}` : ""}`, refused.length ? "error" : "info");
    } catch (e) {
      toast(e instanceof ApiError ? e.detail : String(e), "error");
    }
    this.renderBulk();
  }

  private async mergeChecked(): Promise<void> {
    const ids = [...this.checked].sort((a, b) => a - b);
    if (ids.length < 2) return;
    const [into, ...others] = ids as [number, ...number[]];
    try {
      await this.api.post<IncidentDetail>(`/api/incidents/${into}/merge`, { ids: others });
      this.checked.clear();
      toast(`Merged ${others.map((o) => `#${o}`).join(", ")} into #${into}`);
      void this.select(into);
    } catch (e) {
      toast(e instanceof ApiError ? e.detail : String(e), "error");
    }
  }

  private async adviseAssign(d: IncidentDetail): Promise<void> {
    const box = byId("advice");
    const started = performance.now();
    let answer: AdviceAnswer;
    try {
      answer = await this.api.get<AdviceAnswer>(`/api/web/incidents/${d.id}/advice`);
    } catch (e) {
      toast(e instanceof ApiError ? e.detail : String(e), "error");
      return;
    }
    this.lastAdviceMs = performance.now() - started;
    const routes = L.layerGroup().addTo(this.detailLayer);
    answer.units.forEach((a, k) => {
      if (a.route)
        L.polyline(a.route.map(([lon, lat]) => [lat, lon] as L.LatLngTuple), { color: k === 0 ? "#69f0ae" : "#9e9e9e", weight: k === 0 ? 3.5 : 1.5, opacity: k === 0 ? 0.95 : 0.6, dashArray: k === 0 ? undefined : "4 4" })
          .bindTooltip(`${a.label}: ETA ${duration(a.eta_s)}`)
          .addTo(routes);
    });
    const source = answer.source === "advice" ? "dispatch advice" : "straight-line estimate";
    const group = answer.group_s === null ? "" : ` · group at the inner edge in ${duration(answer.group_s)}`;
    let empty = "No unit can reach this place.";
    if (answer.units.length === 0 && answer.committed.length > 0) empty = `Every unit is committed (${answer.committed.length}): none is free to send.`;
    box.replaceChildren(
      h("h4", {}, `Units, best first — ${source}${group}`),
      answer.units.length === 0
        ? h("p", { class: "advice-empty" }, empty)
        : h(
            "ol",
            { class: "advice" },
            ...answer.units.map((a, k) =>
              h(
                "li",
                { class: `${k === 0 ? "top " : ""}${a.intercept ?? ""}`, "data-unit": a.unit_id, "data-intercept": a.intercept ?? "" },
                `${a.label} — ETA ${duration(a.eta_s)}${a.distance_m !== null ? `, ${(a.distance_m / 1000).toFixed(1)} km` : ""} `,
                a.intercept === "can_intercept"
                  ? h("b", { class: "verdict can" }, `can intercept${a.margin_s !== null ? ` (${duration(a.margin_s)} to spare)` : ""}`)
                  : a.intercept === "too_late"
                    ? h("b", { class: "verdict late" }, `too late${a.margin_s !== null ? ` (by ${duration(-a.margin_s)})` : ""}`)
                    : null,
                " ",
                h("button", { class: "act-send", "data-unit": a.unit_id, onclick: () => void this.transition(d.id, { action: "assign", unit_id: a.unit_id }) }, "Send"),
              ),
            ),
          ),
      answer.committed.length > 0
        ? h("p", { class: "committed" }, "Committed: ", ...answer.committed.map((c) => h("span", { class: "committed-unit", "data-unit": c.unit_id }, `${c.label}${c.incident_id !== null ? ` → #${c.incident_id}` : ""}${c.status ? ` (${c.status.replace("_", " ")})` : ""} `)))
        : "",
    );
  }
}

/** What an operator has begun in an incident's forms. */
interface FormState {
  outcome: string;
  resolveNote: string;
  note: string;
}

/** A partner's receipt of an object, from the release audit (`/api/share/recipients`). */
interface Recipient {
  partner: string;
  first: string;
  last: string;
  versions: number[];
  channels: string[];
}

/** Who the incident was released to: partner, versions, channels, when last (the audit says
 *  which rule released it; an admin reads that with `limes sharing explain`). */
function sharedWith(shared: Recipient[] | null): HTMLElement[] {
  if (shared === null) return [];
  const versions = (v: number[]): string => (v.length > 1 ? `v${v[0]}–v${v[v.length - 1]}` : `v${v[0]}`);
  return [
    h("h4", {}, `Shared with (${shared.length})`),
    shared.length === 0
      ? h("p", { class: "shared-none" }, "not released to any partner")
      : h("ul", { class: "history shared" }, ...shared.map((r) => h("li", { "data-partner": r.partner }, `${r.partner} · ${versions(r.versions)} · ${r.channels.join(", ")} · last ${clock(r.last)}`))),
  ];
}

function formState(actions: HTMLElement): FormState {
  const value = (selector: string): string => actions.querySelector<HTMLInputElement | HTMLSelectElement>(selector)?.value ?? "";
  return { outcome: value(".resolve-outcome"), resolveNote: value(".resolve-note"), note: value(".note-text") };
}

function restoreForm(actions: HTMLElement, begun: FormState): void {
  const outcome = actions.querySelector<HTMLSelectElement>(".resolve-outcome");
  if (outcome !== null && begun.outcome !== "" && [...outcome.options].some((o) => o.value === begun.outcome)) {
    outcome.value = begun.outcome;
    const button = actions.querySelector<HTMLButtonElement>(".act-resolve");
    if (button !== null) button.disabled = false;
  }
  const resolveNote = actions.querySelector<HTMLInputElement>(".resolve-note");
  if (resolveNote !== null) resolveNote.value = begun.resolveNote;
  const note = actions.querySelector<HTMLInputElement>(".note-text");
  if (note !== null) note.value = begun.note;
}

// The limes API as the map uses it: typed bodies, one client holding the user's token.
// Every request goes to the page's own origin (relative URLs), never anywhere else.

export type Role = "viewer" | "operator" | "commander" | "sensor" | "admin";

export interface Me {
  name: string;
  role: Role;
  permissions: string[];
}

export interface WebState {
  cursor: number;
  oldest: number;
  scenario: string | null;
  hillshade: { url: string; min_zoom: number; max_zoom: number; bounds: [number, number, number, number] } | null;
  dispatch_advice: string | null;
  trail_points: number;
  trail_s: number;
  heading_s?: number;
  alert_flash_s?: number;
  alert_marker_s?: number;
  alarm_period_s?: number;
  now?: string;
  clock_speed?: number;
  exercise?: ExerciseState | null;
}

/** What the exercise driving this system (if any) is doing. */
export interface ExerciseState {
  state: string; // "running", "stopped", "finished"
  speed?: number | null;
  dispatcher?: string;
  detail?: string;
}

export interface Health {
  now: string;
  clock_speed: number;
  sensors: { sensor_id: string; state: string; last: string | null; interval_s: number | null; quiet_s: number | null }[];
  late: number;
  silent: number;
  rejected: Record<string, number>;
  exercise: ExerciseState | null;
}

/** The server's transition table: per state, action -> next state, and the outcomes allowed. */
export type Workflow = Record<string, { actions: Record<string, string>; outcomes: string[] }>;

export interface SectorInfo {
  name: string;
  command: string;
  far_side: string;
  channel: string;
  from_km: number;
  to_km: number;
}

export interface ScenarioOut {
  name: string;
  title: string;
  description: string;
  demonstration_note: string;
  length_km: number;
  sectors: SectorInfo[];
  sensors: number;
  units: number;
  barriers: number;
}

export interface SectorOut {
  name: string;
  command: string | null;
  level: string;
  set_level: string;
  open_incidents: number;
}

export interface UnitOut {
  id: string;
  kind: string;
  label: string;
  base_lon: number;
  base_lat: number;
  available: boolean;
  status: string | null;
  lon: number | null;
  lat: number | null;
  reported: string | null;
  incident_id: number | null;
}

export interface TrackOut {
  track_id: string;
  time: string;
  lon: number;
  lat: number;
  vx: number;
  vy: number;
  target_class: string;
  group_size: number | null;
  status: string;
}

export interface TrackPoint {
  id: number;
  track_id?: string;
  time: string;
  lon: number;
  lat: number;
  vx: number;
  vy: number;
  target_class: string;
  group_size: number | null;
  status: string;
}

export interface AlertOut {
  id: number;
  alert_id: string;
  rule: string;
  track_id: string;
  time: string;
  lon: number;
  lat: number;
  target_class: string;
  group_size: number | null;
  chainage_km: number;
  offset_m: number;
  sector: string;
  command: string;
  far_side: string;
  channel: string;
  severity: string;
  eta_s: number | null;
  p_interruption: number | null;
  detail: string;
  incident_id: number | null;
}

export interface IncidentOut {
  id: number;
  track_id: string;
  sector: string;
  state: string;
  outcome: string | null;
  severity: string;
  opened: string;
  updated: string;
  resolved: string | null;
  lon: number;
  lat: number;
  unit_id: string | null;
  alert_count: number;
  chainage_km?: number | null;
  rule?: string | null;
  target_class?: string | null;
  group_size?: number | null;
}

export interface IncidentEvent {
  id: number;
  time: string;
  actor: string;
  action: string;
  from_state: string | null;
  to_state: string | null;
  note: string;
}

export interface IncidentDetail extends IncidentOut {
  events: IncidentEvent[];
  alerts: AlertOut[];
  dispatches: { id: number; unit_id: string; ordered: string; ordered_by: string; ended: string | null }[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** One unit the dispatch advice proposes, best first; `route` is a lon/lat line when known.
 *  `intercept`: whether it arrives before the group reaches the inner edge (`margin_s` ahead). */
export interface Advice {
  unit_id: string;
  label: string;
  eta_s: number | null;
  distance_m: number | null;
  route: [number, number][] | null;
  source: "advice" | "distance";
  intercept: "can_intercept" | "too_late" | null;
  margin_s: number | null;
}

/** The assign dialog's answer: free units ranked, those already committed, the group's time. */
export interface AdviceAnswer {
  source: "advice" | "distance";
  units: Advice[];
  committed: { unit_id: string; label: string; incident_id: number | null; status: string | null }[];
  group_s: number | null;
}

export interface Feature {
  type: "Feature";
  geometry: { type: string; coordinates: unknown } | null;
  properties: Record<string, unknown>;
}

export interface FeatureCollection {
  type: "FeatureCollection";
  features: Feature[];
}

export interface AssessmentInfo {
  name: string;
  title: string;
  runs: string[];
}

export interface KmRecord {
  chainage_km: number;
  p_interruption: number | null;
  sector: string;
  reason: string;
  p_detection: number | null;
  coverage: number | null;
  p_easi: number | null;
  crossing_time_s: number | null;
  response_time_s: number | null;
  lon: number;
  lat: number;
}

export interface AssessmentRun {
  mode: string;
  light: string;
  label: string;
  per_km: KmRecord[];
  overall: { km: number; worst_p: number | null; mean_p: number | null; km_below: number };
  heat: { url: string; bounds: [number, number, number, number] } | null;
}

export interface Assessment {
  name: string;
  title: string;
  weak_below: number;
  runs: AssessmentRun[];
  worst_paths: FeatureCollection;
  weak_stretches: FeatureCollection;
}

export interface PatrolWindow {
  window: number;
  from_h: number;
  to_h: number;
}

/** How often a patrol is on one stretch in one window, and what gets through there. */
export interface PatrolBand {
  window: number;
  coverage: number;
  through: number;
  line: [number, number][];
}

export interface PatrolStretch {
  rank: number;
  from_km: number;
  to_km: number;
  p_interruption: number;
  windows: PatrolBand[];
}

export interface PatrolToday {
  patrol: number;
  rank: number;
  from_km: number;
  to_km: number;
  window: number;
  lon: number;
  lat: number;
  latlon: string;
  mgrs: string;
}

/** The patrol game of one assessment run: the equilibrium's coverage and the day's schedule. */
export interface PatrolPlan {
  run: string;
  catch_p: number;
  windows: PatrolWindow[];
  patrols: number;
  seed: number;
  schedules: number;
  stretches: PatrolStretch[];
  today: PatrolToday[];
  through_mixed: number | null;
  through_best_fixed: number | null;
  note?: string;
}

export interface Replay {
  since: string;
  until: string;
  points: TrackPoint[];
  alerts: AlertOut[];
  truncated: boolean;
}

/** An answer the API refused: status, its `error` code and the human `detail`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${status} ${code}: ${detail}`);
  }
}

export class Api {
  constructor(readonly token: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) {
      let code = "error";
      let detail = res.statusText;
      try {
        const err = (await res.json()) as { error?: string; detail?: unknown };
        code = err.error ?? code;
        detail = typeof err.detail === "string" ? err.detail : JSON.stringify(err.detail);
      } catch {
        // not JSON: keep the status text
      }
      throw new ApiError(res.status, code, detail);
    }
    return (await res.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>("GET", path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>("POST", path, body);
  }

  /** Every item of a paged list route (bounded by `max`). */
  async all<T>(path: string, max = 20000): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    const sep = path.includes("?") ? "&" : "?";
    do {
      const url: string =
        cursor === null ? `${path}${sep}limit=1000` : `${path}${sep}limit=1000&cursor=${encodeURIComponent(cursor)}`;
      const page: Page<T> = await this.get<Page<T>>(url);
      out.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null && out.length < max);
    return out;
  }

  me(): Promise<Me> {
    return this.get<Me>("/api/web/me");
  }
}

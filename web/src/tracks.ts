// Live tracks on one canvas over the map, redrawn at most once per animation frame.
//
// Positions are kept in normalised Web Mercator (0..1) when they arrive, so a redraw is a
// multiply-add per point rather than a projection; thousands of tracks with trails draw in a
// few milliseconds. Stream changes only mark the layer dirty; the next animation frame draws.

import * as L from "leaflet";

export interface TrackUpdate {
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

export interface LiveTrack {
  id: string;
  sector: string;
  t: number; // ms since epoch of the latest state
  lon: number;
  lat: number;
  mx: number;
  my: number;
  vx: number;
  vy: number;
  cls: string;
  group: number | null;
  status: string;
  trail: Float64Array; // ring of (mx, my, t) triples
  trailLen: number;
  trailHead: number;
}

export function mercX(lon: number): number {
  return (lon + 180) / 360;
}

export function mercY(lat: number): number {
  const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}

export const CLASS_COLOUR: Record<string, string> = {
  person: "#ff4d2e",
  vehicle: "#ffb000",
  animal: "#7fd17f",
  unknown: "#d9d9ff",
};

export interface TrackLayerOptions {
  trailPoints: number; // states kept per track for its trail
  trailS: number; // and no older than this
  headingS: number; // the heading stick shows where the track will be in this many seconds
  sectorOf: (trackId: string) => string;
}

export class TrackLayer {
  readonly tracks = new Map<string, LiveTrack>();
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private dirty = true;
  private frameRequested = false;
  selected: string | null = null;
  visible = true;
  /** Draw statistics for the benchmark: milliseconds spent in the last draws. */
  readonly drawMs: number[] = [];

  constructor(
    private readonly map: L.Map,
    private readonly opts: TrackLayerOptions,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "track-canvas";
    map.getContainer().appendChild(this.canvas);
    const ctx = this.canvas.getContext("2d");
    if (ctx === null) throw new Error("no 2D canvas");
    this.ctx = ctx;
    map.on("move zoom resize viewreset", () => this.invalidate());
    this.resize();
    map.on("resize", () => this.resize());
  }

  private resize(): void {
    const size = this.map.getSize();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(size.x * dpr);
    this.canvas.height = Math.round(size.y * dpr);
    this.canvas.style.width = `${size.x}px`;
    this.canvas.style.height = `${size.y}px`;
    this.invalidate();
  }

  invalidate(): void {
    this.dirty = true;
    if (!this.frameRequested) {
      this.frameRequested = true;
      requestAnimationFrame(() => {
        this.frameRequested = false;
        if (this.dirty) this.draw();
      });
    }
  }

  clear(): void {
    this.tracks.clear();
    this.invalidate();
  }

  /** Apply a batch of track states (any order; older states than held are trail only). */
  apply(updates: TrackUpdate[]): void {
    const cap = this.opts.trailPoints;
    for (const u of updates) {
      const t = Date.parse(u.time);
      let tr = this.tracks.get(u.track_id);
      if (u.status === "deleted") {
        this.tracks.delete(u.track_id);
        continue;
      }
      const mx = mercX(u.lon);
      const my = mercY(u.lat);
      if (tr === undefined) {
        tr = {
          id: u.track_id,
          sector: this.opts.sectorOf(u.track_id),
          t,
          lon: u.lon,
          lat: u.lat,
          mx,
          my,
          vx: u.vx,
          vy: u.vy,
          cls: u.target_class,
          group: u.group_size,
          status: u.status,
          trail: new Float64Array(cap * 3),
          trailLen: 0,
          trailHead: 0,
        };
        this.tracks.set(u.track_id, tr);
      } else if (t >= tr.t) {
        tr.t = t;
        tr.lon = u.lon;
        tr.lat = u.lat;
        tr.mx = mx;
        tr.my = my;
        tr.vx = u.vx;
        tr.vy = u.vy;
        tr.cls = u.target_class;
        tr.group = u.group_size;
        tr.status = u.status;
      }
      const k = tr.trailHead * 3;
      tr.trail[k] = mx;
      tr.trail[k + 1] = my;
      tr.trail[k + 2] = t;
      tr.trailHead = (tr.trailHead + 1) % cap;
      tr.trailLen = Math.min(tr.trailLen + 1, cap);
    }
    this.invalidate();
  }

  /** The track nearest a container point, within `radius` pixels. */
  hit(point: L.Point, radius = 10): LiveTrack | null {
    const { scale, ox, oy } = this.view();
    let best: LiveTrack | null = null;
    let bestD = radius * radius;
    for (const tr of this.tracks.values()) {
      const dx = tr.mx * scale - ox - point.x;
      const dy = tr.my * scale - oy - point.y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = tr;
      }
    }
    return best;
  }

  private view(): { scale: number; ox: number; oy: number } {
    const scale = 256 * Math.pow(2, this.map.getZoom());
    const origin = this.map.getPixelOrigin();
    const pane = this.map.containerPointToLayerPoint([0, 0]);
    return { scale, ox: origin.x + pane.x, oy: origin.y + pane.y };
  }

  draw(): void {
    const started = performance.now();
    this.dirty = false;
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const size = this.map.getSize();
    ctx.clearRect(0, 0, size.x, size.y);
    if (!this.visible) return;
    const { scale, ox, oy } = this.view();
    const zoom = this.map.getZoom();
    const w = size.x;
    const h = size.y;
    const newest = this.newestTime();
    const trailFrom = newest - this.opts.trailS * 1000;
    const cap = this.opts.trailPoints;
    const metresPerPixel = (40075016.7 * Math.cos((this.map.getCenter().lat * Math.PI) / 180)) / scale;

    // Trails first, all in one path per colour, so the icons sit on top.
    ctx.lineWidth = 1.5;
    for (const [cls, colour] of Object.entries(CLASS_COLOUR)) {
      ctx.beginPath();
      for (const tr of this.tracks.values()) {
        if (tr.cls !== cls || tr.trailLen < 2) continue;
        const x0 = tr.mx * scale - ox;
        const y0 = tr.my * scale - oy;
        if (x0 < -200 || y0 < -200 || x0 > w + 200 || y0 > h + 200) continue;
        let first = true;
        for (let i = tr.trailLen; i >= 1; i--) {
          const k = ((tr.trailHead - i + cap) % cap) * 3;
          if (tr.trail[k + 2]! < trailFrom) continue;
          const x = tr.trail[k]! * scale - ox;
          const y = tr.trail[k + 1]! * scale - oy;
          if (first) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
          first = false;
        }
      }
      ctx.strokeStyle = colour + "88";
      ctx.stroke();
    }

    // Icons: a shape per class, heading stick, group size at closer zooms.
    const labels = zoom >= 10 || this.tracks.size < 200;
    ctx.font = "bold 11px system-ui, sans-serif";
    for (const tr of this.tracks.values()) {
      const x = tr.mx * scale - ox;
      const y = tr.my * scale - oy;
      if (x < -20 || y < -20 || x > w + 20 || y > h + 20) continue;
      const colour = CLASS_COLOUR[tr.cls] ?? CLASS_COLOUR.unknown!;
      const speed = Math.hypot(tr.vx, tr.vy);
      if (speed > 0.05) {
        const len = Math.max(10, (speed * this.opts.headingS) / metresPerPixel);
        ctx.beginPath();
        ctx.moveTo(x, y);
        ctx.lineTo(x + (tr.vx / speed) * len, y - (tr.vy / speed) * len);
        ctx.strokeStyle = colour;
        ctx.lineWidth = 2;
        ctx.stroke();
      }
      ctx.beginPath();
      const r = tr.status === "confirmed" ? 5.5 : 4;
      switch (tr.cls) {
        case "vehicle":
          ctx.rect(x - r, y - r, 2 * r, 2 * r);
          break;
        case "animal":
          ctx.moveTo(x, y - r - 1);
          ctx.lineTo(x + r, y + r);
          ctx.lineTo(x - r, y + r);
          ctx.closePath();
          break;
        case "person":
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          break;
        default:
          ctx.moveTo(x, y - r - 1);
          ctx.lineTo(x + r + 1, y);
          ctx.lineTo(x, y + r + 1);
          ctx.lineTo(x - r - 1, y);
          ctx.closePath();
      }
      ctx.globalAlpha = tr.status === "coasting" ? 0.45 : tr.status === "tentative" ? 0.7 : 1;
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#111";
      ctx.stroke();
      if (tr.id === this.selected) {
        ctx.beginPath();
        ctx.arc(x, y, 11, 0, 2 * Math.PI);
        ctx.strokeStyle = "#00e5ff";
        ctx.lineWidth = 2.5;
        ctx.stroke();
      }
      if (labels && tr.group !== null && tr.group > 1) {
        ctx.lineWidth = 3;
        ctx.strokeStyle = "#000";
        ctx.strokeText(`×${tr.group}`, x + 8, y - 6);
        ctx.fillStyle = "#fff";
        ctx.fillText(`×${tr.group}`, x + 8, y - 6);
      }
    }
    const took = performance.now() - started;
    this.drawMs.push(took);
    if (this.drawMs.length > 600) this.drawMs.splice(0, this.drawMs.length - 600);
  }

  private newestTime(): number {
    let t = 0;
    for (const tr of this.tracks.values()) if (tr.t > t) t = tr.t;
    return t;
  }

  countBySector(): Map<string, number> {
    const out = new Map<string, number>();
    for (const tr of this.tracks.values()) out.set(tr.sector, (out.get(tr.sector) ?? 0) + 1);
    return out;
  }
}

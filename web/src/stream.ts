// The live stream over WebSocket with a resume cursor: a reconnect (or a page reload, since the
// cursor is kept in sessionStorage) asks for every change after the last one handled, so no
// alert is missed and none is applied twice.

export interface Change {
  type: "change";
  id: number;
  time: string;
  kind: string;
  payload: Record<string, unknown>;
}

type Message =
  | Change
  | { type: "reset"; oldest: number; cursor: number }
  | { type: "heartbeat"; cursor: number }
  | { type: "error"; error: string; detail: string };

export interface StreamHandlers {
  /** A batch of changes in id order (one per WebSocket message burst). */
  changes(batch: Change[]): void;
  /** Changes after the cursor were deleted by retention: reload state from the REST routes. */
  reset(): Promise<void>;
  status(text: string, ok: boolean): void;
  /** The server refused the token or role: stop and return to the login. */
  refused(detail: string): void;
}

const CURSOR_KEY = "limes.cursor";

export function savedCursor(): number | null {
  const raw = sessionStorage.getItem(CURSOR_KEY);
  return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
}

export class LiveStream {
  private socket: WebSocket | null = null;
  private pending: Change[] = [];
  private flushScheduled = false;
  private stopped = false;
  private retryMs = 500;

  constructor(
    private readonly token: string,
    public cursor: number,
    private readonly on: StreamHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.close();
  }

  private connect(): void {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/api/stream?cursor=${this.cursor}&token=${encodeURIComponent(this.token)}`;
    const ws = new WebSocket(url);
    this.socket = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.on.status("live", true);
    };
    ws.onmessage = (ev: MessageEvent<string>) => this.receive(JSON.parse(ev.data) as Message);
    ws.onclose = (ev: CloseEvent) => {
      this.flush();
      if (this.stopped) return;
      if (ev.code === 4401 || ev.code === 4403) {
        this.on.refused(ev.reason || "the server refused this token");
        return;
      }
      this.on.status(`reconnecting (from change ${this.cursor})`, false);
      window.setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    };
  }

  private receive(msg: Message): void {
    switch (msg.type) {
      case "change":
        this.pending.push(msg);
        // Batch what arrives within one animation frame: the map redraws once per frame.
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          requestAnimationFrame(() => this.flush());
        }
        break;
      case "reset":
        this.flush();
        this.cursor = msg.cursor;
        void this.on.reset();
        break;
      case "heartbeat":
        this.flush();
        break;
      case "error":
        this.on.refused(msg.detail);
        break;
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.on.changes(batch);
    // Only after the batch is applied: a reload resumes from here and misses nothing.
    this.cursor = batch[batch.length - 1]!.id;
    sessionStorage.setItem(CURSOR_KEY, String(this.cursor));
  }
}

// The alarm: while a HIGH or CRITICAL incident waits unacknowledged, the page sounds a short
// two-tone call every few seconds (generated here with WebAudio: no sound file, nothing from
// outside) and the browser shows a notification for each new one, until someone acknowledges.

export interface AlarmItem {
  id: number;
  severity: string;
  opened: string;
  text: string;
}

const LOUD = new Set(["high", "critical"]);

export class Alarm {
  private ctx: AudioContext | null = null;
  /** The page's audio output passes through this analyser (tests listen to it). */
  analyser: AnalyserNode | null = null;
  private timer: number | null = null;
  private readonly notified = new Set<number>();
  /** How many calls have sounded (for tests and the header). */
  beeps = 0;
  muted = false;
  waiting: AlarmItem[] = [];

  constructor(private readonly periodMs = 4000) {
    // Browsers start audio only after a gesture: a context made before one waits suspended,
    // and the next gesture lets it play. The context itself is made only when the alarm
    // first sounds (an audio device is not opened for a quiet watch).
    const arm = (): void => {
      if (this.ctx !== null && this.ctx.state === "suspended") void this.ctx.resume();
    };
    window.addEventListener("pointerdown", arm);
    window.addEventListener("keydown", arm);
  }

  /** Ask once for permission to notify (call from a user gesture such as signing in). */
  static askPermission(): void {
    if ("Notification" in window && Notification.permission === "default") void Notification.requestPermission();
  }

  private audio(): AudioContext | null {
    if (this.ctx === null && "AudioContext" in window) {
      this.ctx = new AudioContext();
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 2048;
      this.analyser.connect(this.ctx.destination);
    }
    return this.ctx;
  }

  /** The incidents that call for the alarm now (unacknowledged HIGH/CRITICAL ones). */
  update(items: AlarmItem[], fresh: Set<number>): void {
    this.waiting = items.filter((i) => LOUD.has(i.severity));
    for (const i of this.waiting)
      if (fresh.has(i.id) && !this.notified.has(i.id)) {
        this.notified.add(i.id);
        this.notify(i);
      }
    if (this.waiting.length > 0 && this.timer === null) {
      this.sound();
      this.timer = window.setInterval(() => this.sound(), this.periodMs);
    } else if (this.waiting.length === 0 && this.timer !== null) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
  }

  get sounding(): boolean {
    return this.timer !== null;
  }

  private notify(i: AlarmItem): void {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const n = new Notification(`limes: ${i.severity.toUpperCase()} incident #${i.id}`, { body: i.text, tag: `incident-${i.id}`, requireInteraction: true });
      n.onclick = () => window.focus();
    } catch {
      // some browsers allow notifications only from a service worker: the sound still calls
    }
  }

  /** One call: two tones, 0.18 s each, enveloped to avoid clicks. */
  private sound(): void {
    if (this.muted) return;
    const ctx = this.audio();
    if (ctx === null || this.analyser === null) return;
    if (ctx.state === "suspended") void ctx.resume();
    const t0 = ctx.currentTime + 0.02;
    const critical = this.waiting.some((i) => i.severity === "critical");
    [critical ? 1046 : 880, critical ? 784 : 660].forEach((f, k) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = f;
      const start = t0 + k * 0.22;
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.25, start + 0.01);
      gain.gain.setValueAtTime(0.25, start + 0.17);
      gain.gain.linearRampToValueAtTime(0, start + 0.18);
      osc.connect(gain).connect(this.analyser!);
      osc.start(start);
      osc.stop(start + 0.2);
    });
    this.beeps += 1;
  }
}

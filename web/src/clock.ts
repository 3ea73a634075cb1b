// The system's clock as the page sees it: the wall clock on a real border, the exercise clock in
// an exercise (which may run ×30). Every age on the page is counted on it, never on the browser's
// own clock: the server says its present and its speed, and the page runs on from there.

export class ServerClock {
  private serverMs = Date.now();
  private localMs = performance.now();
  speed = 1;

  /** Take the server's present (ISO time) and speed (its seconds per wall second). */
  sync(nowIso: string | null | undefined, speed: number | null | undefined): void {
    if (!nowIso) return;
    this.serverMs = Date.parse(nowIso);
    this.localMs = performance.now();
    this.speed = speed && speed > 0 ? speed : 1;
  }

  /** The present on the system's clock, ms since the epoch. */
  now(): number {
    return this.serverMs + (performance.now() - this.localMs) * this.speed;
  }
}

/**
 * The write-behind timer the lastUsedAt recorder and the audit trail's failure counter share:
 * runs `flush` every `intervalMs` (a timer that never keeps the process alive), one run at a
 * time (a caller arriving mid-run waits for it, then runs again for what came in meanwhile),
 * and a last time on stop().
 */
export class PeriodicFlush {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly flush: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.run();
  }

  async run(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.flush().finally(() => {
      this.running = null;
    });
    await this.running;
  }
}

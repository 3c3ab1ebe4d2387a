/**
 * The bench's view into a server child: the parent asks over the IPC channel, the child answers
 * with its CPU time, current and peak RSS since the last mark, and SQL statements counted so far.
 */
export interface Stats {
  cpuMicros: number;
  rss: number;
  peakRss: number;
  statements: number;
  reads: number;
  writes: number;
}

export function serveStats(counter?: () => { statements: number; reads: number; writes: number }): void {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, 50);
  sampler.unref();
  process.on("message", (message: { id: number; cmd: string; gc?: boolean }) => {
    if (message?.cmd !== "stats") return;
    // Before a measured window: start it from a collected heap, so a scenario does not pay for
    // the garbage the previous one (on the same server) left behind.
    if (message.gc) (globalThis as { gc?: () => void }).gc?.();
    const rss = process.memoryUsage.rss();
    const cpu = process.cpuUsage();
    const counted = counter?.() ?? { statements: 0, reads: 0, writes: 0 };
    const stats: Stats = { cpuMicros: cpu.user + cpu.system, rss, peakRss: Math.max(peak, rss), ...counted };
    peak = rss;
    process.send!({ id: message.id, stats });
  });
  process.on("disconnect", () => process.exit(0));
  // An orderly exit, so `node --cpu-prof` writes its profile.
  process.on("SIGTERM", () => process.exit(0));
}

export function announce(port: number): void {
  process.send!({ ready: true, port });
}

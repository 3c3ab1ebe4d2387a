import fs from "node:fs";

/**
 * Waits until the local database server's process has gone quiet: under `maxCpuShare` of one core
 * over a `windowMs` window, for at most `timeoutMs`. After the bench seeds or deletes 100,000s of
 * rows, MariaDB keeps purging and flushing for tens of seconds, on the same two cores as the
 * servers and the load generator; scenarios measured meanwhile were up to 3× slower, and those of
 * different rounds unequally so. Finds the process by name in /proc (mariadbd or mysqld); a
 * database on another machine, or no /proc, is not waited for.
 */
export async function waitForDatabaseIdle(options: { maxCpuShare?: number; windowMs?: number; timeoutMs?: number } = {}): Promise<{ waitedMs: number; idle: boolean | null }> {
  const { maxCpuShare = 0.03, windowMs = 1000, timeoutMs = 120_000 } = options;
  const pids = databasePids();
  if (pids.length === 0) return { waitedMs: 0, idle: null };
  const started = Date.now();
  for (;;) {
    const before = cpuTicks(pids);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const share = (cpuTicks(pids) - before) / TICKS_PER_SECOND / (windowMs / 1000);
    if (share < maxCpuShare) return { waitedMs: Date.now() - started, idle: true };
    if (Date.now() - started > timeoutMs) return { waitedMs: Date.now() - started, idle: false };
  }
}

// USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
const TICKS_PER_SECOND = 100;

function databasePids(): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return entries
    .filter((pid) => {
      try {
        return /^(mariadbd|mysqld)$/.test(fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim());
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** utime + stime of the processes (all their threads), in clock ticks. */
function cpuTicks(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      total += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return total;
}

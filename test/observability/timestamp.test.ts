import { formatTimestamp, isoTimestamp } from "../../src/observability/logger";

describe("log timestamps", () => {
  test("the same text as Date.toISOString, across millisecond, second, day and year boundaries, in any order", () => {
    const samples = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1), Date.UTC(2026, 10, 27, 21, 46, 40, 7), 1_700_000_000_123];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 4_000_000_000_000));
    for (const epochMs of [...samples, ...samples.slice().reverse()]) {
      expect({ epochMs, stamp: formatTimestamp(epochMs) }).toEqual({ epochMs, stamp: `,"time":"${new Date(epochMs).toISOString()}"` });
    }
  });

  test("isoTimestamp: now, in pino's time-field form", () => {
    const before = Date.now();
    const match = /^,"time":"(.+)"$/.exec(isoTimestamp());
    expect(match).not.toBeNull();
    const at = Date.parse(match![1]);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });
});

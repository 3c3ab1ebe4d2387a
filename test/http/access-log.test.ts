import pino from "pino";
import fc from "fast-check";
import { ACCESS_LOG_SAMPLES, createAccessLog, jsonString, type AccessLogEntry } from "../../src/http/access-log";
import { createLogger } from "../../src/observability/logger";
import { escapeUnsafeInJson } from "../../src/observability/unsafe-characters";
import { captureLogs } from "../support/logs";


const entries: AccessLogEntry[] = [
  ...ACCESS_LOG_SAMPLES,
  { requestId: "x", method: undefined, path: undefined, status: 400, durationMs: 12.5, clientIp: "10.0.0.1", email: "a+b@example.org", operationName: "Ünïcödé 名前" },
];

describe("access log", () => {
  test.each(entries.map((entry, i) => [i, entry] as const))("line %i is byte for byte what logger.info(entry, \"request\") writes", (_i, entry) => {
    const fast = captureLogs();
    const reference = captureLogs();
    // The same clock for both: the line's time comes from the logger's timestamp function.
    const time = () => ',"time":"2026-11-27T00:00:00.000Z"';
    createAccessLog(pino({ base: { service: "external-tool-access" }, timestamp: time }, fast.stream))(entry);
    pino({ base: { service: "external-tool-access" }, timestamp: time }, reference.stream).info(entry, "request");
    expect(fast.lines).toEqual(reference.lines);
    expect(JSON.parse(fast.lines[0])).toMatchObject({ level: 30, msg: "request", requestId: entry.requestId, status: entry.status });
  });

  test("the service's own logger takes the hand-formatted path, and respects the level", () => {
    const out = captureLogs();
    const logger = createLogger("info", out.stream);
    const asJson = jest.spyOn(logger as unknown as Record<symbol, () => string>, pino.symbols.asJsonSym as never);
    const write = createAccessLog(logger);
    asJson.mockClear();
    write(ACCESS_LOG_SAMPLES[0]);
    expect(asJson).not.toHaveBeenCalled();
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0])).toMatchObject({ service: "external-tool-access", email: "ada@example.org", keyId: 42 });
    logger.level = "warn";
    write(ACCESS_LOG_SAMPLES[0]);
    expect(out.lines).toHaveLength(1);
  });

  test("a logger it cannot imitate (custom log formatter) keeps pino's own path", () => {
    const out = captureLogs();
    const logger = pino({ formatters: { log: (object) => ({ ...object, tagged: true }) } }, out.stream);
    createAccessLog(logger)(ACCESS_LOG_SAMPLES[0]);
    expect(JSON.parse(out.lines[0])).toMatchObject({ tagged: true, requestId: ACCESS_LOG_SAMPLES[0].requestId });
  });

  test("a lone surrogate in a client-chosen field (email, path) is escaped, so the line stays valid UTF-8 JSON", () => {
    const out = captureLogs();
    createAccessLog(createLogger("info", out.stream))({ ...ACCESS_LOG_SAMPLES[0], email: "bad\ud800@example.org", path: '/"\ud800' });
    expect(out.lines[0]).toContain('"email":"bad\\ud800@example.org"');
    const parsed = JSON.parse(Buffer.from(out.lines[0], "utf8").toString("utf8"));
    expect(parsed).toMatchObject({ email: "bad\ud800@example.org", path: '/"\ud800' });
  });

  test("child bindings appear as pino would write them", () => {
    const fast = captureLogs();
    const reference = captureLogs();
    const time = () => "";
    createAccessLog(pino({ timestamp: time }, fast.stream).child({ instance: "a\"b" }))(ACCESS_LOG_SAMPLES[1]);
    pino({ timestamp: time }, reference.stream).child({ instance: "a\"b" }).info(ACCESS_LOG_SAMPLES[1], "request");
    expect(fast.lines).toEqual(reference.lines);
  });

  test("a bidi override in a path is written as its escape, by the fast path as by pino's", () => {
    const lines = captureLogs();
    const logger = createLogger("info", lines.stream);
    createAccessLog(logger)({ ...ACCESS_LOG_SAMPLES[1], path: "/x\u202egro.x" });
    logger.info({ email: "\u202egro.x@live" }, "other line");
    expect(lines.lines.join("")).not.toMatch(/\u202e/);
    expect(lines.lines.join("")).toContain("\\u202e");
    expect(JSON.parse(lines.lines[0]).path).toBe("/x\u202egro.x");
  });

  test("jsonString is JSON.stringify with unsafe characters escaped, for any string, lone surrogates and control characters included", () => {
    const anyCodeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((units) => String.fromCharCode(...units));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), anyCodeUnits), (value) => {
        expect(jsonString(value)).toBe(escapeUnsafeInJson(JSON.stringify(value)));
        expect(JSON.parse(jsonString(value))).toBe(value);
      }),
      { numRuns: 5000 },
    );
  });
});

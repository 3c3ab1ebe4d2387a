import pino from "pino";

/**
 * Driver errors carry the statement and its parameters: TypeORM's QueryFailedError has `query`
 * and `parameters`, mysql2's errors `sql`. A parameter can be a key's SHA-256 (the lookup) or an
 * idempotency lookup; none belongs in a log line. Replaced at any depth of the serialized error
 * (the driver's own error is nested as `driverError`).
 */
const STATEMENT_FIELDS = new Set(["query", "parameters", "sql"]);
const MAX_DEPTH = 6;

/** pino's error serializer, with the statement fields of driver errors replaced. */
export function serializeError(error: unknown): unknown {
  return withoutStatements(pino.stdSerializers.err(error as Error), 0);
}

function withoutStatements(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => withoutStatements(item, depth + 1));
  // pino's serialized error keeps the original as a non-enumerable `raw`, which it never writes.
  for (const key of Object.keys(value)) {
    const record = value as Record<string, unknown>;
    record[key] = STATEMENT_FIELDS.has(key) ? "[redacted]" : withoutStatements(record[key], depth + 1);
  }
  return value;
}

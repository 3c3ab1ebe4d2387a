import { isDeadlock } from "./transactions";

/**
 * Tells "the database cannot serve this now" (cannot be reached: refused, reset, timed out, pool
 * closed, server gone, SQLite busy or unopenable; or a write still picked as a deadlock victim
 * after inTransaction's tries) from every other error, so the request path can answer 503
 * SERVICE_UNAVAILABLE instead of 500. Looks through TypeORM's QueryFailedError (driverError)
 * and `cause` chains.
 */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR",
  "PROTOCOL_ENQUEUE_AFTER_QUIT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_QUERY_INTERRUPTED",
  "ER_CONNECTION_KILLED",
  "ER_LOCK_WAIT_TIMEOUT",
  "SQLITE_BUSY",
  "SQLITE_CANTOPEN",
  "SQLITE_IOERR",
]);
const UNAVAILABLE_MESSAGES = /Pool is closed|Connection lost|connect ETIMEDOUT|Can't add new command when connection is in closed state|Connection is not established|closed state|Too many connections/i;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 5) return false;
  const candidate = error as { code?: unknown; fatal?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; originalError?: unknown; thrownValue?: unknown; name?: unknown };
  if (typeof candidate.code === "string" && UNAVAILABLE_CODES.has(candidate.code)) return true;
  if (candidate.fatal === true) return true; // mysql2: the connection is gone
  if (isDeadlock(candidate)) return true; // nothing was written: worth sending again
  if (candidate.name === "ConnectionIsNotSetError" || candidate.name === "CannotExecuteNotConnectedError") return true;
  if (typeof candidate.message === "string" && UNAVAILABLE_MESSAGES.test(candidate.message)) return true;
  // thrownValue: graphql-js wraps a thrown non-Error (mysql2 rejects pool connects with plain objects).
  return [candidate.driverError, candidate.cause, candidate.originalError, candidate.thrownValue].some((inner) => inner !== error && isDatabaseUnavailable(inner, depth + 1));
}

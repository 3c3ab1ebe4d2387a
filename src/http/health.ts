import type { IncomingMessage, ServerResponse } from "node:http";
import type { DataSource } from "typeorm";
import { sendJson } from "./responses";

/** GET /healthz: the process answers. */
export function handleHealth(_req: IncomingMessage, res: ServerResponse, headers: readonly string[]): Promise<void> {
  sendJson(res, 200, { status: "ok" }, headers);
  return Promise.resolve();
}

/** GET /readyz: the database answers and holds every migration; 503 with the reason otherwise. */
export function createReadinessCheck(dataSource: DataSource) {
  return async function handleReady(_req: IncomingMessage, res: ServerResponse, headers: readonly string[]): Promise<void> {
    try {
      await dataSource.query("SELECT 1");
      const pending = await dataSource.showMigrations();
      if (pending) return sendJson(res, 503, { status: "unavailable", reason: "migrations pending" }, headers);
      sendJson(res, 200, { status: "ready" }, headers);
    } catch {
      sendJson(res, 503, { status: "unavailable", reason: "database unreachable" }, headers);
    }
  };
}

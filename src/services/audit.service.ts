import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { DataSource, EntityManager } from "typeorm";
import { fromSqlDateTime, toSqlDateTime } from "../db/data-source";
import { AuditAction, type AuditActor, AuditEvent } from "../entities/audit-event.entity";
import { hydrateJoinedUser, JOINED_USER_COLUMNS } from "../db/user-columns";
import { inTransaction } from "../db/transactions";
import { isUniqueViolation } from "../db/errors";
import { decodeCursor, encodeCursor, pageSize } from "./cursor";
import { parseId } from "./ids";
import { PeriodicFlush } from "../db/periodic-flush";

export interface AuditEventFilterInput {
  action?: string | null;
  actorEmail?: string | null;
  keyId?: string | null;
  since?: Date | null;
  until?: Date | null;
}

export interface AuditEventPage {
  nodes: AuditEvent[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface AuthFailure {
  reason: string;
  ip: string;
  method: string;
  /** The account the attempt was aimed at, when it exists. */
  userId?: number | null;
  email?: string | null;
}

export interface AuditOptions {
  /** Identical failures from one IP inside one window share a row. */
  collapseWindowMs: number;
  flushIntervalMs: number;
  /** Distinct failure groups held in memory before new ones are folded into an overflow group. */
  maxGroups: number;
}

const DEFAULT_OPTIONS: AuditOptions = { collapseWindowMs: 10 * 60_000, flushIntervalMs: 5_000, maxGroups: 10_000 };
const MAX_DETAIL_LENGTH = 8000;
const MAX_AUDIT_PAGE = 500;
const FAILURE_WRITE_CHUNK = 500;

interface FailureGroup {
  collapseKey: string;
  first: Date;
  count: number;
  failure: AuthFailure;
}

/**
 * The audit trail: who did what, in the same transaction as the change where there is one.
 * Authentication failures are counted in memory and written in batches, collapsed per reason,
 * IP and account per 10-minute window, so a flood of bad credentials costs no write per request
 * and cannot fill the table.
 */
export class AuditService {
  private failures = new Map<string, FailureGroup>();
  private readonly flusher: PeriodicFlush;
  private readonly options: AuditOptions;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: Logger,
    options: Partial<AuditOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.flusher = new PeriodicFlush(() => this.writePendingFailures(), this.options.flushIntervalMs);
  }

  async record(
    event: { action: AuditAction; actor: AuditActor; keyId?: number | null; detail?: string | null; at?: Date },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.getRepository(AuditEvent).insert({
      at: event.at ?? new Date(),
      action: event.action,
      actorId: event.actor.userId,
      actorEmail: event.actor.email,
      ip: event.actor.ip?.slice(0, 64) ?? null,
      keyId: event.keyId ?? null,
      detail: event.detail ? truncate(event.detail) : null,
      count: 1,
      collapseKey: null,
    });
  }

  get pendingFailureGroups(): number {
    return this.failures.size;
  }

  noteAuthFailure(failure: AuthFailure, now: Date = new Date()): void {
    const window = Math.floor(now.getTime() / this.options.collapseWindowMs);
    let identity = [failure.reason, failure.method, failure.ip, failure.userId ?? "", window].join("|");
    if (!this.failures.has(identity) && this.failures.size >= this.options.maxGroups) {
      // Under a flood from many addresses: one group per reason, so memory stays bounded.
      failure = { reason: failure.reason, method: failure.method, ip: "*" };
      identity = [failure.reason, failure.method, "*", "", window].join("|");
    }
    const group = this.failures.get(identity);
    if (group) {
      group.count++;
      return;
    }
    this.failures.set(identity, { collapseKey: createHash("sha256").update(identity).digest("hex"), first: now, count: 1, failure });
  }

  start(): void {
    this.flusher.start();
  }

  stop(): Promise<void> {
    return this.flusher.stop();
  }

  flushFailures(): Promise<void> {
    return this.flusher.run();
  }

  private async writePendingFailures(): Promise<void> {
    if (this.failures.size === 0) return;
    const batch = [...this.failures.values()];
    this.failures = new Map();
    await this.writeFailures(batch);
  }

  private async writeFailures(batch: FailureGroup[]): Promise<void> {
    for (let i = 0; i < batch.length; i += FAILURE_WRITE_CHUNK) {
      const chunk = batch.slice(i, i + FAILURE_WRITE_CHUNK);
      try {
        await inTransaction(this.dataSource, (manager) => this.writeFailureChunk(manager, chunk));
      } catch (error) {
        this.logger.warn({ err: error, groups: chunk.length }, "could not write authentication failures to the audit trail");
      }
    }
  }

  /** Adds to the rows of windows already written, inserts the rest in one statement. */
  private async writeFailureChunk(manager: EntityManager, chunk: FailureGroup[]): Promise<void> {
    const repository = manager.getRepository(AuditEvent);
    const existing: Array<{ collapse_key: string }> = await manager.query(
      `SELECT collapse_key FROM audit_events WHERE collapse_key IN (${chunk.map(() => "?").join(", ")})`,
      chunk.map((group) => group.collapseKey),
    );
    const written = new Set(existing.map((row) => row.collapse_key));
    for (const group of chunk.filter((g) => written.has(g.collapseKey))) {
      await repository.increment({ collapseKey: group.collapseKey }, "count", group.count);
    }
    const fresh = chunk.filter((group) => !written.has(group.collapseKey));
    if (fresh.length === 0) return;
    const rows = fresh.map((group) => ({
      at: group.first,
      action: AuditAction.AUTHENTICATION_FAILED,
      actorId: group.failure.userId ?? null,
      actorEmail: group.failure.email ?? null,
      ip: group.failure.ip.slice(0, 64),
      keyId: null,
      detail: `reason=${group.failure.reason} method=${group.failure.method}`,
      count: group.count,
      collapseKey: group.collapseKey,
    }));
    try {
      await repository.insert(rows);
    } catch (error) {
      // Another instance wrote one of these windows meanwhile: fall back to row by row.
      if (!isUniqueViolation(error)) throw error;
      for (const row of rows) {
        const added = await repository.increment({ collapseKey: row.collapseKey }, "count", row.count);
        if (!added.affected) await repository.insert(row);
      }
    }
  }

  async list(args: { filter?: AuditEventFilterInput | null; first?: number | null; after?: string | null }): Promise<AuditEventPage> {
    const first = pageSize(args.first, 50, MAX_AUDIT_PAGE);
    const filter = args.filter ?? {};
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.action) {
      conditions.push("e.action = ?");
      params.push(filter.action.trim().toUpperCase());
    }
    if (filter.actorEmail) {
      conditions.push("e.actor_email = ?");
      params.push(filter.actorEmail.trim().toLowerCase());
    }
    if (filter.keyId != null) {
      conditions.push("e.key_id = ?");
      params.push(parseId(filter.keyId) ?? -1);
    }
    if (filter.since) {
      conditions.push("e.at >= ?");
      params.push(toSqlDateTime(filter.since));
    }
    if (filter.until) {
      conditions.push("e.at < ?");
      params.push(toSqlDateTime(filter.until));
    }
    if (args.after) {
      const cursor = decodeCursor(args.after, "audit");
      conditions.push("(e.at < ? OR (e.at = ? AND e.id < ?))");
      params.push(cursor.value, cursor.value, cursor.id);
    }
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT e.id, e.at, e.action, e.actor_id, e.actor_email, e.key_id, e.detail, e.ip, e.count, ${JOINED_USER_COLUMNS}
       FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id
       ${conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""}
       ORDER BY e.at DESC, e.id DESC LIMIT ?`,
      [...params, first + 1],
    );
    const nodes = rows.slice(0, first).map(hydrateEvent);
    const last = nodes[nodes.length - 1];
    return { nodes, hasNextPage: rows.length > first, endCursor: last ? encodeCursor("audit", last.at, last.id) : null };
  }
}

function hydrateEvent(row: Record<string, unknown>): AuditEvent {
  const actor = row.u_id == null ? null : hydrateJoinedUser(row);
  return Object.assign(new AuditEvent(), {
    id: Number(row.id),
    at: fromSqlDateTime(row.at)!,
    action: String(row.action),
    actorId: row.actor_id == null ? null : Number(row.actor_id),
    actorEmail: (row.actor_email as string | null) ?? null,
    actor,
    keyId: row.key_id == null ? null : Number(row.key_id),
    detail: (row.detail as string | null) ?? null,
    ip: (row.ip as string | null) ?? null,
    count: Number(row.count),
    collapseKey: null,
  });
}

function truncate(detail: string): string {
  return detail.length <= MAX_DETAIL_LENGTH ? detail : detail.slice(0, MAX_DETAIL_LENGTH - 1) + "…";
}

/** "1, 2, 3" for a few ids, the first thousand and a count for many. */
export function describeIds(ids: number[]): string {
  const shown = ids.slice(0, 1000).join(", ");
  return ids.length > 1000 ? `${shown} … and ${ids.length - 1000} more` : shown;
}

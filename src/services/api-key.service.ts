import type { DataSource, EntityManager } from "typeorm";
import type { GeneratedKey } from "../keys/api-key-format";
import type { KeyTags } from "../keys/key-tags";
import { fromSqlBoolean, fromSqlDateTime, toSqlDateTime } from "../db/data-source";
import { ApiKey, DESCRIPTION_MAX_LENGTH } from "../entities/api-key.entity";
import { expiryFor } from "../entities/external-tool-settings.entity";
import { API_KEYS_DISABLED_MESSAGE, BadUserInputError, ForbiddenError, NotFoundError } from "../errors";
import { type Cursor, decodeCursor, encodeCursor, pageSize } from "./cursor";
import { inTransaction } from "../db/transactions";
import { hydrateJoinedUser, JOINED_USER_COLUMNS } from "../db/user-columns";
import { AuditAction, type AuditActor } from "../entities/audit-event.entity";
import { type AuditService, describeIds } from "./audit.service";
import { CountCache } from "./count-cache";
import type { IdempotencyService } from "./idempotency.service";
import { parseId } from "./ids";
import type { RevocationEpoch } from "../keys/revocation-epoch";
import type { SettingsService } from "./settings.service";

export enum ApiKeyOrder {
  CREATED_AT_DESC = "CREATED_AT_DESC",
  CREATED_AT_ASC = "CREATED_AT_ASC",
  LAST_USED_AT_DESC = "LAST_USED_AT_DESC",
  EXPIRES_AT_ASC = "EXPIRES_AT_ASC",
}

export interface ApiKeyFilterInput {
  ownerEmail?: string | null;
  descriptionContains?: string | null;
  expired?: boolean | null;
  unusedSince?: Date | null;
  createdBefore?: Date | null;
}

export interface ApiKeyPage {
  nodes: ApiKey[];
  hasNextPage: boolean;
  endCursor: string | null;
  /** Counted only if the client asks for totalCount. */
  countTotal: () => Promise<number>;
}

export const MAX_PAGE_SIZE = 500;
const MAX_IDS_PER_STATEMENT = 500;

interface OrderSpec {
  column: "created_at" | "last_used_at" | "expires_at";
  direction: "ASC" | "DESC";
  nullable: boolean;
}

const ORDER_SPECS: Record<ApiKeyOrder, OrderSpec> = {
  [ApiKeyOrder.CREATED_AT_DESC]: { column: "created_at", direction: "DESC", nullable: false },
  [ApiKeyOrder.CREATED_AT_ASC]: { column: "created_at", direction: "ASC", nullable: false },
  [ApiKeyOrder.LAST_USED_AT_DESC]: { column: "last_used_at", direction: "DESC", nullable: true },
  [ApiKeyOrder.EXPIRES_AT_ASC]: { column: "expires_at", direction: "ASC", nullable: true },
};

const KEY_WITH_OWNER_COLUMNS = `k.id, k.owner_id, k.hint, k.description, k.created_at, k.expires_at, k.last_used_at, k.read_only, ${JOINED_USER_COLUMNS}`;

export interface KeyActor extends AuditActor {
  userId: number;
  isAdmin: boolean;
}

export interface GeneratedKeyResult {
  key: string;
  apiKey: ApiKey;
}

export const MAX_ROTATION_OVERLAP_SECONDS = 30 * 24 * 3600;

export class ApiKeyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: SettingsService,
    private readonly audit: AuditService,
    private readonly idempotency: IdempotencyService,
    /** Revoking writes bump it in their transaction and wait for every instance's key cache. */
    private readonly revocations: Pick<RevocationEpoch, "bump" | "settled">,
    /** Makes the keys: they carry this server's tag. */
    private readonly keyTags: Pick<KeyTags, "issue">,
    /** totalCount memo; cleared by every key write below. */
    readonly counts: CountCache = new CountCache(),
  ) {}

  /** Unexpired keys, every owner's (the metrics gauge). */
  async countActive(now = new Date()): Promise<number> {
    const [row] = await this.dataSource.query("SELECT COUNT(*) AS total FROM api_keys WHERE expires_at IS NULL OR expires_at > ?", [toSqlDateTime(now)]);
    return Number(row.total);
  }

  /** Every write to api_keys goes through here, so no cached count outlives it on this instance. */
  private changingKeys<T>(write: Promise<T>): Promise<T> {
    return write.finally(() => this.counts.clear());
  }

  /**
   * A write that ends or shortens a key's life (its transaction calls revocations.bump): it returns
   * only once no instance can still authenticate the key from its cache.
   */
  private async revoking<T>(write: Promise<T>): Promise<T> {
    // A failed write rolled its bump back with it: nothing to wait for.
    const result = await this.changingKeys(write);
    await this.revocations.settled();
    return result;
  }

  async generate(
    actor: KeyActor,
    input: { description?: string | null; readOnly?: boolean | null; idempotencyKey?: string | null },
    now: Date = new Date(),
  ): Promise<GeneratedKeyResult> {
    const description = normaliseDescription(input.description);
    const readOnly = input.readOnly ?? false;
    // Before the transaction: the first call reads the tag secret, and SQLite has one connection.
    const fresh = await this.keyTags.issue();
    let made: ApiKey | null = null;
    const { result, replayed } = await this.changingKeys(this.idempotency.run(
      { userId: actor.userId, operation: "generateApiKey", idempotencyKey: input.idempotencyKey, args: { description, readOnly } },
      async (manager) => {
        const settings = await this.settings.get(manager);
        if (!settings.apiKeysEnabled) throw new ForbiddenError(API_KEYS_DISABLED_MESSAGE);
        const created = await insertKey(manager, fresh, { ownerId: actor.userId, description, readOnly, expiresAt: expiryFor(settings.apiKeyExpiration, now), replacesKeyId: null, now });
        await this.audit.record(
          { action: AuditAction.API_KEY_GENERATED, actor, keyId: created.id, at: now, detail: `${readOnly ? "read-only " : ""}key ${created.hint}${created.expiresAt ? `, expires ${created.expiresAt.toISOString()}` : ", never expires"}` },
          manager,
        );
        // Read inside the transaction: a revocation committed right after must not turn a
        // successful generation into an error for the caller.
        made = await this.getWithOwner(created.id, manager);
        return { key: created.key, id: created.id };
      },
      now,
    ));
    return { key: result.key, apiKey: replayed || !made ? await this.getWithOwner(result.id) : made };
  }

  /**
   * A new key with the old one's owner, description and readOnly flag. The old key keeps working
   * until overlapSeconds pass or the new key is first used, whichever comes first.
   */
  async rotate(actor: KeyActor, input: { id: string; overlapSeconds?: number | null; idempotencyKey?: string | null }, now: Date = new Date()): Promise<GeneratedKeyResult> {
    const overlapSeconds = input.overlapSeconds ?? 0;
    if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_ROTATION_OVERLAP_SECONDS) {
      throw new BadUserInputError(`overlapSeconds must be between 0 and ${MAX_ROTATION_OVERLAP_SECONDS}.`, "overlapSeconds");
    }
    const oldId = parseId(input.id);
    if (oldId === null) throw new NotFoundError("No API key with this id.");
    const fresh = await this.keyTags.issue();
    let made: ApiKey | null = null;
    const { result, replayed } = await this.revoking(this.idempotency.run(
      { userId: actor.userId, operation: "rotateApiKey", idempotencyKey: input.idempotencyKey, args: { id: oldId, overlapSeconds } },
      async (manager) => {
        const old = await manager.getRepository(ApiKey).findOneBy({ id: oldId });
        // Another user's key is NOT_FOUND to non-admins: existence is not revealed.
        if (!old || (old.ownerId !== actor.userId && !actor.isAdmin)) throw new NotFoundError("No API key with this id.");
        const settings = await this.settings.get(manager);
        if (!settings.apiKeysEnabled) throw new ForbiddenError(API_KEYS_DISABLED_MESSAGE);
        const created = await insertKey(manager, fresh, {
          ownerId: old.ownerId,
          description: old.description,
          readOnly: old.readOnly,
          expiresAt: expiryFor(settings.apiKeyExpiration, now),
          replacesKeyId: overlapSeconds > 0 ? old.id : null,
          now,
        });
        let oldKeyFate: string;
        await this.revocations.bump(manager);
        if (overlapSeconds === 0) {
          await manager.getRepository(ApiKey).delete({ id: old.id });
          oldKeyFate = "old key revoked at once";
        } else {
          const overlapEnd = new Date(now.getTime() + overlapSeconds * 1000);
          const retireAt = old.expiresAt && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd;
          await manager.getRepository(ApiKey).update({ id: old.id }, { expiresAt: retireAt });
          oldKeyFate = `old key works until ${retireAt.toISOString()} or the new key's first use`;
        }
        await this.audit.record(
          { action: AuditAction.API_KEY_ROTATED, actor, keyId: created.id, at: now, detail: `key ${old.id} (${old.hint}) replaced by key ${created.id} (${created.hint}); ${oldKeyFate}` },
          manager,
        );
        // Read inside the transaction: a revocation committed right after must not turn a
        // successful generation into an error for the caller.
        made = await this.getWithOwner(created.id, manager);
        return { key: created.key, id: created.id };
      },
      now,
    ));
    return { key: result.key, apiKey: replayed || !made ? await this.getWithOwner(result.id) : made };
  }

  /** Called on a rotated key's first use: the key it replaced stops working now. */
  async retirePredecessor(successor: { keyId: number; userId: number; email: string }, predecessorId: number): Promise<void> {
    await this.revoking(inTransaction(this.dataSource, async (manager) => {
      await this.revocations.bump(manager);
      const retired = await manager.getRepository(ApiKey).delete({ id: predecessorId, ownerId: successor.userId });
      await manager.getRepository(ApiKey).update({ id: successor.keyId }, { replacesKeyId: null });
      if (retired.affected) {
        await this.audit.record(
          { action: AuditAction.ROTATED_KEY_RETIRED, actor: { userId: successor.userId, email: successor.email, ip: null }, keyId: predecessorId, detail: `first use of key ${successor.keyId} ended the rotation overlap` },
          manager,
        );
      }
    }));
  }

  /** The owner's keys, newest first, expired ones included. */
  async listForOwner(ownerId: number): Promise<ApiKey[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${KEY_WITH_OWNER_COLUMNS} FROM api_keys k INNER JOIN users u ON u.id = k.owner_id
       WHERE k.owner_id = ? ORDER BY k.created_at DESC, k.id DESC`,
      [ownerId],
    );
    return rows.map(hydrateKeyWithOwner);
  }

  async getWithOwner(id: number, manager: EntityManager = this.dataSource.manager): Promise<ApiKey> {
    const rows: Row[] = await manager.query(`SELECT ${KEY_WITH_OWNER_COLUMNS} FROM api_keys k INNER JOIN users u ON u.id = k.owner_id WHERE k.id = ?`, [id]);
    if (!rows[0]) throw new NotFoundError("No API key with this id.");
    return hydrateKeyWithOwner(rows[0]);
  }

  /** Another user's key id is NOT_FOUND too: existence is not revealed. */
  async deleteOwn(actor: KeyActor, rawId: string): Promise<void> {
    const id = parseId(rawId);
    const deleted =
      id !== null &&
      (await this.revoking(inTransaction(this.dataSource, async (manager) => {
        const result = await manager.getRepository(ApiKey).delete({ id, ownerId: actor.userId });
        if (!result.affected) return false;
        await this.revocations.bump(manager);
        await this.audit.record({ action: AuditAction.API_KEY_DELETED, actor, keyId: id, detail: "deleted by its owner" }, manager);
        return true;
      })));
    if (!deleted) throw new NotFoundError("No API key with this id.");
  }

  async list(args: { filter?: ApiKeyFilterInput | null; orderBy?: ApiKeyOrder | null; first?: number | null; after?: string | null }, now: Date = new Date()): Promise<ApiKeyPage> {
    const orderBy = args.orderBy ?? ApiKeyOrder.CREATED_AT_DESC;
    const first = pageSize(args.first, 50, MAX_PAGE_SIZE);
    const spec = ORDER_SPECS[orderBy];
    const where = filterConditions(args.filter ?? {}, now);
    const conditions = [...where.conditions];
    const params = [...where.params];
    if (args.after) {
      const cursor = decodeCursor(args.after, orderBy);
      const after = keysetCondition(spec, cursor);
      conditions.push(after.condition);
      params.push(...after.params);
    }
    const nullsLast = spec.nullable ? `(k.${spec.column} IS NULL) ASC, ` : "";
    // LEFT JOIN (every key has an owner: NOT NULL + foreign key, so the rows are the same) keeps
    // api_keys the driving table: with INNER JOIN, MariaDB started from the 100-row users table and
    // sorted all 1M keys for the first page (seconds); now both databases read the page off the index.
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${KEY_WITH_OWNER_COLUMNS} FROM api_keys k LEFT JOIN users u ON u.id = k.owner_id
       ${conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""}
       ORDER BY ${nullsLast}k.${spec.column} ${spec.direction}, k.id ${spec.direction}
       LIMIT ?`,
      [...params, first + 1],
    );
    const nodes = rows.slice(0, first).map(hydrateKeyWithOwner);
    const last = nodes[nodes.length - 1];
    return {
      nodes,
      hasNextPage: rows.length > first,
      endCursor: last ? encodeCursor(orderBy, columnValue(last, spec.column), last.id) : null,
      countTotal: () =>
        this.counts.get(JSON.stringify([where.conditions, where.params]), async () => {
          const [row] = await this.dataSource.query(`SELECT COUNT(*) AS total ${fromFiltered(where)}`, where.params);
          return Number(row.total);
        }),
    };
  }

  /** All or nothing: one transaction, so a failure half-way revokes none. */
  async revoke(actor: AuditActor, rawIds: string[]): Promise<number> {
    const ids = new Set<number>();
    const invalid: string[] = [];
    for (const raw of rawIds) {
      const id = parseId(raw);
      if (id === null) invalid.push(raw);
      else ids.add(id);
    }
    if (invalid.length) throw new BadUserInputError(`Not API key ids: ${invalid.slice(0, 5).map((id) => JSON.stringify(id)).join(", ")}${invalid.length > 5 ? ", …" : ""}`, "ids");
    if (ids.size === 0) return 0;
    return this.revoking(inTransaction(this.dataSource, async (manager) => {
      const revoked = await deleteKeysById(manager, [...ids]);
      if (revoked.length) {
        await this.revocations.bump(manager);
        await this.audit.record({ action: AuditAction.API_KEYS_REVOKED, actor, keyId: revoked.length === 1 ? revoked[0] : null, detail: `revoked ${revoked.length} key(s): ${describeIds(revoked)}` }, manager);
      }
      return revoked.length;
    }));
  }

  async revokeAll(actor: AuditActor): Promise<number> {
    return this.revoking(inTransaction(this.dataSource, async (manager) => {
      await this.revocations.bump(manager);
      const result = await manager.createQueryBuilder().delete().from(ApiKey).execute();
      const count = result.affected ?? 0;
      await this.audit.record({ action: AuditAction.ALL_API_KEYS_REVOKED, actor, detail: `revoked all ${count} key(s)` }, manager);
      return count;
    }));
  }

  /** Revokes every key matching the filter; a dry run only counts. */
  async revokeWhere(actor: AuditActor, filter: ApiKeyFilterInput, dryRun: boolean, now: Date = new Date()): Promise<number> {
    const where = filterConditions(filter, now);
    if (dryRun) {
      const [row] = await this.dataSource.query(`SELECT COUNT(*) AS total ${fromFiltered(where)}`, where.params);
      return Number(row.total);
    }
    return this.revoking(inTransaction(this.dataSource, async (manager) => {
      await this.revocations.bump(manager);
      const rows: Array<{ id: unknown }> = await manager.query(`SELECT k.id ${fromFiltered(where)}`, where.params);
      const revoked = await deleteKeysById(manager, rows.map((row) => Number(row.id)));
      await this.audit.record(
        { action: AuditAction.API_KEYS_REVOKED, actor, keyId: revoked.length === 1 ? revoked[0] : null, detail: `revoked ${revoked.length} key(s) matching ${JSON.stringify(filter)}: ${describeIds(revoked)}` },
        manager,
      );
      return revoked.length;
    }));
  }
}

async function insertKey(
  manager: EntityManager,
  { key, hash, hint }: GeneratedKey,
  fields: { ownerId: number; description: string | null; readOnly: boolean; expiresAt: Date | null; replacesKeyId: number | null; now: Date },
): Promise<{ key: string; id: number; hint: string; expiresAt: Date | null }> {
  const inserted = await manager.getRepository(ApiKey).insert({
    ownerId: fields.ownerId,
    keyHash: hash,
    hint,
    description: fields.description,
    createdAt: fields.now,
    expiresAt: fields.expiresAt,
    lastUsedAt: null,
    readOnly: fields.readOnly,
    replacesKeyId: fields.replacesKeyId,
  });
  return { key, id: Number(inserted.identifiers[0].id), hint, expiresAt: fields.expiresAt };
}

function fromFiltered(where: { conditions: string[] }): string {
  const needsOwner = where.conditions.some((condition) => condition.includes("u."));
  return `FROM api_keys k ${needsOwner ? "INNER JOIN users u ON u.id = k.owner_id" : ""} ${where.conditions.length ? `WHERE ${where.conditions.join(" AND ")}` : ""}`;
}

/** Deletes the keys that exist among `ids`, in bounded statements; returns the ids deleted. */
async function deleteKeysById(manager: EntityManager, ids: number[]): Promise<number[]> {
  const deleted: number[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + MAX_IDS_PER_STATEMENT);
    const placeholders = chunk.map(() => "?").join(", ");
    const existing: Array<{ id: unknown }> = await manager.query(`SELECT id FROM api_keys WHERE id IN (${placeholders})`, chunk);
    if (existing.length === 0) continue;
    const found = existing.map((row) => Number(row.id));
    await manager.query(`DELETE FROM api_keys WHERE id IN (${found.map(() => "?").join(", ")})`, found);
    deleted.push(...found);
  }
  return deleted.sort((a, b) => a - b);
}

export function normaliseDescription(raw: string | null | undefined): string | null {
  const description = raw?.trim() || null;
  // Counted in characters (code points), as MySQL counts VARCHAR(256).
  if (description && [...description].length > DESCRIPTION_MAX_LENGTH) {
    throw new BadUserInputError(`description must be at most ${DESCRIPTION_MAX_LENGTH} characters.`, "description");
  }
  return description;
}

type Row = Record<string, unknown>;

function hydrateKeyWithOwner(row: Row): ApiKey {
  const owner = hydrateJoinedUser(row);
  return Object.assign(new ApiKey(), {
    id: Number(row.id),
    ownerId: owner.id,
    owner,
    hint: String(row.hint),
    description: (row.description as string | null) ?? null,
    createdAt: fromSqlDateTime(row.created_at)!,
    expiresAt: fromSqlDateTime(row.expires_at),
    lastUsedAt: fromSqlDateTime(row.last_used_at),
    readOnly: fromSqlBoolean(row.read_only),
  });
}

function filterConditions(filter: ApiKeyFilterInput, now: Date): { conditions: string[]; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.ownerEmail != null) {
    conditions.push("u.email = ?");
    params.push(filter.ownerEmail.trim().toLowerCase());
  }
  if (filter.descriptionContains != null && filter.descriptionContains !== "") {
    conditions.push("LOWER(k.description) LIKE ? ESCAPE '!'");
    params.push(`%${filter.descriptionContains.toLowerCase().replace(/[!%_]/g, (c) => "!" + c)}%`);
  }
  if (filter.expired === true) {
    conditions.push("(k.expires_at IS NOT NULL AND k.expires_at <= ?)");
    params.push(toSqlDateTime(now));
  } else if (filter.expired === false) {
    conditions.push("(k.expires_at IS NULL OR k.expires_at > ?)");
    params.push(toSqlDateTime(now));
  }
  if (filter.unusedSince != null) {
    conditions.push("(k.last_used_at IS NULL OR k.last_used_at < ?)");
    params.push(toSqlDateTime(filter.unusedSince));
  }
  if (filter.createdBefore != null) {
    conditions.push("k.created_at < ?");
    params.push(toSqlDateTime(filter.createdBefore));
  }
  return { conditions, params };
}

function columnValue(key: ApiKey, column: OrderSpec["column"]): Date | null {
  return column === "created_at" ? key.createdAt : column === "last_used_at" ? key.lastUsedAt : key.expiresAt;
}

/** The rows strictly after the cursor, in an order whose NULLs come last. */
function keysetCondition(spec: OrderSpec, cursor: Cursor): { condition: string; params: unknown[] } {
  const column = `k.${spec.column}`;
  const beyond = spec.direction === "DESC" ? "<" : ">";
  if (cursor.value === null) {
    return { condition: `(${column} IS NULL AND k.id ${beyond} ?)`, params: [cursor.id] };
  }
  if (!spec.nullable) {
    // The leading `column <= ?` (or >=) is a plain range on the (column, id) index, so a page deep
    // in the chain is a range read; the OR form alone made SQLite scan and sort (270 ms at 1M keys).
    return {
      condition: `(${column} ${beyond}= ? AND (${column} ${beyond} ? OR k.id ${beyond} ?))`,
      params: [cursor.value, cursor.value, cursor.id],
    };
  }
  return {
    condition: `(${column} IS NULL OR ${column} ${beyond} ? OR (${column} = ? AND k.id ${beyond} ?))`,
    params: [cursor.value, cursor.value, cursor.id],
  };
}

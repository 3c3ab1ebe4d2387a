import { type DataSource, type EntityManager, IsNull } from "typeorm";
import type { GeneratedKey } from "../keys/api-key-format";
import type { KeyTags } from "../keys/key-tags";
import { DEFAULT_KEY_CAPS, type KeyCaps } from "../config/keys";
import { fromSqlBoolean, fromSqlDateTime, toSqlDateTime } from "../db/data-source";
import { ApiKey, DESCRIPTION_MAX_LENGTH } from "../entities/api-key.entity";
import { canonicalEmail } from "../entities/email";
import { expiryFor } from "../entities/external-tool-settings.entity";
import { API_KEYS_DISABLED_MESSAGE, BadUserInputError, ForbiddenError, NotFoundError } from "../errors";
import { decodeCursor, encodeCursor, pageSize } from "./cursor";
import {
  ApiKeyOrder,
  type ApiKeyFilterInput,
  indexHint,
  type ListPlan,
  listCursorTag,
  listFingerprint,
  matchConditions,
  MAX_ROWS_EXAMINED_PER_PAGE,
  type NormalisedFilter,
  normaliseFilter,
  ORDER_SPECS,
  orderClause,
  planCount,
  planList,
  type Position,
  type Sql,
  seek,
  segmentsFrom,
} from "./api-key-listing";

export { ApiKeyOrder, type ApiKeyFilterInput } from "./api-key-listing";
import { inTransaction } from "../db/transactions";
import { hydrateJoinedUser, JOINED_USER_COLUMNS } from "../db/user-columns";
import { AuditAction, type AuditActor, type AuditDetails } from "../entities/audit-event.entity";
import { type AuditService, describeIds, firstIds } from "./audit.service";
import { CountCache, type CountSnapshot } from "./count-cache";
import type { IdempotencyService } from "./idempotency.service";
import { parseId } from "./ids";
import type { RevocationEpoch } from "../keys/revocation-epoch";
import { filterText, refuseUnsafeProseCharacters } from "./user-text";
import type { SettingsService } from "./settings.service";

export interface ApiKeyPage {
  nodes: ApiKey[];
  hasNextPage: boolean;
  endCursor: string | null;
  /** Counted only if the client asks for totalCount. */
  countTotal: () => Promise<number>;
}

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;
const MAX_IDS_PER_STATEMENT = 500;

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
  /** The key lists' bound on rows examined per segment of a page (tests lower it to reach it with few keys). */
  readonly listing = { maxRowsExamined: MAX_ROWS_EXAMINED_PER_PAGE };

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: SettingsService,
    private readonly audit: AuditService,
    private readonly idempotency: IdempotencyService,
    /** Revoking writes bump it in their transaction and wait for every instance's key cache. */
    private readonly revocations: Pick<RevocationEpoch, "bump" | "settled">,
    /** Makes the keys: they carry this server's tag. */
    private readonly keyTags: Pick<KeyTags, "issue">,
    private readonly caps: KeyCaps = DEFAULT_KEY_CAPS,
    /** totalCount memo; cleared by every key write below. */
    readonly counts: CountCache<Sql> = new CountCache<Sql>(),
  ) {}

  /** Unexpired keys, every owner's (the metrics gauge). */
  async countActive(now = new Date()): Promise<number> {
    const [row] = await this.dataSource.query("SELECT COUNT(*) AS total FROM api_keys WHERE expires_at IS NULL OR expires_at > ?", [toSqlDateTime(now)]);
    return Number(row.total);
  }

  /**
   * Every write to api_keys goes through here: it tallies, in its transaction, what it changes in
   * each cached count, so no cached count outlives it on this instance and none is counted again.
   */
  private async changingKeys<T>(write: (tally: CountTally) => Promise<T>): Promise<T> {
    const tally = new CountTally(this.counts);
    let result: T;
    try {
      result = await write(tally);
    } catch (error) {
      this.counts.clear();
      throw error;
    }
    tally.applyTo(this.counts);
    return result;
  }

  /**
   * A write that ends or shortens a key's life (its transaction calls revocations.bump): it returns
   * only once no instance can still authenticate the key from its cache.
   */
  private async revoking<T>(write: (tally: CountTally) => Promise<T>): Promise<T> {
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
    const { result, replayed } = await this.changingKeys((tally) => this.idempotency.run(
      { userId: actor.userId, operation: "generateApiKey", idempotencyKey: input.idempotencyKey, args: { description, readOnly } },
      async (manager) => {
        const settings = await this.settings.get(manager);
        if (!settings.apiKeysEnabled) throw new ForbiddenError("API_KEYS_DISABLED", API_KEYS_DISABLED_MESSAGE);
        await this.assertBelowKeyCap(manager, actor, now);
        const created = await insertKey(manager, fresh, { ownerId: actor.userId, description, readOnly, expiresAt: expiryFor(settings.apiKeyExpiration, now), replacesKeyId: null, now });
        await tally.after(manager, [created.id]);
        await this.audit.record(
          {
            action: AuditAction.API_KEY_GENERATED,
            actor,
            keyId: created.id,
            at: now,
            detail: `${readOnly ? "read-only " : ""}key ${created.hint}${created.expiresAt ? `, expires ${created.expiresAt.toISOString()}` : ", never expires"}`,
            details: { keyId: created.id, hint: created.hint, ownerId: actor.userId, readOnly, expiresAt: created.expiresAt?.toISOString() ?? null },
          },
          manager,
        );
        // Read inside the transaction: a revocation committed right after must not turn a
        // successful generation into an error for the caller.
        made = await this.getWithOwner(created.id, manager);
        return { key: created.key, id: created.id };
      },
      now,
    ).then(tally.forgetIfReplayed));
    return { key: result.key, apiKey: replayed || !made ? await this.getWithOwner(result.id) : made };
  }

  /**
   * One user cannot fill the database (and every listing of theirs) with keys. Concurrent
   * generations for one user queue on the user's row (MariaDB) or on the single writer (SQLite,
   * see inTransaction), so the count below cannot be raced past the cap.
   */
  private async assertBelowKeyCap(manager: EntityManager, actor: KeyActor, now: Date): Promise<void> {
    const cap = actor.isAdmin ? this.caps.perAdmin : this.caps.perUser;
    const mysql = manager.connection.options.type === "mysql";
    if (mysql) await manager.query("SELECT id FROM users WHERE id = ? FOR UPDATE", [actor.userId]);
    // A locking read on MariaDB: a plain one would count from the transaction's snapshot, taken
    // before the lock was granted, and miss the keys the transactions it waited for committed.
    const [row] = await manager.query(
      `SELECT COUNT(*) AS active FROM api_keys WHERE owner_id = ? AND (expires_at IS NULL OR expires_at > ?)${mysql ? " FOR UPDATE" : ""}`,
      [actor.userId, toSqlDateTime(now)],
    );
    if (Number(row.active) >= cap) {
      throw new BadUserInputError(`You already have ${cap} unexpired API keys, the most allowed. Delete keys you no longer use, then generate a new one.`);
    }
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
    const { result, replayed } = await this.revoking((tally) => this.idempotency.run(
      { userId: actor.userId, operation: "rotateApiKey", idempotencyKey: input.idempotencyKey, args: { id: oldId, overlapSeconds } },
      async (manager) => {
        const old = await lockKeyForRotation(manager, oldId);
        // Another user's key is NOT_FOUND to non-admins: existence is not revealed.
        if (!old || (old.ownerId !== actor.userId && !actor.isAdmin)) throw new NotFoundError("No API key with this id.");
        // An expired key stays refused: rotating it would bring it back as a working key.
        if (old.expiresAt && old.expiresAt <= now) throw new BadUserInputError("This API key has expired and cannot be rotated. Generate a new key.", "id");
        // A key in its overlap already has a successor; a second one would outlive the first.
        if (old.replacedByKeyId !== null) throw new BadUserInputError("This API key was already rotated. Rotate its successor instead.", "id");
        const settings = await this.settings.get(manager);
        if (!settings.apiKeysEnabled) throw new ForbiddenError("API_KEYS_DISABLED", API_KEYS_DISABLED_MESSAGE);
        await tally.before(manager, [old.id]);
        const created = await insertKey(manager, fresh, {
          ownerId: old.ownerId,
          description: old.description,
          readOnly: old.readOnly,
          expiresAt: expiryFor(settings.apiKeyExpiration, now),
          replacesKeyId: overlapSeconds > 0 ? old.id : null,
          now,
        });
        let oldKeyFate: string;
        let oldKeyRetiresAt: Date | null = null;
        await this.revocations.bump(manager);
        // Conditional on the row still being the one checked above, and counted: of concurrent
        // rotations of one key exactly one changes it; the others roll their new key back.
        if (overlapSeconds === 0) {
          const deleted = await manager.getRepository(ApiKey).delete({ id: old.id, replacedByKeyId: IsNull() });
          if (deleted.affected !== 1) throw new NotFoundError("No API key with this id.");
          oldKeyFate = "old key revoked at once";
        } else {
          const overlapEnd = new Date(now.getTime() + overlapSeconds * 1000);
          const retireAt = old.expiresAt && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd;
          const updated = await manager.getRepository(ApiKey).update({ id: old.id, replacedByKeyId: IsNull() }, { expiresAt: retireAt, replacedByKeyId: created.id });
          if (updated.affected !== 1) throw new BadUserInputError("This API key was already rotated. Rotate its successor instead.", "id");
          oldKeyFate = `old key works until ${retireAt.toISOString()} or the new key's first use`;
          oldKeyRetiresAt = retireAt;
        }
        await tally.after(manager, [old.id, created.id]);
        await this.audit.record(
          {
            action: AuditAction.API_KEY_ROTATED,
            actor,
            keyId: created.id,
            at: now,
            detail: `key ${old.id} (${old.hint}) replaced by key ${created.id} (${created.hint}); ${oldKeyFate}`,
            details: { oldKeyId: old.id, oldHint: old.hint, newKeyId: created.id, newHint: created.hint, ownerId: old.ownerId, overlapSeconds, oldKeyRetiresAt: oldKeyRetiresAt?.toISOString() ?? null },
          },
          manager,
        );
        // Read inside the transaction: a revocation committed right after must not turn a
        // successful generation into an error for the caller.
        made = await this.getWithOwner(created.id, manager);
        return { key: created.key, id: created.id };
      },
      now,
    ).then(tally.forgetIfReplayed));
    return { key: result.key, apiKey: replayed || !made ? await this.getWithOwner(result.id) : made };
  }

  /** Called on a rotated key's first use: the key it replaced stops working now. */
  async retirePredecessor(successor: { keyId: number; userId: number; email: string }, predecessorId: number): Promise<void> {
    await this.revoking((tally) => inTransaction(this.dataSource, async (manager) => {
      await this.revocations.bump(manager);
      await tally.before(manager, [predecessorId]);
      const retired = await manager.getRepository(ApiKey).delete({ id: predecessorId, ownerId: successor.userId });
      await manager.getRepository(ApiKey).update({ id: successor.keyId }, { replacesKeyId: null });
      if (retired.affected) {
        await this.audit.record(
          {
            action: AuditAction.ROTATED_KEY_RETIRED,
            actor: { userId: successor.userId, email: successor.email, ip: null },
            keyId: predecessorId,
            detail: `first use of key ${successor.keyId} ended the rotation overlap`,
            details: { keyId: predecessorId, successorKeyId: successor.keyId },
          },
          manager,
        );
      }
    }));
  }

  /** Whether a rotation replaced this key and the new key has not been used yet (only then is the old one kept). */
  async hasSuccessor(keyId: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query("SELECT id FROM api_keys WHERE replaces_key_id = ? LIMIT 1", [keyId]);
    return rows.length > 0;
  }

  /** One page of the owner's keys, newest first, expired ones included. */
  listForOwner(ownerId: number, page: { first?: number | null; after?: string | null } = {}, now: Date = new Date()): Promise<ApiKeyPage> {
    return this.list({ ...page, orderBy: ApiKeyOrder.CREATED_AT_DESC }, now, ownerId);
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
      (await this.revoking((tally) => inTransaction(this.dataSource, async (manager) => {
        await tally.before(manager, [id], actor.userId);
        const result = await manager.getRepository(ApiKey).delete({ id, ownerId: actor.userId });
        if (!result.affected) return false;
        await this.revocations.bump(manager);
        await this.audit.record({ action: AuditAction.API_KEY_DELETED, actor, keyId: id, detail: "deleted by its owner", details: { keyId: id, ownerId: actor.userId } }, manager);
        return true;
      })));
    if (!deleted) throw new NotFoundError("No API key with this id.");
  }

  /**
   * One page of a key list: `ownerId` for one user's keys (myApiKeys); the admin listing passes
   * none. Every order and filter reads one index range (src/services/api-key-listing.ts).
   */
  async list(
    args: { filter?: ApiKeyFilterInput | null; orderBy?: ApiKeyOrder | null; first?: number | null; after?: string | null },
    now: Date = new Date(),
    ownerId?: number,
  ): Promise<ApiKeyPage> {
    const orderBy = args.orderBy ?? ApiKeyOrder.CREATED_AT_DESC;
    const first = pageSize(args.first, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const spec = ORDER_SPECS[orderBy];
    const filter = normaliseFilter(args.filter ?? {});
    const fingerprint = listFingerprint(filter, ownerId);
    const tag = listCursorTag(orderBy, fingerprint);
    const from = args.after ? decodeCursor(args.after, tag, { nullValue: spec.nullable }) : null;
    let owner = ownerId ?? null;
    if (filter.ownerEmail !== null) {
      const found = await this.userIdByEmail(filter.ownerEmail);
      // No such user: no keys, and nothing to count.
      if (found === null || (owner !== null && owner !== found)) return { nodes: [], hasNextPage: false, endCursor: null, countTotal: async () => 0 };
      owner = found;
    }
    const plan = planList(spec, filter, owner, now);
    const { rows, stoppedAt } = await this.readPage(plan, from, first);
    const nodes = rows.slice(0, first).map(hydrateKeyWithOwner);
    const last = rows.length > first || !stoppedAt ? rows[nodes.length - 1] : undefined;
    const end: Position | null = last ? positionOf(last, spec.column) : stoppedAt;
    return {
      nodes,
      hasNextPage: rows.length > first || stoppedAt !== null,
      endCursor: end ? encodeCursor(tag, end.value, end.id) : null,
      // The conditions go with the count: a write tallies its keys under them (CountTally).
      countTotal: () => this.counts.get(fingerprint, () => this.countMatching(filter, owner, now), matchConditions(filter, owner, now)),
    };
  }

  /** Keys matching the filter, summed over the segments of the filtered column's index. */
  private async countMatching(filter: NormalisedFilter, ownerId: number | null, now: Date): Promise<number> {
    const plan = planCount(filter, ownerId, now);
    const hint = indexHint(plan, this.dataSource.options.type === "mysql");
    let total = 0;
    for (const segment of plan.segments) {
      const range = seek(plan, segment, null);
      const where = { conditions: [...range.conditions, ...plan.residual.conditions], params: [...range.params, ...plan.residual.params] };
      const [row] = await this.dataSource.query(
        // No range (no filter, or descriptionContains alone): every row counts or is checked, so the
        // database picks its cheapest read (its smallest index, or the table).
        `SELECT COUNT(*) AS total FROM api_keys k ${range.conditions.length ? hint : ""} ${where.conditions.length ? `WHERE ${where.conditions.join(" AND ")}` : ""}`,
        where.params,
      );
      total += Number(row.total);
    }
    return total;
  }

  private async userIdByEmail(email: string): Promise<number | null> {
    const rows: Array<{ id: unknown }> = await this.dataSource.query("SELECT id FROM users WHERE email = ?", [email]);
    return rows[0] ? Number(rows[0].id) : null;
  }

  /**
   * Up to first + 1 rows after `from`, segment by segment. With conditions the index cannot serve,
   * each segment first finds the row `listing.maxRowsExamined` rows on (an index-only read) and
   * reads no further: if the page is not full by then, the scan stops there (`stoppedAt`).
   */
  private async readPage(plan: ListPlan, from: Position | null, first: number): Promise<{ rows: Row[]; stoppedAt: Position | null }> {
    const hint = indexHint(plan, this.dataSource.options.type === "mysql");
    const rows: Row[] = [];
    const where = (sql: Sql) => (sql.conditions.length ? `WHERE ${sql.conditions.join(" AND ")}` : "");
    for (const segment of segmentsFrom(plan, from)) {
      const order = orderClause(plan, segment);
      let through: Position | null = null;
      if (plan.residual.conditions.length) {
        const range = seek(plan, segment, from);
        const horizon: Row[] = await this.dataSource.query(
          `SELECT k.${plan.spec.column} AS ${plan.spec.column}, k.id AS id FROM api_keys k ${hint} ${where(range)} ORDER BY ${order} LIMIT 1 OFFSET ${this.listing.maxRowsExamined - 1}`,
          range.params,
        );
        through = horizon[0] ? positionOf(horizon[0], plan.spec.column) : null;
      }
      const range = seek(plan, segment, from, through);
      const conditions = { conditions: [...range.conditions, ...plan.residual.conditions], params: [...range.params, ...plan.residual.params] };
      // LEFT JOIN (every key has an owner: NOT NULL + foreign key, so the rows are the same) keeps
      // api_keys the driving table, read in the index's order.
      const found: Row[] = await this.dataSource.query(
        `SELECT ${KEY_WITH_OWNER_COLUMNS} FROM api_keys k ${hint} LEFT JOIN users u ON u.id = k.owner_id ${where(conditions)} ORDER BY ${order} LIMIT ?`,
        [...conditions.params, first + 1 - rows.length],
      );
      rows.push(...found);
      if (rows.length > first) return { rows, stoppedAt: null };
      if (through) return { rows, stoppedAt: through };
    }
    return { rows, stoppedAt: null };
  }

  /** All or nothing: one transaction, so a failure half-way revokes none. */
  async revoke(actor: AuditActor, rawIds: string[]): Promise<number> {
    const ids = new Set<number>();
    const invalid: number[] = [];
    rawIds.forEach((raw, position) => {
      const id = parseId(raw);
      if (id === null) invalid.push(position);
      else ids.add(id);
    });
    // Positions, not the values: an error never echoes what was submitted.
    if (invalid.length) throw new BadUserInputError(`Not API key ids: the ids at positions ${invalid.slice(0, 5).join(", ")}${invalid.length > 5 ? ", …" : ""} (counting from 0).`, "ids");
    if (ids.size === 0) return 0;
    return this.revoking((tally) => inTransaction(this.dataSource, async (manager) => {
      await tally.before(manager, [...ids]);
      const revoked = await deleteKeysById(manager, [...ids]);
      if (revoked.length) {
        await this.revocations.bump(manager);
        await this.audit.record(
          { action: AuditAction.API_KEYS_REVOKED, actor, keyId: revoked.length === 1 ? revoked[0] : null, detail: `revoked ${revoked.length} key(s): ${describeIds(revoked)}`, details: { count: revoked.length, keyIds: firstIds(revoked) } },
          manager,
        );
      }
      return revoked.length;
    }));
  }

  async revokeAll(actor: AuditActor): Promise<number> {
    return this.revoking((tally) => inTransaction(this.dataSource, async (manager) => {
      await this.revocations.bump(manager);
      const result = await manager.createQueryBuilder().delete().from(ApiKey).execute();
      tally.emptied();
      const count = result.affected ?? 0;
      await this.audit.record({ action: AuditAction.ALL_API_KEYS_REVOKED, actor, detail: `revoked all ${count} key(s)`, details: { count } }, manager);
      return count;
    }));
  }

  /**
   * Revokes every key matching the filter; a dry run only counts (apiKeys(filter:) lists them). A
   * filter that names nothing matches every key: that real run needs `all`, so a forgotten filter
   * cannot revoke every key on the server.
   */
  async revokeWhere(actor: AuditActor, filter: ApiKeyFilterInput, dryRun: boolean, now: Date = new Date(), options: { all?: boolean | null } = {}): Promise<number> {
    if (dryRun) {
      // As the grid counts: the owner resolved first, then index ranges.
      const normalised = normaliseFilter(filter);
      const ownerId = normalised.ownerEmail === null ? null : await this.userIdByEmail(normalised.ownerEmail);
      return normalised.ownerEmail !== null && ownerId === null ? 0 : this.countMatching(normalised, ownerId, now);
    }
    const where = filterConditions(filter, now);
    if (where.conditions.length === 0 && options.all !== true) {
      throw new BadUserInputError("The filter is empty, so it matches every key: pass all: true to revoke them all (or use revokeAllApiKeys), or name what to revoke.", "filter");
    }
    return this.revoking((tally) => inTransaction(this.dataSource, async (manager) => {
      await this.revocations.bump(manager);
      const rows: Array<{ id: unknown }> = await manager.query(`SELECT k.id ${fromFiltered(where)}`, where.params);
      await tally.before(manager, rows.map((row) => Number(row.id)));
      const revoked = await deleteKeysById(manager, rows.map((row) => Number(row.id)));
      await this.audit.record(
        {
          action: AuditAction.API_KEYS_REVOKED,
          actor,
          keyId: revoked.length === 1 ? revoked[0] : null,
          detail: `revoked ${revoked.length} key(s) matching ${JSON.stringify(filter)}: ${describeIds(revoked)}`,
          details: { count: revoked.length, filter: filterDetails(filter), keyIds: firstIds(revoked) },
        },
        manager,
      );
      return revoked.length;
    }));
  }
}

/**
 * The key to rotate, read with a row lock on MySQL/MariaDB: a concurrent rotation of the same key
 * waits here until this one commits and then reads the key as it left it (gone, or replaced).
 * SQLite runs one write transaction at a time (inTransaction), so it needs no lock.
 */
async function lockKeyForRotation(manager: EntityManager, id: number): Promise<Pick<ApiKey, "id" | "ownerId" | "hint" | "description" | "readOnly" | "expiresAt" | "replacedByKeyId"> | null> {
  const lock = manager.connection.options.type === "better-sqlite3" ? "" : " FOR UPDATE";
  const rows: Row[] = await manager.query(`SELECT id, owner_id, hint, description, read_only, expires_at, replaced_by_key_id FROM api_keys WHERE id = ?${lock}`, [id]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: Number(row.id),
    ownerId: Number(row.owner_id),
    hint: String(row.hint),
    description: (row.description as string | null) ?? null,
    readOnly: fromSqlBoolean(row.read_only),
    expiresAt: fromSqlDateTime(row.expires_at),
    replacedByKeyId: row.replaced_by_key_id === null || row.replaced_by_key_id === undefined ? null : Number(row.replaced_by_key_id),
  };
}

/** The filter as the audit trail's details hold it: only what was given, dates as ISO text. */
function filterDetails(filter: ApiKeyFilterInput): AuditDetails {
  const details: AuditDetails = {};
  for (const [name, value] of Object.entries(filter)) {
    if (value !== null && value !== undefined) details[name] = value instanceof Date ? value.toISOString() : (value as string | boolean);
  }
  return details;
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
  if (description) refuseUnsafeProseCharacters(description, "description");
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
    params.push(canonicalEmail(filterText(filter.ownerEmail, "ownerEmail")));
  }
  if (filter.descriptionContains != null && filter.descriptionContains !== "") {
    // '!' escapes the wildcards and itself, so the text matches only as itself on both databases.
    conditions.push("LOWER(k.description) LIKE ? ESCAPE '!'");
    params.push(`%${filterText(filter.descriptionContains, "descriptionContains").toLowerCase().replace(/[!%_]/g, (c) => "!" + c)}%`);
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

function positionOf(row: Row, column: ListPlan["spec"]["column"]): Position {
  const value = fromSqlDateTime(row[column]);
  return { value: value ? toSqlDateTime(value) : null, id: Number(row.id) };
}

/** Keys at most a write tallies exactly in the cached counts; a larger write clears them instead. */
const MAX_TALLIED_KEYS = 5000;

/**
 * What one write changes in each cached count: before it changes keys, the keys it will change
 * are counted under each count's own conditions (`before`), and after it, again (`after`); both
 * inside its transaction, by id (a bounded primary-key read). Applied only once the write committed.
 */
class CountTally {
  private readonly snapshot: CountSnapshot<Sql>;
  private readonly deltas: number[];
  private exact = true;
  /** The transaction the deltas were measured in. */
  private measuredIn: EntityManager | null = null;

  constructor(counts: CountCache<Sql>) {
    this.snapshot = counts.snapshot();
    this.deltas = this.snapshot.items.map(() => 0);
  }

  /** `ownerId`: only that owner's keys among `ids` will change. */
  before(manager: EntityManager, ids: number[], ownerId?: number): Promise<void> {
    return this.measure(manager, ids, -1, ownerId);
  }

  after(manager: EntityManager, ids: number[]): Promise<void> {
    return this.measure(manager, ids, 1);
  }

  /**
   * An idempotent write answered from its stored result changed no key. A try of it may have
   * tallied before it was rolled back (a deadlock), and the retry found the result another request
   * had stored meanwhile.
   */
  readonly forgetIfReplayed = <T extends { replayed: boolean }>(outcome: T): T => {
    if (outcome.replayed) this.forget();
    return outcome;
  };

  private forget(): void {
    this.deltas.fill(0);
    this.exact = true;
  }

  /** Every key was deleted. */
  emptied(): void {
    this.snapshot.items.forEach((item, index) => {
      this.deltas[index] = -item.settled;
    });
  }

  applyTo(counts: CountCache<Sql>): void {
    if (this.exact) counts.apply(this.snapshot, this.deltas);
    else counts.clear();
  }

  private async measure(manager: EntityManager, ids: number[], sign: 1 | -1, ownerId?: number): Promise<void> {
    if (manager !== this.measuredIn) {
      // A new transaction: the write runs again after a deadlock (inTransaction), and what the
      // rolled-back try tallied must not be counted twice.
      this.measuredIn = manager;
      this.forget();
    }
    if (!this.exact || ids.length === 0 || this.snapshot.items.length === 0) return;
    if (ids.length > MAX_TALLIED_KEYS || this.snapshot.items.some((item) => item.scope === undefined)) {
      this.exact = false;
      return;
    }
    for (const [index, item] of this.snapshot.items.entries()) {
      const scope = item.scope!;
      const owned = ownerId === undefined ? [] : ["k.owner_id = ?"];
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_STATEMENT) {
        const chunk = ids.slice(i, i + MAX_IDS_PER_STATEMENT);
        const [row] = await manager.query(
          `SELECT COUNT(*) AS n FROM api_keys k WHERE k.id IN (${chunk.map(() => "?").join(", ")})${[...owned, ...scope.conditions].map((condition) => ` AND ${condition}`).join("")}`,
          [...chunk, ...(ownerId === undefined ? [] : [ownerId]), ...scope.params],
        );
        this.deltas[index] += sign * Number(row.n);
      }
    }
  }
}

import type { DataSource, EntityManager } from "typeorm";
import { generateApiKey } from "../auth/api-key-format";
import { fromSqlBoolean, fromSqlDateTime, toSqlDateTime } from "../db/data-source";
import { ApiKey, DESCRIPTION_MAX_LENGTH } from "../entities/api-key.entity";
import { expiryFor } from "../entities/external-tool-settings.entity";
import { User } from "../entities/user.entity";
import { API_KEYS_DISABLED_MESSAGE, BadUserInputError, ForbiddenError, NotFoundError } from "../errors";
import { CountCache } from "./count-cache";
import { parseId } from "./ids";
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

const KEY_WITH_OWNER_COLUMNS = `k.id, k.owner_id, k.hint, k.description, k.created_at, k.expires_at, k.last_used_at, k.read_only,
  u.email AS u_email, u.display_name AS u_display_name, u.is_admin AS u_is_admin, u.active AS u_active, u.created_at AS u_created_at`;

export class ApiKeyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: SettingsService,
    /** totalCount memo; cleared by every key write below. */
    readonly counts: CountCache = new CountCache(),
  ) {}

  async generate(ownerId: number, input: { description?: string | null; readOnly?: boolean | null }, now: Date = new Date()) {
    const description = normaliseDescription(input.description);
    const settings = await this.settings.get();
    if (!settings.apiKeysEnabled) throw new ForbiddenError(API_KEYS_DISABLED_MESSAGE);
    const owner = await this.dataSource.getRepository(User).findOneBy({ id: ownerId });
    if (!owner) throw new NotFoundError("No user with this id.");

    const { key, hash, hint } = generateApiKey();
    const repository = this.dataSource.getRepository(ApiKey);
    const apiKey = await repository.save(
      repository.create({
        ownerId,
        keyHash: hash,
        hint,
        description,
        createdAt: now,
        expiresAt: expiryFor(settings.apiKeyExpiration, now),
        lastUsedAt: null,
        readOnly: input.readOnly ?? false,
      }),
    );
    this.counts.clear();
    apiKey.owner = owner;
    return { key, apiKey };
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

  /** Another user's key id is NOT_FOUND too: existence is not revealed. */
  async deleteOwn(ownerId: number, rawId: string): Promise<void> {
    const id = parseId(rawId);
    const result = id === null ? null : await this.dataSource.getRepository(ApiKey).delete({ id, ownerId });
    this.counts.clear();
    if (!result?.affected) throw new NotFoundError("No API key with this id.");
  }

  async list(args: { filter?: ApiKeyFilterInput | null; orderBy?: ApiKeyOrder | null; first?: number | null; after?: string | null }, now: Date = new Date()): Promise<ApiKeyPage> {
    const orderBy = args.orderBy ?? ApiKeyOrder.CREATED_AT_DESC;
    const first = args.first ?? 50;
    if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
      throw new BadUserInputError(`first must be between 0 and ${MAX_PAGE_SIZE}.`, "first");
    }
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
      countTotal: () => {
        const needsOwner = where.conditions.some((condition) => condition.includes("u."));
        return this.counts.get(JSON.stringify([where.conditions, where.params]), async () => {
          const [row] = await this.dataSource.query(
            `SELECT COUNT(*) AS total FROM api_keys k ${needsOwner ? "INNER JOIN users u ON u.id = k.owner_id" : ""}
             ${where.conditions.length ? `WHERE ${where.conditions.join(" AND ")}` : ""}`,
            where.params,
          );
          return Number(row.total);
        });
      },
    };
  }

  /** All or nothing: one transaction, so a failure half-way revokes none. */
  async revoke(rawIds: string[]): Promise<number> {
    const ids = new Set<number>();
    const invalid: string[] = [];
    for (const raw of rawIds) {
      const id = parseId(raw);
      if (id === null) invalid.push(raw);
      else ids.add(id);
    }
    if (invalid.length) throw new BadUserInputError(`Not API key ids: ${invalid.slice(0, 5).map((id) => JSON.stringify(id)).join(", ")}${invalid.length > 5 ? ", …" : ""}`, "ids");
    if (ids.size === 0) return 0;
    try {
      return await this.dataSource.transaction(async (manager) => {
        let revoked = 0;
        const all = [...ids];
        for (let i = 0; i < all.length; i += MAX_IDS_PER_STATEMENT) {
          revoked += await deleteKeys(manager, all.slice(i, i + MAX_IDS_PER_STATEMENT));
        }
        return revoked;
      });
    } finally {
      this.counts.clear();
    }
  }

  async revokeAll(): Promise<number> {
    try {
      return await this.dataSource.transaction((manager) => deleteKeys(manager, null));
    } finally {
      this.counts.clear();
    }
  }
}

async function deleteKeys(manager: EntityManager, ids: number[] | null): Promise<number> {
  const query = manager.createQueryBuilder().delete().from(ApiKey);
  if (ids) query.whereInIds(ids);
  const result = await query.execute();
  return result.affected ?? 0;
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
  const owner = Object.assign(new User(), {
    id: Number(row.owner_id),
    email: String(row.u_email),
    displayName: (row.u_display_name as string | null) ?? null,
    isAdmin: fromSqlBoolean(row.u_is_admin),
    active: fromSqlBoolean(row.u_active),
    createdAt: fromSqlDateTime(row.u_created_at)!,
  });
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

interface Cursor {
  value: string | null;
  id: number;
}

function columnValue(key: ApiKey, column: OrderSpec["column"]): Date | null {
  return column === "created_at" ? key.createdAt : column === "last_used_at" ? key.lastUsedAt : key.expiresAt;
}

function encodeCursor(orderBy: ApiKeyOrder, value: Date | null, id: number): string {
  return Buffer.from(JSON.stringify([orderBy, value ? toSqlDateTime(value) : null, id])).toString("base64url");
}

function decodeCursor(raw: string, orderBy: ApiKeyOrder): Cursor {
  const invalid = () => new BadUserInputError("after is not a cursor of this list and order.", "after");
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw invalid();
  const [order, value, id] = decoded;
  if (order !== orderBy || !Number.isSafeInteger(id) || id < 1) throw invalid();
  if (value !== null && (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/.test(value))) throw invalid();
  return { value, id };
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

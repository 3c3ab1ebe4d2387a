import { performance } from "node:perf_hooks";
import type { DataSource, EntityManager } from "typeorm";
import { generateApiKey, type GeneratedKey, hasValidTag, type ParsedKey } from "./api-key-format";

const TAG_SECRET_SQL = "SELECT secret FROM key_tag_secret WHERE id = 1";
const UNTAGGED_KEY_SQL = "SELECT id FROM api_keys WHERE tagged = 0 LIMIT 1";
/** While keys from before tags exist, how often to check whether the last of them is gone. */
export const UNTAGGED_RECHECK_MS = 30_000;

type Queryable = Pick<DataSource | EntityManager, "query">;

/** The server's key-tag secret, as a migration stored it: one row, 32 random bytes in hex. */
export async function readTagSecret(db: Queryable): Promise<Buffer> {
  const rows: Array<{ secret: unknown }> = await db.query(TAG_SECRET_SQL);
  const hex = rows[0] ? String(rows[0].secret) : "";
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error("key_tag_secret holds no 32-byte secret: run the migrations");
  return Buffer.from(hex, "hex");
}

/**
 * Which keys this server may have issued, decided in memory (src/keys/api-key-format.ts has the
 * layout). The secret lives in the database, made by a migration, so every instance shares it
 * and there is nothing to configure; whoever can read the database could forge tags, but a
 * forged tag only buys one indexed lookup, the cost every key had before tags.
 * Keys issued before tags carry none: while any is stored (`api_keys.tagged = 0`), an untagged
 * key is looked up as before. Once the last is gone, untagged keys are refused without SQL. No
 * untagged key is ever made again, so that answer only changes one way; it is re-read at most
 * every UNTAGGED_RECHECK_MS, and only while it is still "some exist".
 */
export class KeyTags {
  private secret: Buffer | null = null;
  private loading: Promise<Buffer> | null = null;
  private untaggedKeysExist = true;
  private untaggedCheckedAt = Number.NEGATIVE_INFINITY;
  private untaggedCheck: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly onCheckError: (error: unknown) => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Reads the secret and the untagged-key check once; later calls share that read. */
  load(): Promise<Buffer> {
    this.loading ??= (async () => {
      const secret = await readTagSecret(this.dataSource);
      await this.checkUntagged();
      this.secret = secret;
      return secret;
    })().catch((error: unknown) => {
      this.loading = null; // a database that was away is asked again next time
      throw error;
    });
    return this.loading;
  }

  async issue(): Promise<GeneratedKey> {
    return generateApiKey(this.secret ?? (await this.load()));
  }

  /**
   * False only for a key this server cannot have issued: a tagged key whose tag is wrong, or an
   * untagged key once none is stored. Synchronous once loaded.
   */
  mayHaveIssued(parsed: Extract<ParsedKey, { ok: true }>): boolean | Promise<boolean> {
    if (!this.secret) return this.load().then(() => this.mayHaveIssued(parsed));
    if (parsed.tagged) return hasValidTag(parsed.key, this.secret);
    if (this.untaggedKeysExist && this.now() - this.untaggedCheckedAt >= UNTAGGED_RECHECK_MS) {
      void this.checkUntagged().catch(this.onCheckError);
    }
    return this.untaggedKeysExist;
  }

  private checkUntagged(): Promise<void> {
    this.untaggedCheck ??= (async () => {
      try {
        const rows: unknown[] = await this.dataSource.query(UNTAGGED_KEY_SQL);
        this.untaggedKeysExist = rows.length > 0;
        this.untaggedCheckedAt = this.now();
      } finally {
        this.untaggedCheck = null;
      }
    })();
    return this.untaggedCheck;
  }
}

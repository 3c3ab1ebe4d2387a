import { createHash, randomBytes } from "node:crypto";
import { toSqlDateTime } from "../../src/db/data-source";
import { createServices } from "../../src/services";
import { IDEMPOTENCY_WINDOW_MS } from "../../src/services/idempotency.service";
import { PurgeJob } from "../../src/services/purge-job";
import { basic, startTestApp, type TestApp, type TestUser } from "../support/app";

const GENERATE = "mutation($idempotencyKey: String) { generateApiKey(idempotencyKey: $idempotencyKey) { key apiKey { id } } }";
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("idempotent results: found only with the server's secret, gone after their window", () => {
  let app: TestApp;
  let alice: TestUser;
  const storedResults = async () => Number((await app.db.dataSource.query("SELECT COUNT(*) AS n FROM idempotent_results"))[0].n);
  const generate = async (idempotencyKey: string) => (await app.graphql(GENERATE, { idempotencyKey }, basic(alice.email, alice.password))).body.data.generateApiKey;
  const age = (ms: number) => app.db.dataSource.query("UPDATE idempotent_results SET created_at = ?", [toSqlDateTime(new Date(Date.now() - ms))]);

  beforeAll(async () => {
    app = await startTestApp();
    alice = await app.createUser("alice@example.org");
    await app.setKeysEnabled(true);
  });
  beforeEach(async () => {
    await app.db.dataSource.query("DELETE FROM idempotent_results");
  });
  afterAll(async () => {
    await app.close();
  });

  test("a retry within the window gets the first key back", async () => {
    const first = await generate("retry-me-0000000001");
    expect(await generate("retry-me-0000000001")).toEqual(first);
  });

  test("the purge timer's sweep deletes results past their window and keeps fresh ones", async () => {
    await generate("old-one-0000000001");
    await age(IDEMPOTENCY_WINDOW_MS + 1000);
    await generate("fresh-one-000000001");
    expect(await storedResults()).toBe(2);
    expect(await app.services.idempotency.purgeExpired()).toBe(1);
    expect(await storedResults()).toBe(1);
  });

  test("the purge job deletes results past their window too", async () => {
    await generate("old-two-0000000001");
    await age(IDEMPOTENCY_WINDOW_MS + 1000);
    await new PurgeJob(app.services.keyRetention, 3600_000, app.logger, app.services.idempotency).runOnce();
    expect(await storedResults()).toBe(0);
  });

  test("an idempotencyKey reused after its window makes a new key", async () => {
    const first = await generate("reused-later-000001");
    await age(IDEMPOTENCY_WINDOW_MS + 1000);
    const second = await generate("reused-later-000001");
    expect(second.key).not.toBe(first.key);
  });

  test("the stored lookup is no plain hash of the idempotencyKey", async () => {
    const idempotencyKey = "guessable-key-00001";
    await generate(idempotencyKey);
    const [row] = await app.db.dataSource.query("SELECT lookup_hash FROM idempotent_results");
    for (const plain of [idempotencyKey, `lookup\n${alice.id}\ngenerateApiKey\n${idempotencyKey}`, `${alice.id}\ngenerateApiKey\n${idempotencyKey}`]) {
      expect(row.lookup_hash).not.toBe(sha256(plain));
    }
  });

  test("under another server secret (a copy of the table elsewhere) the idempotencyKey finds nothing", async () => {
    const idempotencyKey = "copied-elsewhere-01";
    const first = await generate(idempotencyKey);
    const [original] = await app.db.dataSource.query("SELECT secret FROM key_tag_secret WHERE id = 1");
    await app.db.dataSource.query("UPDATE key_tag_secret SET secret = ? WHERE id = 1", [randomBytes(32).toString("hex")]);
    try {
      const elsewhere = createServices(app.db.dataSource, app.config, app.logger, { bcryptCost: 4 });
      const actor = { userId: alice.id, email: alice.email, ip: null, isAdmin: false };
      const result = await elsewhere.apiKeys.generate(actor, { idempotencyKey });
      app.secrets.add(result.key);
      expect(result.key).not.toBe(first.key);
    } finally {
      await app.db.dataSource.query("UPDATE key_tag_secret SET secret = ? WHERE id = 1", [original.secret]);
    }
  });
});

import "reflect-metadata";
import type { Logger } from "pino";
import { type Config, loadConfig } from "../../src/config";
import { createLogger } from "../../src/observability/logger";
import { createRuntime } from "../../src/runtime";
import type { Services } from "../../src/services";
import { createTestDatabase, type TestDatabase } from "./database";
import { captureLogs } from "./logs";

export interface Credentials {
  basic?: [username: string, password: string];
  apikey?: string;
  headers?: Record<string, string>;
}

export interface GraphQLResult<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: Array<{ message: string; extensions?: Record<string, any>; path?: string[] }> };
}

export interface TestUser {
  id: number;
  email: string;
  password: string;
}

export interface TestApp {
  url: string;
  port: number;
  db: TestDatabase;
  config: Config;
  services: Services;
  logger: Logger;
  /** Every log line written so far (JSON text). */
  logLines: string[];
  /** Every response body received, with the operation it answered. */
  responses: Array<{ query: string; body: string }>;
  /** Every secret a test created: generated keys and passwords. */
  secrets: Set<string>;
  graphql<T = any>(query: string, variables?: Record<string, unknown>, credentials?: Credentials): Promise<GraphQLResult<T>>;
  post(body: string, headers?: Record<string, string>, path?: string): Promise<{ status: number; headers: Headers; text: string }>;
  createUser(email: string, options?: { isAdmin?: boolean; password?: string }): Promise<TestUser>;
  setKeysEnabled(enabled: boolean): Promise<void>;
  generateKey(user: TestUser, args?: { description?: string; readOnly?: boolean }): Promise<{ key: string; id: string }>;
  /** Fails with the offending text if a secret appears outside generateApiKey's and generateSessionKey's responses. */
  assertNoSecretLeaks(): void;
  /** Fails naming the table if any table holds a tracked secret in clear. */
  assertNoSecretsAtRest(): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const basic = (username: string, password: string): Credentials => ({ basic: [username, password] });
export const viaKey = (key: string): Credentials => basic("apikey", key);

export async function startTestApp(env: Record<string, string> = {}, options: { clock?: () => number } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const { lines: logLines, stream: logSink } = captureLogs();
  // bcrypt cost 4 keeps the suite fast; production uses 12 (checked in the user resolver test).
  const config = { ...loadConfig({ LOG_LEVEL: "info", LAST_USED_FLUSH_INTERVAL_MS: "3600000", AUTH_FAILURE_LIMIT: "1000000", KEY_CACHE_WINDOW_MS: "50", BCRYPT_COST: "4", ...env }), database: db.config };
  const logger = createLogger(config.logLevel, logSink);
  const runtime = await createRuntime(config, { dataSource: db.dataSource, logger, clock: options.clock });
  const { services } = runtime;
  const { port } = await (await runtime.serve()).listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}/graphql`;
  const responses: TestApp["responses"] = [];
  const secrets = new Set<string>();

  const headersFor = (credentials?: Credentials): Record<string, string> => {
    const headers: Record<string, string> = { "content-type": "application/json", ...(credentials?.headers ?? {}) };
    if (credentials?.basic) headers.authorization = "Basic " + Buffer.from(credentials.basic.join(":"), "utf8").toString("base64");
    if (credentials?.apikey !== undefined) headers.apikey = credentials.apikey;
    return headers;
  };

  const testApp: TestApp = {
    url,
    port,
    db,
    config,
    services,
    logger,
    logLines,
    responses,
    secrets,
    async graphql(query, variables, credentials) {
      const response = await fetch(url, { method: "POST", headers: headersFor(credentials), body: JSON.stringify({ query, variables }) });
      const text = await response.text();
      responses.push({ query, body: text });
      const body = JSON.parse(text);
      const generated = body?.data?.generateApiKey?.key;
      if (typeof generated === "string") secrets.add(generated);
      const oneTimePassword = body?.data?.resetUserPassword;
      if (typeof oneTimePassword === "string") secrets.add(oneTimePassword);
      return { status: response.status, headers: response.headers, body };
    },
    async post(body, headers = {}, path = "/graphql") {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers, body });
      const text = await response.text();
      responses.push({ query: body, body: text });
      return { status: response.status, headers: response.headers, text };
    },
    async createUser(email, options = {}) {
      const password = options.password ?? `pw-${email}-Secret!`;
      secrets.add(password);
      const user = await services.users.create({ email, password, isAdmin: options.isAdmin ?? false });
      return { id: user.id, email: user.email, password };
    },
    async setKeysEnabled(enabled) {
      await services.settings.update({ apiKeysEnabled: enabled });
    },
    async generateKey(user, args = {}) {
      const result = await testApp.graphql(
        `mutation Generate($description: String, $readOnly: Boolean) { generateApiKey(description: $description, readOnly: $readOnly) { key apiKey { id } } }`,
        args,
        basic(user.email, user.password),
      );
      if (!result.body.data?.generateApiKey) throw new Error(`generateApiKey failed: ${JSON.stringify(result.body.errors)}`);
      return { key: result.body.data.generateApiKey.key, id: result.body.data.generateApiKey.apiKey.id };
    },
    assertNoSecretLeaks() {
      // Any key-shaped text in a log line is a leak, tracked or not (e.g. a key sent with a bad request).
      const keyInLog = logLines.find((text) => KEY_SHAPE.test(text));
      if (keyInLog) throw new Error(`a key-shaped secret appears in a log line: ${keyInLog.slice(0, 200)}`);
      for (const secret of secrets) {
        const line = logLines.find((text) => text.includes(secret));
        if (line) throw new Error(`a secret appears in a log line: ${line.slice(0, 200)}`);
        const response = responses.find((r) => !/generateApiKey|generateSessionKey|resetUserPassword/.test(r.query) && r.body.includes(secret));
        if (response) throw new Error(`a secret appears in the response to: ${response.query.slice(0, 200)}`);
      }
    },
    assertNoSecretsAtRest: () => assertNoSecretsAtRest(db, secrets),
    async reset() {
      await services.lastUsed.flush();
      await services.audit.flushFailures();
      await db.reset();
      services.apiKeys.counts.clear(); // the reset deleted keys behind the service's back
    },
    async close() {
      await runtime.stop();
      // Every test file, whatever it tests, ends with the session-wide secret checks.
      try {
        testApp.assertNoSecretLeaks();
        await testApp.assertNoSecretsAtRest();
      } finally {
        await db.destroy();
      }
    },
  };
  return testApp;
}

/** API keys, session keys and session cookie values share one shape under three prefixes. */
const KEY_SHAPE = /xt[asc]_[0-9A-Za-z]{49}/;

/** No table (present or added later by any entity) holds a generated key or a password in clear. */
async function assertNoSecretsAtRest(db: TestDatabase, secrets: Set<string>): Promise<void> {
  if (secrets.size === 0 || !db.dataSource.isInitialized) return;
  for (const table of new Set(db.dataSource.entityMetadatas.map((metadata) => metadata.tableName))) {
    const rows = await db.dataSource.query(`SELECT * FROM ${table}`);
    const text = JSON.stringify(rows);
    for (const secret of secrets) {
      if (text.includes(secret)) throw new Error(`a secret is stored in clear in table ${table}`);
    }
  }
}

/** The first error's code, or undefined. */
export const errorCode = (result: GraphQLResult) => result.body.errors?.[0]?.extensions?.code;

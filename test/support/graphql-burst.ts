/**
 * A load generator in its own process (run by startGraphQLBurst below): sends `count` copies of one
 * GraphQL operation at once, reads and parses every answer, and reports each answer's status and
 * the length of the list at `listPath`. Run apart from the test so that building and parsing the
 * large answers never sits on the event loop of the process that times the server.
 *
 * Protocol on stdout: the line `sent` once every request is on its way, then one JSON line:
 * `{"results":[{"status":200,"items":500},…]}`.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import os from "node:os";
import path from "node:path";

export interface BurstResult {
  status: number;
  /** Length of the list found at listPath, or null when the answer has none. */
  items: number | null;
}

export interface BurstOptions {
  url: string;
  authorization: string;
  query: string;
  /** Requests sent at once. */
  count: number;
  /** Where the list is in `data`, e.g. ["apiKeys", "nodes"]. */
  listPath: string[];
}

export interface RunningBurst {
  /** Resolves once every request has been sent. */
  sent: Promise<void>;
  /** Resolves with one result per request, once all are answered and parsed. */
  done: Promise<BurstResult[]>;
}

const ROOT = path.resolve(__dirname, "../..");

export function startGraphQLBurst(options: BurstOptions): RunningBurst {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", __filename], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), GRAPHQL_BURST: JSON.stringify(options) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let errors = "";
  let markSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  child.stdout!.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith("sent\n")) markSent();
  });
  child.stderr!.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const done = new Promise<BurstResult[]>((resolve, reject) => {
    child.on("exit", (code) => {
      markSent();
      const report = output.split("\n").find((line) => line.startsWith("{"));
      if (code !== 0 || !report) return reject(new Error(`load generator exited with ${code}:\n${output}${errors}`));
      resolve((JSON.parse(report) as { results: BurstResult[] }).results);
    });
  });
  return { sent, done };
}

async function runBurst({ url, authorization, query, count, listPath }: BurstOptions): Promise<void> {
  // One open connection per request first, so that all of them reach the server together.
  const agent = new http.Agent({ keepAlive: true, maxSockets: count });
  const healthz = new URL("/healthz", url);
  await Promise.all(Array.from({ length: count }, () => request(healthz, agent, "GET", {}, undefined)));

  const body = JSON.stringify({ query });
  const headers = { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), authorization };
  let written = 0;
  const pending = Array.from({ length: count }, () =>
    request(new URL(url), agent, "POST", headers, body, () => {
      if (++written < count) return;
      // Every request is on the wire. From here the generator only reads and parses the answers,
      // at the lowest priority, so that on shared cores it takes no CPU the server or the probing
      // process need; how fast it reads them does not matter.
      os.setPriority(19);
      process.stdout.write("sent\n");
    }),
  );
  const results = (await Promise.all(pending)).map(({ status, text }): BurstResult => {
    const list = listPath.reduce<unknown>((value, key) => (value as Record<string, unknown> | null | undefined)?.[key], (JSON.parse(text) as { data?: unknown }).data);
    return { status, items: Array.isArray(list) ? list.length : null };
  });
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ results })}\n`);
}

function request(url: URL, agent: http.Agent, method: string, headers: http.OutgoingHttpHeaders, body: string | undefined, onWritten?: () => void): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(url, { method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end(body, onWritten);
  });
}

if (require.main === module) {
  runBurst(JSON.parse(process.env.GRAPHQL_BURST!) as BurstOptions).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

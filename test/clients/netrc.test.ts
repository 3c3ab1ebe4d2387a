import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PERMISSION_DENIED_MESSAGE } from "../../src/errors";
import { basic, startTestApp, type TestApp, type TestUser } from "../support/app";

/**
 * Clients nobody here wrote, holding a key the way LabKey users do: a .netrc entry
 * `machine <host> login apikey password <key>`. The key never goes on a command line
 * (it would show in `ps` and in a failed execFile's message): curl and Python read it
 * from files in a private temp dir.
 */

// Async on purpose: the server runs in this process, a synchronous spawn would deadlock.
const run = promisify(execFile);

const QUERY = JSON.stringify({ query: "{ me { email } }" });

const PYTHON_CLIENT = String.raw`
import base64, json, netrc, sys, urllib.error, urllib.request

netrc_path, url, query = sys.argv[1], sys.argv[2], sys.argv[3]
login, _account, password = netrc.netrc(netrc_path).authenticators("127.0.0.1")
token = base64.b64encode(f"{login}:{password}".encode("utf-8")).decode("ascii")
request = urllib.request.Request(
    url,
    data=query.encode("utf-8"),
    method="POST",
    headers={"Content-Type": "application/json", "Authorization": "Basic " + token},
)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(request, timeout=20) as response:
        status, body, challenge = response.status, response.read(), response.headers.get("WWW-Authenticate")
except urllib.error.HTTPError as error:
    status, body, challenge = error.code, error.read(), error.headers.get("WWW-Authenticate")
print(json.dumps({"status": status, "body": body.decode("utf-8"), "wwwAuthenticate": challenge}))
`;

interface ClientResult {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
  wwwAuthenticate: string | null;
}

describe("real clients using a key from a .netrc file", () => {
  let app: TestApp;
  let alice: TestUser;
  let admin: TestUser;
  let key: string;
  let keyId: string;
  let dir: string;
  let netrcFile: string;
  const tempDirs: string[] = [];

  beforeAll(async () => {
    app = await startTestApp();
  });
  beforeEach(async () => {
    await app.reset();
    alice = await app.createUser("alice@example.org");
    admin = await app.createUser("admin@example.org", { isAdmin: true });
    await app.setKeysEnabled(true);
    ({ key, id: keyId } = await app.generateKey(alice, { description: "netrc client" }));
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "xta-netrc-"));
    tempDirs.push(dir);
    netrcFile = path.join(dir, ".netrc");
    await fs.writeFile(netrcFile, `machine 127.0.0.1\n  login apikey\n  password ${key}\n`, { mode: 0o600 });
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await Promise.all(tempDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
    app.assertNoSecretLeaks();
    await app.close();
  });

  /** Lets assertNoSecretLeaks check what the outside clients received too. */
  function record(client: string, body: string) {
    app.responses.push({ query: `${client}: ${QUERY}`, body });
  }

  async function revokeKey() {
    const revoked = await app.graphql("mutation($ids: [ID!]!) { revokeApiKeys(ids: $ids) }", { ids: [keyId] }, basic(admin.email, admin.password));
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.revokeApiKeys).toBe(1);
  }

  /** curl with the given credential options; -q first so no ~/.curlrc interferes. */
  async function curl(credentialArgs: string[]): Promise<ClientResult> {
    const headerFile = path.join(dir, "response-headers.txt");
    const { stdout } = await run(
      "curl",
      ["-q", "-sS", "--noproxy", "*", ...credentialArgs, "-D", headerFile, "-H", "Content-Type: application/json", "--data", QUERY, "-w", "\n%{http_code}", app.url],
      { timeout: 20_000 },
    );
    const newline = stdout.lastIndexOf("\n");
    const text = stdout.slice(0, newline);
    record("curl", text);
    const headers = await fs.readFile(headerFile, "utf8");
    const challenge = headers.split(/\r?\n/).find((line) => /^www-authenticate:/i.test(line));
    return {
      status: Number(stdout.slice(newline + 1)),
      body: JSON.parse(text),
      wwwAuthenticate: challenge ? challenge.replace(/^www-authenticate:\s*/i, "") : null,
    };
  }

  const curlWithNetrc = () => curl(["--netrc-file", netrcFile]);

  async function python(): Promise<ClientResult> {
    const script = path.join(dir, "client.py");
    await fs.writeFile(script, PYTHON_CLIENT, { mode: 0o600 });
    const { stdout } = await run("python3", [script, netrcFile, app.url, QUERY], { timeout: 20_000 });
    const output = JSON.parse(stdout);
    record("python", output.body);
    return { status: output.status, body: JSON.parse(output.body), wwwAuthenticate: output.wwwAuthenticate };
  }

  function expectMe(result: ClientResult) {
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.me).toEqual({ email: "alice@example.org" });
  }

  function expectRevoked(result: ClientResult) {
    expect(result.status).toBe(401);
    expect(result.wwwAuthenticate).toMatch(/^Basic realm="[^"]+"/);
    expect(result.body.errors).toHaveLength(1);
    expect(result.body.errors![0].message).toBe(PERMISSION_DENIED_MESSAGE);
    expect(result.body.errors![0].extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "INVALID" });
    expect(result.body.data ?? null).toBeNull();
  }

  test("curl --netrc-file with a valid key gets me", async () => {
    expectMe(await curlWithNetrc());
  });

  test("curl with a revoked key gets 401, a Basic challenge and the LabKey message", async () => {
    expectMe(await curlWithNetrc());
    await revokeKey();
    expectRevoked(await curlWithNetrc());
  });

  test("the apikey header works from curl", async () => {
    // -H @file: curl reads the header from a file, so the key stays off the command line.
    const headerFile = path.join(dir, "apikey-header.txt");
    await fs.writeFile(headerFile, `apikey: ${key}\n`, { mode: 0o600 });
    expectMe(await curl(["-H", `@${headerFile}`]));
  });

  test("Python netrc + urllib with a valid key gets me", async () => {
    expectMe(await python());
  });

  test("Python netrc + urllib with a revoked key gets 401 and the LabKey message", async () => {
    await revokeKey();
    expectRevoked(await python());
  });
});

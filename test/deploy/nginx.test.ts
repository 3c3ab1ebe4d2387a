/**
 * deploy/nginx.conf, run by a real nginx with a self-signed certificate in front of the real
 * service (TRUST_PROXY=1): requests over HTTPS work end to end and the service sees the client's
 * address, not nginx's, whatever X-Forwarded-For the client forges.
 */
import { execFile as execFileCallback, spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startTestApp, type TestApp } from "../support/app";
import { findTool, runsWith } from "../support/tools";

const execFile = promisify(execFileCallback);
const ROOT = path.resolve(__dirname, "..", "..");
const SERVER_NAME = "apikeys.example.org";
/** A loopback address other than nginx's own 127.0.0.1, so the client and the proxy differ. */
const CLIENT_ADDRESS = "127.0.0.2";

const NGINX = findTool([["nginx"], ["/usr/sbin/nginx"]], ["-v"])?.[0];
const OPENSSL = findTool([["openssl"]], ["version"])?.[0];
const runs = runsWith("test/deploy/nginx.test.ts", [NGINX ? "" : "nginx", OPENSSL ? "" : "openssl"].filter(Boolean), "Debian: apt-get install -y nginx openssl");

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** deploy/nginx.conf with this machine's ports and files; each replaced text must be there. */
function localised(replacements: Array<[string, string]>): string {
  let text = fs.readFileSync(path.join(ROOT, "deploy", "nginx.conf"), "utf8");
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`deploy/nginx.conf no longer contains "${from}"`);
    text = text.split(from).join(to);
  }
  return text;
}

/** The access line is written when the response finishes, which may be just after the client has it. */
async function accessLinesFor(app: TestApp, from: number, pathname: string): Promise<string[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const lines = app.logLines.slice(from).filter((line) => line.includes(`"path":"${pathname}"`));
    if (lines.length) return lines;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return [];
}

interface ProxiedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

(runs ? describe : describe.skip)("deploy/nginx.conf in front of the service", () => {
  let app: TestApp;
  let dir: string;
  let nginx: ChildProcess;
  let nginxOutput = "";
  let httpsPort: number;
  let httpPort: number;
  let certificate: string;

  const request = (method: string, pathname: string, headers: Record<string, string>, body?: string, port = httpsPort, secure = true) =>
    new Promise<ProxiedResponse>((resolve, reject) => {
      const options = { host: "127.0.0.1", port, method, path: pathname, headers: { host: SERVER_NAME, ...headers }, localAddress: CLIENT_ADDRESS };
      const req = (secure ? https.request({ ...options, servername: SERVER_NAME, ca: certificate }) : require("node:http").request(options)) as import("node:http").ClientRequest;
      req.on("response", (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on("error", reject);
      req.end(body);
    });

  beforeAll(async () => {
    app = await startTestApp({ TRUST_PROXY: "1" });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xta-nginx-"));
    await execFile(OPENSSL!, [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", `/CN=${SERVER_NAME}`, "-addext", `subjectAltName=DNS:${SERVER_NAME}`,
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
    ]);
    certificate = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
    [httpsPort, httpPort] = [await freePort(), await freePort()];
    const site = localised([
      ["listen 443 ssl;", `listen 127.0.0.1:${httpsPort} ssl;`],
      ["listen 80;", `listen 127.0.0.1:${httpPort};`],
      [`/etc/ssl/certs/${SERVER_NAME}.pem`, path.join(dir, "cert.pem")],
      [`/etc/ssl/private/${SERVER_NAME}.key`, path.join(dir, "key.pem")],
      ["server 127.0.0.1:4000;", `server 127.0.0.1:${app.port};`],
    ]);
    fs.writeFileSync(path.join(dir, "site.conf"), site);
    // The smallest main configuration around the site, everything nginx writes kept in the temporary folder.
    const temp = (name: string) => `${name}_temp_path ${path.join(dir, name)};`;
    fs.writeFileSync(
      path.join(dir, "nginx.conf"),
      [
        process.getuid?.() === 0 ? "user root;" : "",
        "worker_processes 1;",
        `pid ${path.join(dir, "nginx.pid")};`,
        "error_log stderr warn;",
        "events { worker_connections 64; }",
        "http {",
        `  access_log off; ${temp("client_body")} ${temp("proxy")} ${temp("fastcgi")} ${temp("uwsgi")} ${temp("scgi")}`,
        `  include ${path.join(dir, "site.conf")};`,
        "}",
      ].join("\n"),
    );
    const check = spawnSync(NGINX!, ["-t", "-q", "-p", dir, "-c", path.join(dir, "nginx.conf")], { encoding: "utf8" });
    if (check.status !== 0) throw new Error(`nginx -t rejected deploy/nginx.conf:\n${check.stderr}`);
    nginx = spawn(NGINX!, ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "pipe", "pipe"] });
    nginx.stderr!.on("data", (chunk) => (nginxOutput += chunk));
    for (let attempt = 0; ; attempt++) {
      const up = await new Promise<boolean>((resolve) => net.connect(httpsPort, "127.0.0.1").on("connect", function (this: net.Socket) { this.destroy(); resolve(true); }).on("error", () => resolve(false)));
      if (up) break;
      if (attempt > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start:\n${nginxOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once("exit", resolve));
      nginx.kill("SIGQUIT");
      await exited;
    }
    await app?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("an API key works over HTTPS through the proxy, and the service logs the client's address, not a forged one", async () => {
    const user = await app.createUser("proxied@example.org");
    await app.setKeysEnabled(true);
    const { key } = await app.generateKey(user);
    const before = app.logLines.length;
    const response = await request("POST", "/graphql", {
      "content-type": "application/json",
      authorization: "Basic " + Buffer.from(`apikey:${key}`).toString("base64"),
      "x-forwarded-for": "203.0.113.9",
    }, JSON.stringify({ query: "{ me { email } }" }));
    expect([response.status, JSON.parse(response.body).data]).toEqual([200, { me: { email: user.email } }]);
    expect(response.headers["strict-transport-security"]).toBeDefined();

    const accessLines = await accessLinesFor(app, before, "/graphql");
    expect(accessLines.map((line) => JSON.parse(line).clientIp)).toEqual([CLIENT_ADDRESS]);
    app.assertNoSecretLeaks();
  });

  test("plain HTTP is redirected to HTTPS, never proxied", async () => {
    const before = app.logLines.length;
    const response = await request("GET", "/healthz", {}, undefined, httpPort, false);
    expect(response.status).toBe(301);
    expect(response.headers.location).toBe(`https://${SERVER_NAME}/healthz`);
    expect(app.logLines.slice(before).filter((line) => line.includes("/healthz"))).toEqual([]);
  });

  test("without TRUST_PROXY the service would log nginx's address: the setting is what makes the client visible", async () => {
    const direct = await startTestApp();
    try {
      const site = fs.readFileSync(path.join(dir, "site.conf"), "utf8");
      expect(site).toContain(`server 127.0.0.1:${app.port};`);
      const before = direct.logLines.length;
      // What nginx sends upstream: its own connection, with the client's address in X-Forwarded-For.
      await fetch(`http://127.0.0.1:${direct.port}/healthz`, { headers: { "x-forwarded-for": `203.0.113.9, ${CLIENT_ADDRESS}` } });
      const lines = await accessLinesFor(direct, before, "/healthz");
      expect(lines.map((line) => JSON.parse(line).clientIp)).toEqual(["127.0.0.1"]);
    } finally {
      await direct.close();
    }
  });
});

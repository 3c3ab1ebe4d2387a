import { basic, startTestApp, type TestApp } from "../support/app";

const LABEL_CAP = 200;

describe("/metrics operation labels: only authenticated requests name one", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const labels = async () => {
    const text = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    return new Set([...text.matchAll(/^xta_http_requests_total\{[^}]*operation="([^"]*)"/gm)].map((m) => m[1]));
  };

  test(`${LABEL_CAP + 10} anonymous requests with made-up names add no label; a real operation keeps its own`, async () => {
    const alice = await app.createUser("alice@example.org");
    for (let i = 0; i < LABEL_CAP + 10; i++) {
      const response = await app.post(JSON.stringify({ query: `query MadeUp${i} { __typename }` }), { "content-type": "application/json" });
      expect(response.status).toBe(200);
    }
    expect([...(await labels())].filter((label) => label.startsWith("MadeUp"))).toEqual([]);

    expect((await app.graphql("query WhoAmI { me { email } }", {}, basic(alice.email, alice.password))).status).toBe(200);
    const after = await labels();
    expect(after.has("WhoAmI")).toBe(true);
    expect(after.has("other")).toBe(false);
  });
});

import fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";
import { CounterTally, OneLabelHistogram } from "../../src/observability/metrics-tally";

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

describe("metrics tallies", () => {
  test("OneLabelHistogram scrapes exactly as prom-client's Histogram for the same observations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("/graphql", "/healthz", "other"), fc.oneof(fc.constantFrom(...BOUNDS), fc.double({ min: 0, max: 20, noNaN: true }))), { maxLength: 60 }),
        async (observations) => {
          const ours = new Registry();
          const theirs = new Registry();
          const histogram = new OneLabelHistogram("d_seconds", "help text", "route", BOUNDS, [ours]);
          const reference = new Histogram({ name: "d_seconds", help: "help text", labelNames: ["route"], buckets: BOUNDS, registers: [theirs] });
          for (const [route, value] of observations) {
            histogram.observe(route, value);
            reference.observe({ route }, value);
          }
          expect(await ours.metrics()).toBe(await theirs.metrics());
          expect(await ours.getMetricsAsJSON()).toEqual(JSON.parse(JSON.stringify(await theirs.getMetricsAsJSON())));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("CounterTally: counts reach the counter at scrape time, once, however often it is scraped", async () => {
    const registry = new Registry();
    const tally = new CounterTally<"route" | "status">();
    new Counter({ name: "c_total", help: "h", labelNames: ["route", "status"], registers: [registry], collect() { tally.drainInto(this); } });
    for (let i = 0; i < 5; i++) tally.add("/graphql 200", () => ({ route: "/graphql", status: "200" }));
    tally.add("/graphql 401", () => ({ route: "/graphql", status: "401" }));
    const first = await registry.metrics();
    expect(first).toContain('c_total{route="/graphql",status="200"} 5');
    expect(first).toContain('c_total{route="/graphql",status="401"} 1');
    expect(await registry.metrics()).toContain('c_total{route="/graphql",status="200"} 5');
    tally.add("/graphql 200", () => ({ route: "/graphql", status: "200" }));
    expect(await registry.getMetricsAsJSON()).toEqual([expect.objectContaining({ values: expect.arrayContaining([expect.objectContaining({ labels: { route: "/graphql", status: "200" }, value: 6 })]) })]);
  });
});

import { runIcount } from "../../bench/icount";

/**
 * A smoke run of `npm run bench:icount` (valgrind's callgrind) at a tiny size, so the script does
 * not rot. It checks that the counts are read and plausible, never a speed.
 */
describe("instruction-count script (smoke)", () => {
  test("the service under callgrind answers every measured request and yields a positive count per request", async () => {
    const [result] = await runIcount({ requests: 40, warmup: 40, targets: ["service"] });
    expect(result.target).toBe("service");
    expect(result.unexpected).toBe(0);
    // A request through Node's HTTP stack, Apollo and graphql-js is tens of thousands of
    // instructions at the very least, and far below a billion.
    expect(result.instructionsPerRequest).toBeGreaterThan(20_000);
    expect(result.instructionsPerRequest).toBeLessThan(1e9);
  }, 240_000);
});

test("passes", () => expect(1).toBe(1));
test.skip("skipped", () => {});

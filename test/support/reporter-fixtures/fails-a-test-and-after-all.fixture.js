afterAll(() => {
  throw new Error("a secret appears in a log line");
});
test("fails", () => expect(1).toBe(2));

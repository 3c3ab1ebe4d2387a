// Like the secret checks in close(): every test passes, the check after them fails.
afterAll(() => {
  throw new Error("a secret is stored in clear in table api_keys");
});
test("passes", () => expect(1).toBe(1));

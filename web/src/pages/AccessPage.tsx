export function AccessPage() {
  return <h1>External Tool Access</h1>;
}

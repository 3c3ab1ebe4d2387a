/** GraphQL IDs are strings; ours are positive integers. Anything else matches no row. */
export function parseId(raw: string | number): number | null {
  const text = String(raw).trim();
  if (!/^[1-9]\d{0,15}$/.test(text)) return null;
  const id = Number(text);
  return Number.isSafeInteger(id) && id <= 2_147_483_647 ? id : null;
}

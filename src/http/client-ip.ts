import type { IncomingMessage } from "node:http";

/**
 * The client's address. With TRUST_PROXY=n (n proxies of ours in front), the client is the n-th
 * X-Forwarded-For entry from the right: entries further left were written by the client itself
 * and cannot be believed. With 0 (default), X-Forwarded-For is ignored.
 */
export function clientIp(req: IncomingMessage, trustProxy: number): string {
  const peer = normalise(req.socket.remoteAddress ?? "");
  if (trustProxy <= 0) return peer;
  const header = req.headers["x-forwarded-for"];
  const raw = Array.isArray(header) ? header.join(",") : header;
  if (!raw) return peer;
  const hops = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (hops.length === 0) return peer;
  const candidate = hops[Math.max(0, hops.length - trustProxy)];
  return candidate.length <= 64 && /^[0-9A-Fa-f:.]+$/.test(candidate) ? normalise(candidate) : peer;
}

function normalise(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

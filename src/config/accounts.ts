import type { EnvReader } from "./env-reader";

/** The first site admin, created on first start when no admin exists. */
export interface AdminConfig {
  adminEmail?: string;
  adminPassword?: string;
}

export function readAdminConfig(env: EnvReader): AdminConfig {
  const adminEmail = env.text("ADMIN_EMAIL");
  const adminPassword = env.env.ADMIN_PASSWORD || undefined;
  if (adminEmail && !isPlausibleEmail(adminEmail)) env.problem(`ADMIN_EMAIL is not an email address: "${adminEmail}"`);
  if (adminPassword !== undefined) {
    const passwordProblem = describePasswordProblem(adminPassword);
    if (passwordProblem) env.problem(`ADMIN_PASSWORD ${passwordProblem}`); // never echo the value
  }
  return { adminEmail, adminPassword };
}

export function isPlausibleEmail(email: string): boolean {
  return email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email);
}

export const PASSWORD_MIN_LENGTH = 8;
/** bcrypt reads only the first 72 bytes; longer passwords would be silently truncated. */
export const PASSWORD_MAX_BYTES = 72;

export function describePasswordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES) return `must be at most ${PASSWORD_MAX_BYTES} bytes`;
  return null;
}

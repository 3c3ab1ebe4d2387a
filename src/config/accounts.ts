import type { EnvReader } from "./env-reader";

/** The first site admin, created on first start when no admin exists; and how passwords are hashed. */
export interface AdminConfig {
  adminEmail?: string;
  adminPassword?: string;
  /** bcrypt cost of every password hash, and of the dummy an unknown email is compared against. */
  bcryptCost: number;
}

/** Production's bcrypt cost: about 250 ms of one core per hash or comparison. */
export const DEFAULT_BCRYPT_COST = 12;

export function readAdminConfig(env: EnvReader): AdminConfig {
  const adminEmail = env.text("ADMIN_EMAIL");
  // Held to the password rules when the first admin is created from it (UserService.ensureInitialAdmin).
  const adminPassword = env.env.ADMIN_PASSWORD || undefined;
  if (adminEmail && !isPlausibleEmail(adminEmail)) env.problem(`ADMIN_EMAIL is not an email address: "${adminEmail}"`);
  return { adminEmail, adminPassword, bcryptCost: env.integer("BCRYPT_COST", DEFAULT_BCRYPT_COST, 4, 15) };
}

export function isPlausibleEmail(email: string): boolean {
  return email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email);
}

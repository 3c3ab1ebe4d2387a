import type { EnvReader } from "./env-reader";

/** The first site admin, created on first start when no admin exists. */
export interface AdminConfig {
  adminEmail?: string;
  adminPassword?: string;
}

export function readAdminConfig(env: EnvReader): AdminConfig {
  const adminEmail = env.text("ADMIN_EMAIL");
  // Held to the password rules when the first admin is created from it (UserService.ensureInitialAdmin).
  const adminPassword = env.env.ADMIN_PASSWORD || undefined;
  if (adminEmail && !isPlausibleEmail(adminEmail)) env.problem(`ADMIN_EMAIL is not an email address: "${adminEmail}"`);
  return { adminEmail, adminPassword };
}

export function isPlausibleEmail(email: string): boolean {
  return email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email);
}

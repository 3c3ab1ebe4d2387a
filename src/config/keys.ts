import type { EnvReader } from "./env-reader";

export interface KeysConfig {
  /** How long a key's lastUsedAt may lag behind real use. */
  lastUsedMinIntervalMs: number;
  /** How often pending lastUsedAt updates are written. */
  lastUsedFlushIntervalMs: number;
  /** How often the server purges expired keys past their retention; 0 disables the job. */
  purgeIntervalMs: number;
  /**
   * How long one poll of the revocation generation vouches for cached key lookups; revocations
   * wait this long before they return. 0 turns the cache off. Same value on every instance.
   */
  keyCacheWindowMs: number;
  keyCacheMaxEntries: number;
}

export function readKeysConfig(env: EnvReader): KeysConfig {
  const config: KeysConfig = {
    lastUsedMinIntervalMs: env.integer("LAST_USED_MIN_INTERVAL_MS", 60_000, 0, 24 * 3600_000),
    lastUsedFlushIntervalMs: env.integer("LAST_USED_FLUSH_INTERVAL_MS", 10_000, 10, 3600_000),
    purgeIntervalMs: env.integer("PURGE_INTERVAL_MS", 3600_000, 0, 7 * 24 * 3600_000),
    keyCacheWindowMs: env.integer("KEY_CACHE_WINDOW_MS", 250, 0, 60_000),
    keyCacheMaxEntries: env.integer("KEY_CACHE_MAX_ENTRIES", 10_000, 1, 10_000_000),
  };
  if (config.purgeIntervalMs > 0 && config.purgeIntervalMs < 1000) env.problem("PURGE_INTERVAL_MS must be 0 (off) or at least 1000");
  if (config.keyCacheWindowMs > 0 && config.keyCacheWindowMs < 20) env.problem("KEY_CACHE_WINDOW_MS must be 0 (off) or at least 20");
  return config;
}

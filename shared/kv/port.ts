/**
 * Small keyed state with expiry: idempotency records, rate-limit counters, login lockouts and
 * processed-event markers. Redis in production; embedded in SQLite.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  /** Sets the value; with `onlyIfAbsent` it sets nothing and returns false when the key exists. */
  set(key: string, value: string, options?: { ttlMs?: number; onlyIfAbsent?: boolean }): Promise<boolean>;
  /** Atomically adds `by` (default 1) and returns the new value; `ttlMs` applies when the key is created. */
  increment(key: string, options?: { by?: number; ttlMs?: number }): Promise<number>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Key-value store in an SQLite file: its own table, so it can share the embedded store's file.
 * Expiry is checked on every read; expired rows are also deleted in the background.
 */
import type Database from 'better-sqlite3';
import { openDatabase, type SqliteDatabase } from '../store/sqlite/database';
import type { KeyValueStore } from './port';

const DEFAULT_PURGE_INTERVAL_MS = 60_000;

/** SQL test for "this existing row has expired"; `@now` is bound by every statement using it. */
const EXPIRED = 'kv_entries.expires_ms IS NOT NULL AND kv_entries.expires_ms <= @now';

export class SqliteKeyValueStore implements KeyValueStore {
  private readonly db: SqliteDatabase;
  private readonly purgeTimer: NodeJS.Timeout;
  private readonly sql: {
    get: Database.Statement<{ key: string; now: number }, { value: string }>;
    set: Database.Statement<{ key: string; value: string; expires: number | null }>;
    setIfAbsent: Database.Statement<{ key: string; value: string; expires: number | null; now: number }>;
    increment: Database.Statement<
      { key: string; by: number; expires: number | null; now: number },
      { value: string | number }
    >;
    delete: Database.Statement<[string]>;
    purge: Database.Statement<{ now: number }>;
  };

  constructor(path: string, options: { purgeIntervalMs?: number } = {}) {
    this.db = openDatabase(path);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv_entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_ms INTEGER);
      CREATE INDEX IF NOT EXISTS kv_entries_by_expiry ON kv_entries (expires_ms) WHERE expires_ms IS NOT NULL;
    `);
    this.sql = {
      get: this.db.prepare(
        'SELECT value FROM kv_entries WHERE key = @key AND (expires_ms IS NULL OR expires_ms > @now)',
      ),
      set: this.db.prepare(
        `INSERT INTO kv_entries (key, value, expires_ms) VALUES (@key, @value, @expires)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms`,
      ),
      // An expired row counts as absent, so it is replaced.
      setIfAbsent: this.db.prepare(
        `INSERT INTO kv_entries (key, value, expires_ms) VALUES (@key, @value, @expires)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms
         WHERE ${EXPIRED}`,
      ),
      // A new or expired counter starts at `by` with the new expiry; a live one keeps its expiry.
      increment: this.db.prepare(
        `INSERT INTO kv_entries (key, value, expires_ms) VALUES (@key, CAST(@by AS INTEGER), @expires)
         ON CONFLICT (key) DO UPDATE SET
           value = CASE WHEN ${EXPIRED} THEN CAST(@by AS INTEGER)
                   ELSE CAST(kv_entries.value AS INTEGER) + CAST(@by AS INTEGER) END,
           expires_ms = CASE WHEN ${EXPIRED} THEN @expires ELSE kv_entries.expires_ms END
         RETURNING value`,
      ),
      delete: this.db.prepare('DELETE FROM kv_entries WHERE key = ?'),
      purge: this.db.prepare('DELETE FROM kv_entries WHERE expires_ms IS NOT NULL AND expires_ms <= @now'),
    };
    this.purgeTimer = setInterval(
      () => this.purgeExpired(),
      options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS,
    );
    this.purgeTimer.unref();
  }

  async get(key: string): Promise<string | null> {
    return this.sql.get.get({ key, now: Date.now() })?.value ?? null;
  }

  async set(
    key: string,
    value: string,
    options: { ttlMs?: number; onlyIfAbsent?: boolean } = {},
  ): Promise<boolean> {
    const now = Date.now();
    const expires = options.ttlMs === undefined ? null : now + options.ttlMs;
    if (options.onlyIfAbsent) return this.sql.setIfAbsent.run({ key, value, expires, now }).changes > 0;
    this.sql.set.run({ key, value, expires });
    return true;
  }

  async increment(key: string, options: { by?: number; ttlMs?: number } = {}): Promise<number> {
    const by = options.by ?? 1;
    // JavaScript numbers bind as REAL; counters stay integers as they do in Redis.
    if (!Number.isSafeInteger(by)) throw new RangeError(`increment must be an integer, got ${by}`);
    const now = Date.now();
    const expires = options.ttlMs === undefined ? null : now + options.ttlMs;
    const row = this.sql.increment.get({ key, by, expires, now })!;
    return Number(row.value);
  }

  async delete(key: string): Promise<void> {
    this.sql.delete.run(key);
  }

  /** Deletes expired rows now; returns how many. Also runs on a timer. */
  purgeExpired(): number {
    if (!this.db.open) return 0;
    return this.sql.purge.run({ now: Date.now() }).changes;
  }

  async close(): Promise<void> {
    clearInterval(this.purgeTimer);
    if (this.db.open) this.db.close();
  }
}

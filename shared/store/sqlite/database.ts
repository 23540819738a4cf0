/**
 * Opening the embedded database: connection settings and the forward-only schema migrations.
 * The schema version lives in `PRAGMA user_version`; migration N brings the schema to version N.
 */
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

const MIGRATIONS: readonly string[] = [
  // 1: one table per repository; `doc` holds the record as JSON, other columns exist to be queried.
  `
  CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    username_key TEXT NOT NULL UNIQUE,
    email_key TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
  );
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX sessions_by_user ON sessions (user_id);
  CREATE TABLE executions (
    execution_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    lang TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX executions_by_user ON executions (user_id, created_ms DESC, execution_id DESC);
  CREATE INDEX executions_by_status ON executions (status, created_ms DESC, execution_id DESC);
  CREATE INDEX executions_by_created ON executions (created_ms DESC, execution_id DESC);
  CREATE TABLE notifications (
    notification_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    source_event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (user_id, source_event_id)
  );
  CREATE INDEX notifications_by_user ON notifications (user_id, created_ms DESC, notification_id DESC);
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    aggregate_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX events_by_aggregate ON events (aggregate_id, seq);
  CREATE TABLE dead_letters (
    dead_letter_id TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX dead_letters_by_created ON dead_letters (created_ms DESC, dead_letter_id DESC);
  `,
  // 2: saved scripts, listed per user with the most recently changed first.
  `
  CREATE TABLE saved_scripts (
    script_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX saved_scripts_by_user ON saved_scripts (user_id, updated_ms DESC, script_id DESC);
  `,
  // 3: user settings (the current ones, for the point read) and every revision of them, kept for good.
  `
  CREATE TABLE user_settings (
    user_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE TABLE user_settings_revisions (
    user_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    changed_ms INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (user_id, version)
  ) WITHOUT ROWID;
  `,
  // 4: events by the user their metadata names, by event time, for an admin's view of a user and for
  // deleting a user's data; filled in for the events already stored.
  `
  ALTER TABLE events ADD COLUMN user_id TEXT;
  ALTER TABLE events ADD COLUMN created_ms INTEGER;
  UPDATE events SET
    user_id = json_extract(doc, '$.metadata.user_id'),
    created_ms = CAST(round((julianday(json_extract(doc, '$.timestamp')) - 2440587.5) * 86400000) AS INTEGER);
  CREATE INDEX events_by_user ON events (user_id, created_ms DESC, seq DESC) WHERE user_id IS NOT NULL;
  `,
  // 5: notification subscriptions per user and channel; deliveries to webhook and Slack, found by when
  // they are due and listed per user; every attempt, keyed by delivery and number (the key is the claim).
  `
  CREATE TABLE notification_subscriptions (
    user_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (user_id, channel)
  ) WITHOUT ROWID;
  CREATE TABLE notification_deliveries (
    delivery_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    due_ms INTEGER,
    created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX notification_deliveries_due ON notification_deliveries (due_ms) WHERE status = 'pending';
  CREATE INDEX notification_deliveries_by_user
    ON notification_deliveries (user_id, created_ms DESC, delivery_id DESC);
  CREATE TABLE notification_delivery_attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
  ) WITHOUT ROWID;
  CREATE INDEX notification_delivery_attempts_by_user
    ON notification_delivery_attempts (user_id, channel, started_ms);
  `,
  // 6: events newest first for the admin's browsing; events an admin deleted, kept as they were.
  `
  CREATE INDEX events_by_time ON events (created_ms DESC, seq DESC);
  CREATE TABLE events_archive (
    event_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    stored_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    deleted_by TEXT NOT NULL,
    deleted_at TEXT NOT NULL
  );
  `,
  // 7: users' API keys, found by the hash of the secret and listed per user newest first.
  `
  CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX api_keys_by_user ON api_keys (user_id, created_ms DESC, key_id DESC);
  `,
  // 8: the audit log of administrators' changes, newest first, by target and by actor.
  `
  CREATE TABLE audit_log (
    audit_id TEXT PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX audit_log_by_time ON audit_log (at_ms DESC, audit_id DESC);
  CREATE INDEX audit_log_by_target ON audit_log (target_type, target_id, at_ms DESC);
  CREATE INDEX audit_log_by_actor ON audit_log (actor_id, at_ms DESC);
  `,
  // 9: the administrators' system settings, one row.
  `
  CREATE TABLE system_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    doc TEXT NOT NULL
  );
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Opens the file with the settings every embedded table relies on (also used by the key-value store). */
export function openDatabase(path: string): SqliteDatabase {
  const db = new Database(path);
  // WAL lets readers run beside the single writer; NORMAL sync is durable across process crashes in WAL.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Other processes (functions of the same data directory) may hold the write lock for a moment.
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Applies every migration newer than the file's version. Each step re-reads the version under the write
 * lock, so two processes opening a fresh file at once do not both run it.
 */
export function migrate(db: SqliteDatabase): void {
  const schemaVersion = () => db.pragma('user_version', { simple: true }) as number;
  const current = schemaVersion();
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this build supports (${MIGRATIONS.length})`,
    );
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    const sql = MIGRATIONS[version - 1]!;
    db.transaction(() => {
      if (schemaVersion() >= version) return;
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
}

/** Epoch milliseconds of an ISO timestamp; indexed columns hold numbers so differing ISO spellings still sort. */
export function toMillis(timestamp: string): number {
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) throw new Error(`invalid timestamp: ${timestamp}`);
  return ms;
}

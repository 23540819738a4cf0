import type { SettingsRevision, UserSettingsRecord } from '../../domain/user-settings';
import type { UserSettingsRepository } from '../ports';
import { type SqliteDatabase, toMillis } from './database';

export function sqliteUserSettingsRepository(db: SqliteDatabase): UserSettingsRepository {
  const sql = {
    get: db.prepare<[string], { doc: string }>('SELECT doc FROM user_settings WHERE user_id = ?'),
    version: db.prepare<[string], { version: number }>('SELECT version FROM user_settings WHERE user_id = ?'),
    upsert: db.prepare<{ user_id: string; version: number; doc: string }>(
      `INSERT INTO user_settings (user_id, version, doc) VALUES (@user_id, @version, @doc)
       ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, doc = excluded.doc`,
    ),
    addRevision: db.prepare<{ user_id: string; version: number; changed_ms: number; doc: string }>(
      `INSERT INTO user_settings_revisions (user_id, version, changed_ms, doc)
       VALUES (@user_id, @version, @changed_ms, @doc)`,
    ),
    newest: db.prepare<[string, number], { doc: string }>(
      'SELECT doc FROM user_settings_revisions WHERE user_id = ? ORDER BY version DESC LIMIT ?',
    ),
    at: db.prepare<[string, number], { doc: string }>(
      `SELECT doc FROM user_settings_revisions WHERE user_id = ? AND changed_ms <= ?
       ORDER BY version DESC LIMIT 1`,
    ),
    deleteSettings: db.prepare<[string]>('DELETE FROM user_settings WHERE user_id = ?'),
    deleteRevisions: db.prepare<[string]>('DELETE FROM user_settings_revisions WHERE user_id = ?'),
  };

  // Checking the version and writing both rows under one write lock makes racing saves take turns.
  const save = db.transaction((revision: SettingsRevision): boolean => {
    const stored = sql.version.get(revision.user_id)?.version ?? 0;
    if (revision.version !== stored + 1) return false;
    sql.upsert.run({
      user_id: revision.user_id,
      version: revision.version,
      doc: JSON.stringify(revision.settings),
    });
    sql.addRevision.run({
      user_id: revision.user_id,
      version: revision.version,
      changed_ms: toMillis(revision.changed_at),
      doc: JSON.stringify(revision),
    });
    return true;
  });

  const deleteForUser = db.transaction((userId: string): number => {
    sql.deleteRevisions.run(userId);
    return sql.deleteSettings.run(userId).changes;
  });

  return {
    async get(userId) {
      const found = sql.get.get(userId);
      return found ? (JSON.parse(found.doc) as UserSettingsRecord) : null;
    },
    async save(revision) {
      return save.immediate(revision);
    },
    async history(userId, limit) {
      return sql.newest.all(userId, limit).map((row) => JSON.parse(row.doc) as SettingsRevision);
    },
    async revisionAt(userId, at) {
      const found = sql.at.get(userId, toMillis(at));
      return found ? (JSON.parse(found.doc) as SettingsRevision) : null;
    },
    async deleteForUser(userId) {
      return deleteForUser.immediate(userId);
    },
  };
}

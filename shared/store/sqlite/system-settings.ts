import type { SystemSettings } from '../../domain/system-settings';
import type { SystemSettingsRepository } from '../ports';
import type { SqliteDatabase } from './database';

export function sqliteSystemSettingsRepository(db: SqliteDatabase): SystemSettingsRepository {
  const sql = {
    get: db.prepare<[], { doc: string }>('SELECT doc FROM system_settings WHERE id = 1'),
    save: db.prepare<[string]>(
      'INSERT INTO system_settings (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc',
    ),
    clear: db.prepare('DELETE FROM system_settings'),
  };
  return {
    async get() {
      const row = sql.get.get();
      return row ? (JSON.parse(row.doc) as SystemSettings) : null;
    },
    async save(settings) {
      sql.save.run(JSON.stringify(settings));
    },
    async clear() {
      sql.clear.run();
    },
  };
}

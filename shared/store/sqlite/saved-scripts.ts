import type { SavedScriptRecord } from '../../domain/saved-script';
import { ConflictError, type SavedScriptRepository } from '../ports';
import { type SqliteDatabase, toMillis } from './database';
import { applyPatch } from './patch';

export function sqliteSavedScriptRepository(db: SqliteDatabase): SavedScriptRepository {
  const sql = {
    insert: db.prepare(
      `INSERT INTO saved_scripts (script_id, user_id, updated_ms, doc)
       VALUES (@script_id, @user_id, @updated_ms, @doc)`,
    ),
    get: db.prepare<[string], { doc: string }>('SELECT doc FROM saved_scripts WHERE script_id = ?'),
    page: db.prepare<[string, number, number], { doc: string }>(
      `SELECT doc FROM saved_scripts WHERE user_id = ?
       ORDER BY updated_ms DESC, script_id DESC LIMIT ? OFFSET ?`,
    ),
    count: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM saved_scripts WHERE user_id = ?'),
    replace: db.prepare<{ script_id: string; updated_ms: number; doc: string }>(
      'UPDATE saved_scripts SET updated_ms = @updated_ms, doc = @doc WHERE script_id = @script_id',
    ),
    delete: db.prepare<[string, string]>('DELETE FROM saved_scripts WHERE script_id = ? AND user_id = ?'),
    deleteForUser: db.prepare<[string]>('DELETE FROM saved_scripts WHERE user_id = ?'),
  };

  const parse = (found: { doc: string } | undefined) =>
    found ? (JSON.parse(found.doc) as SavedScriptRecord) : null;

  const readPage = db.transaction((userId: string, limit: number, offset: number) => ({
    items: sql.page.all(userId, limit, offset).map((row) => parse(row)!),
    total: sql.count.get(userId)!.n,
  }));

  // Read, merge and write under one write lock, so concurrent changes to one script never interleave.
  const update = db.transaction((userId: string, scriptId: string, patch: object) => {
    const current = parse(sql.get.get(scriptId));
    if (!current || current.user_id !== userId) return null;
    const { script_id: _id, user_id: _user, created_at: _created, ...changes } = patch as SavedScriptRecord;
    const next = applyPatch(current, changes);
    sql.replace.run({
      script_id: scriptId,
      updated_ms: toMillis(next.updated_at),
      doc: JSON.stringify(next),
    });
    return next;
  });

  return {
    async create(script) {
      try {
        sql.insert.run({
          script_id: script.script_id,
          user_id: script.user_id,
          updated_ms: toMillis(script.updated_at),
          doc: JSON.stringify(script),
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
          throw new ConflictError('Saved script already exists', 'script_id');
        throw error;
      }
    },
    async get(scriptId) {
      return parse(sql.get.get(scriptId));
    },
    async list(userId, paging) {
      return readPage(userId, paging.limit, paging.offset);
    },
    async update(userId, scriptId, patch) {
      return update.immediate(userId, scriptId, patch);
    },
    async delete(userId, scriptId) {
      return sql.delete.run(scriptId, userId).changes > 0;
    },
    async deleteForUser(userId) {
      return sql.deleteForUser.run(userId).changes;
    },
  };
}

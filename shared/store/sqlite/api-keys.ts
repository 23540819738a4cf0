import type { ApiKeyRecord } from '../../domain/api-key';
import { type ApiKeyRepository, ConflictError } from '../ports';
import { type SqliteDatabase, toMillis } from './database';

export function sqliteApiKeyRepository(db: SqliteDatabase): ApiKeyRepository {
  const sql = {
    insert: db.prepare(
      `INSERT INTO api_keys (key_id, user_id, key_hash, created_ms, doc)
       VALUES (@key_id, @user_id, @key_hash, @created_ms, @doc)`,
    ),
    byHash: db.prepare<[string], { doc: string }>('SELECT doc FROM api_keys WHERE key_hash = ?'),
    byUser: db.prepare<[string], { doc: string }>(
      'SELECT doc FROM api_keys WHERE user_id = ? ORDER BY created_ms DESC, key_id DESC',
    ),
    touch: db.prepare<{ key_id: string; at: string }>(
      `UPDATE api_keys SET doc = json_set(doc, '$.last_used_at', @at) WHERE key_id = @key_id`,
    ),
    delete: db.prepare<[string, string]>('DELETE FROM api_keys WHERE key_id = ? AND user_id = ?'),
    deleteForUser: db.prepare<[string]>('DELETE FROM api_keys WHERE user_id = ?'),
  };
  const parse = (row: { doc: string }) => JSON.parse(row.doc) as ApiKeyRecord;

  return {
    async create(key) {
      try {
        sql.insert.run({
          key_id: key.key_id,
          user_id: key.user_id,
          key_hash: key.key_hash,
          created_ms: toMillis(key.created_at),
          doc: JSON.stringify(key),
        });
      } catch (error) {
        if (String((error as { code?: string }).code).startsWith('SQLITE_CONSTRAINT'))
          throw new ConflictError('API key already exists', 'key_id');
        throw error;
      }
    },
    async findByHash(keyHash) {
      const row = sql.byHash.get(keyHash);
      return row ? parse(row) : null;
    },
    async listForUser(userId) {
      return sql.byUser.all(userId).map(parse);
    },
    async touch(keyId, at) {
      sql.touch.run({ key_id: keyId, at });
    },
    async delete(userId, keyId) {
      return sql.delete.run(keyId, userId).changes > 0;
    },
    async deleteForUser(userId) {
      return sql.deleteForUser.run(userId).changes;
    },
  };
}

import type { SessionRecord } from '../../domain/user';
import type { SessionRepository } from '../ports';
import { type SqliteDatabase, toMillis } from './database';

export function sqliteSessionRepository(db: SqliteDatabase): SessionRepository {
  const sql = {
    insert: db.prepare(
      'INSERT INTO sessions (token_hash, user_id, expires_ms, doc) VALUES (@token_hash, @user_id, @expires_ms, @doc)',
    ),
    findLive: db.prepare<[string, number], { doc: string }>(
      'SELECT doc FROM sessions WHERE token_hash = ? AND expires_ms > ?',
    ),
    delete: db.prepare<[string]>('DELETE FROM sessions WHERE token_hash = ?'),
    deleteForUser: db.prepare<[string]>('DELETE FROM sessions WHERE user_id = ?'),
  };

  return {
    async create(session) {
      sql.insert.run({
        token_hash: session.token_hash,
        user_id: session.user_id,
        expires_ms: toMillis(session.expires_at),
        doc: JSON.stringify(session),
      });
    },
    async find(tokenHash, now) {
      const found = sql.findLive.get(tokenHash, now.getTime());
      return found ? (JSON.parse(found.doc) as SessionRecord) : null;
    },
    async delete(tokenHash) {
      sql.delete.run(tokenHash);
    },
    async deleteForUser(userId) {
      sql.deleteForUser.run(userId);
    },
  };
}

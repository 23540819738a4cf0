import type { DeadLetter, DeadLetterRepository } from '../ports';
import { type SqliteDatabase, toMillis } from './database';

export function sqliteDeadLetterRepository(db: SqliteDatabase): DeadLetterRepository {
  const sql = {
    insert: db.prepare(
      'INSERT INTO dead_letters (dead_letter_id, created_ms, doc) VALUES (@dead_letter_id, @created_ms, @doc)',
    ),
    get: db.prepare<[string], { doc: string }>('SELECT doc FROM dead_letters WHERE dead_letter_id = ?'),
    page: db.prepare<[number, number], { doc: string }>(
      'SELECT doc FROM dead_letters ORDER BY created_ms DESC, dead_letter_id DESC LIMIT ? OFFSET ?',
    ),
    count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM dead_letters'),
    delete: db.prepare<[string]>('DELETE FROM dead_letters WHERE dead_letter_id = ?'),
  };

  const readPage = db.transaction((limit: number, offset: number) => ({
    items: sql.page.all(limit, offset).map((row) => JSON.parse(row.doc) as DeadLetter),
    total: sql.count.get()!.n,
  }));

  return {
    async add(letter) {
      sql.insert.run({
        dead_letter_id: letter.dead_letter_id,
        created_ms: toMillis(letter.created_at),
        doc: JSON.stringify(letter),
      });
    },
    async list(paging) {
      return readPage(paging.limit, paging.offset);
    },
    async get(deadLetterId) {
      const found = sql.get.get(deadLetterId);
      return found ? (JSON.parse(found.doc) as DeadLetter) : null;
    },
    async delete(deadLetterId) {
      return sql.delete.run(deadLetterId).changes > 0;
    },
  };
}

import type { UserRecord } from '../../domain/user';
import { ConflictError, type UserRepository } from '../ports';
import type { SqliteDatabase } from './database';
import { applyPatch } from './patch';

/** Usernames and emails are unique regardless of letter case. */
const uniqueKey = (value: string): string => value.toLowerCase();

/** Absent filters are bound as NULL and match everyone; `instr` takes the search text literally. */
const LIST_WHERE = `
  WHERE (@search IS NULL OR instr(username_key, @search) > 0 OR instr(email_key, @search) > 0)
    AND (@role IS NULL OR json_extract(doc, '$.role') = @role)
    AND (@isActive IS NULL OR json_extract(doc, '$.is_active') = @isActive)`;

export function sqliteUserRepository(db: SqliteDatabase): UserRepository {
  const sql = {
    insert: db.prepare(
      'INSERT INTO users (user_id, username_key, email_key, doc) VALUES (@user_id, @username_key, @email_key, @doc)',
    ),
    update: db.prepare(
      'UPDATE users SET username_key = @username_key, email_key = @email_key, doc = @doc WHERE user_id = @user_id',
    ),
    byId: db.prepare<[string], { doc: string }>('SELECT doc FROM users WHERE user_id = ?'),
    byUsername: db.prepare<[string], { doc: string }>('SELECT doc FROM users WHERE username_key = ?'),
    otherWithUsername: db.prepare<[string, string], { user_id: string }>(
      'SELECT user_id FROM users WHERE username_key = ? AND user_id <> ?',
    ),
    otherWithEmail: db.prepare<[string, string], { user_id: string }>(
      'SELECT user_id FROM users WHERE email_key = ? AND user_id <> ?',
    ),
    count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users'),
    page: db.prepare<Record<string, unknown>, { doc: string }>(
      `SELECT doc FROM users ${LIST_WHERE} ORDER BY username_key, user_id LIMIT @limit OFFSET @offset`,
    ),
    matching: db.prepare<Record<string, unknown>, { n: number }>(
      `SELECT COUNT(*) AS n FROM users ${LIST_WHERE}`,
    ),
    delete: db.prepare<[string]>('DELETE FROM users WHERE user_id = ?'),
  };

  const row = (user: UserRecord) => ({
    user_id: user.user_id,
    username_key: uniqueKey(user.username),
    email_key: uniqueKey(user.email),
    doc: JSON.stringify(user),
  });

  /** Checked under the write lock, username first, so the reported field is deterministic. */
  const assertAvailable = (user: UserRecord) => {
    if (sql.otherWithUsername.get(uniqueKey(user.username), user.user_id)) {
      throw new ConflictError('Username already registered', 'username');
    }
    if (sql.otherWithEmail.get(uniqueKey(user.email), user.user_id)) {
      throw new ConflictError('Email already registered', 'email');
    }
  };

  const create = db.transaction((user: UserRecord) => {
    if (sql.byId.get(user.user_id)) throw new ConflictError('User already exists', 'user_id');
    assertAvailable(user);
    sql.insert.run(row(user));
  });

  const update = db.transaction((userId: string, patch: Partial<Omit<UserRecord, 'user_id'>>) => {
    const current = sql.byId.get(userId);
    if (!current) return null;
    const next = { ...applyPatch(JSON.parse(current.doc) as UserRecord, patch), user_id: userId };
    assertAvailable(next);
    sql.update.run(row(next));
    return next;
  });

  const parse = (found: { doc: string } | undefined) =>
    found ? (JSON.parse(found.doc) as UserRecord) : null;

  // Items and total from one read transaction, so they agree with each other.
  const readPage = db.transaction((params: Record<string, unknown>, limit: number, offset: number) => ({
    items: sql.page.all({ ...params, limit, offset }).map((found) => parse(found)!),
    total: sql.matching.get(params)!.n,
  }));

  return {
    async create(user) {
      create.immediate(user);
    },
    async findById(userId) {
      return parse(sql.byId.get(userId));
    },
    async findByUsername(username) {
      return parse(sql.byUsername.get(uniqueKey(username)));
    },
    async update(userId, patch) {
      return update.immediate(userId, patch);
    },
    async count() {
      return sql.count.get()!.n;
    },
    async list(filter, paging) {
      const params = {
        search: filter.search ? uniqueKey(filter.search) : null,
        role: filter.role ?? null,
        // JSON booleans read back from json_extract as 1 and 0.
        isActive: filter.isActive === undefined ? null : Number(filter.isActive),
      };
      return readPage(params, paging.limit, paging.offset);
    },
    async delete(userId) {
      return sql.delete.run(userId).changes > 0;
    },
  };
}
